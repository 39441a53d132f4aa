//! The `refund-worker` Lambda: SQS batches of refund steps handled by
//! `clearance::workers::handle_refund` (partial batch failures reported). Clients are
//! built once here, outside the handler: the table, the queues, and the payment
//! provider's refund API (the only function that may ask for money back).

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_refund_api(state)?;
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::handle_refund(&st, &body).await },
        None,
    )
    .await
}
