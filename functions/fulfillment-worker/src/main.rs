//! The `fulfillment-worker` Lambda: SQS batches handled by `clearance::workers::fulfill`, with
//! partial batch failures reported (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

// One request at a time per instance: a single-threaded runtime starts faster and
// links no work-stealing scheduler.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    clearance::telemetry::init();
    let sdk = clearance::aws::sdk_config_from_env();
    let state = clearance::aws::with_queue(clearance::aws::app_state(&sdk)?, &sdk);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let state = state.clone();
        async move {
            let response: SqsBatchResponse = clearance::workers::batch(event.payload, |body| {
                let state = state.clone();
                async move { clearance::workers::fulfill(&state, &body).await }
            })
            .await;
            Ok::<_, Error>(response)
        }
    }))
    .await
}
