//! The `ship-parcels` Lambda: API Gateway HTTP API events, routed by
//! `clearance::api::parcels`. Clients are built once here, outside the handler: the
//! table, the queues (waybills to follow, timers, refunds), the bucket (packing slips)
//! and the courier aggregator (connected on first use, pushes verified with its secret).

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_couriers(clearance::aws::with_blobs(state, &sdk)?)?;
    clearance::http::lambda::run(clearance::api::parcels::router(state)).await
}
