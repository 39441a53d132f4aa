//! The `close-worker` Lambda: SQS batches of close steps handled by
//! `clearance::workers::close::step_close` (a page of a campaign's close each, partial
//! batch failures reported), and the EventBridge schedule that closes campaigns at
//! their end and re-sends any close step whose message was lost. Clients are built once
//! here, outside the handler: the table, the queues and the bucket (running counts and
//! reports).

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_blobs(state, &sdk)?;
    clearance::workers::serve(
        state,
        |st, body| async move { clearance::workers::close::step_close(&st, &body).await },
        Some(|st| Box::pin(async move { clearance::workers::close::sweep_campaigns(&st).await })),
    )
    .await
}
