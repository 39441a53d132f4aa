//! The `guide-posters` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::posters`. Clients are built once here, outside the handler: the
//! table and the bucket. The poster font is read from the bucket by the first poster a
//! container draws, never at init.

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_blobs(clearance::aws::app_state(&sdk)?, &sdk)?;
    clearance::http::lambda::run(clearance::api::posters::router(state)).await
}
