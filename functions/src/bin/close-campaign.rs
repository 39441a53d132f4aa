//! The `close-campaign` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::close` (close a campaign, read its report). Clients are built once
//! here, outside the handler: the table, the queues (the close's first step) and the
//! bucket (report links).

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_blobs(state, &sdk)?;
    clearance::http::lambda::run(clearance::api::close::router(state)).await
}
