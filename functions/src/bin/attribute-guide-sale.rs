//! The `attribute-guide-sale` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::attribution` (share links, performance, leaderboards). Clients are
//! built once here, outside the handler: the table only.

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::app_state(&sdk)?;
    clearance::http::lambda::run(clearance::api::attribution::router(state)).await
}
