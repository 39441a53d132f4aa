//! The `place-order` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::orders`. Clients are built once here, outside the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    clearance::telemetry::init();
    let state = clearance::aws::app_state_from_env().await?;
    lambda_http::run(clearance::api::orders::router(state)).await
}
