//! The `group-expiry-worker` Lambda: SQS batches of group deadlines handled by
//! `clearance::workers::expire_group` (partial batch failures reported). Clients are
//! built once here, outside the handler: the table and the queues (refunds of failed
//! groups, fulfillment of store-completed ones).

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::expire_group(&st, &body).await },
        None,
    )
    .await
}
