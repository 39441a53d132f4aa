//! The `member-worker` Lambda: SQS batches handled by `clearance::workers::members::apply_member`, with
//! partial batch failures reported (`ReportBatchItemFailures`). Clients are built once
//! here, outside the handler: the table and the queues.

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::members::apply_member(&st, &body).await },
        None,
    )
    .await
}
