//! The `member-center` Lambda: API Gateway HTTP API events, routed by `clearance::api::members`.
//! Clients are built once here, outside the handler: the table, the CRM (connected on
//! first use) and the phone vault from the stack's secret.

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_membership(clearance::aws::app_state(&sdk)?)?;
    clearance::http::lambda::run(clearance::api::members::router(state)).await
}
