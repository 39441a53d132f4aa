//! The `courier-worker` Lambda: SQS batches of waybills to follow, handled by
//! `clearance::workers::couriers::follow_waybill` (partial batch failures reported).
//! Clients are built once here, outside the handler: the courier aggregator (connected
//! on first use).

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_couriers(clearance::aws::app_state(&sdk)?)?;
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::couriers::follow_waybill(&st, &body).await },
        None,
    )
    .await
}
