//! The `order-timeout-worker` Lambda: SQS batches of payment timeouts handled by
//! `clearance::workers::expire_unpaid` (partial batch failures reported), and the
//! EventBridge schedule that sweeps the timer index for unpaid orders whose message was
//! lost; shipped parcels' timers (a silent parcel's track asked of the courier
//! aggregator before a person is called). Clients are built once here, outside the
//! handler: the table, the queues and the courier aggregator (connected on first use).

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_couriers(state)?;
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::expire_unpaid(&st, &body).await },
        Some(|st| Box::pin(async move { clearance::workers::sweep_timers(&st).await })),
    )
    .await
}
