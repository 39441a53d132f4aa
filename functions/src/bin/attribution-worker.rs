//! The `attribution-worker` Lambda: SQS batches of order events folded at once into
//! the commission ledger and the sharded counters by `clearance::workers::attribution`
//! (partial batch failures reported). Clients are built once here, outside the
//! handler: the table only.

// One batch at a time per instance: a single-threaded runtime starts faster and links
// no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::app_state(&sdk)?;
    clearance::workers::serve_batch(state, |st, batch| async move {
        clearance::workers::attribution::attribute(&st, batch).await
    })
    .await
}
