//! The `member-center` Lambda: API Gateway HTTP API events, routed by `clearance::api::members`.
//! Clients are built once here, outside the handler: the table, the queues (an
//! assist's expiry timer), the CRM (connected on first use) and the phone vault from
//! the stack's secret.

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    let state = clearance::aws::with_membership(state)?;
    clearance::http::lambda::run(clearance::api::members::router(state)).await
}
