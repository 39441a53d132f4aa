//! The `store-visits` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::visits` (pickup appointments). Clients are built once here, outside
//! the handler: the table and the order-timeout queue (a booked slot's end is the
//! order's next timer).

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    clearance::http::lambda::run(clearance::api::visits::router(state)).await
}
