//! The queue consumers. Each handles one message body and says whether a failure is
//! worth retrying; [`batch`] turns a Lambda SQS batch into partial batch failures, so
//! one bad message never makes SQS redeliver its neighbours. Every handler is
//! idempotent: SQS delivers at least once. Timer workers also take a scheduled event,
//! on which they sweep the timer index for whatever a lost message left behind.

pub mod attribution;
pub mod close;
pub mod couriers;
pub mod fulfillment;
pub mod groups;
pub mod members;
pub mod refunds;
pub mod timeouts;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use thiserror::Error;

use crate::app::AppState;

pub use fulfillment::fulfill;
pub use groups::expire_group;
pub use refunds::handle_refund;
pub use timeouts::{expire_unpaid, sweep_timers};

#[derive(Debug, Error)]
#[error("{message}")]
pub struct WorkerError {
    pub message: String,
    /// Retry (leave it on the queue, then the DLQ) or drop (it can never succeed).
    pub retryable: bool,
}

impl WorkerError {
    pub fn permanent(message: impl Into<String>) -> Self {
        WorkerError {
            message: message.into(),
            retryable: false,
        }
    }
}

impl From<crate::Error> for WorkerError {
    fn from(e: crate::Error) -> Self {
        WorkerError {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

impl From<crate::queue::QueueError> for WorkerError {
    fn from(e: crate::queue::QueueError) -> Self {
        WorkerError {
            message: e.to_string(),
            retryable: true,
        }
    }
}

/// A scheduled sweep: what a timer worker does when its schedule fires.
pub type Sweep =
    fn(AppState) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, WorkerError>> + Send>>;

/// A message body, or a permanent error: a malformed message never gets better.
pub fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, WorkerError> {
    serde_json::from_str(body)
        .map_err(|e| WorkerError::permanent(format!("malformed message: {e}")))
}

/// Runs a queue-triggered Lambda: each SQS batch goes through `handle`, record by
/// record, with partial batch failures reported (`ReportBatchItemFailures`). With a
/// `sweep`, an EventBridge scheduled event runs it instead (the timer sweepers).
pub async fn serve<F, Fut>(
    state: AppState,
    handle: F,
    sweep: Option<Sweep>,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(AppState, String) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), WorkerError>> + Send,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (state, handle) = (state.clone(), handle.clone());
            async move {
                let payload = event.payload;
                if payload.get("Records").is_some() {
                    let batch_event: SqsEvent = serde_json::from_value(payload)?;
                    let response = batch(batch_event, |body| handle(state.clone(), body)).await;
                    return Ok(serde_json::to_value(response)?);
                }
                let scheduled =
                    payload.get("detail-type").and_then(|v| v.as_str()) == Some("Scheduled Event");
                match sweep {
                    Some(sweep) if scheduled => Ok(sweep(state).await?),
                    _ => Err(lambda_runtime::Error::from(
                        "neither an SQS batch nor a scheduled event this function sweeps on",
                    )),
                }
            }
        },
    ))
    .await
}

/// Runs an SQS-triggered Lambda whose handler takes a whole batch (`(message id, body)`
/// in, the failures out), with partial batch failures reported.
pub async fn serve_batch<F, Fut>(state: AppState, handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(AppState, Vec<(String, String)>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Vec<(String, WorkerError)>> + Send,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
            let (state, handle) = (state.clone(), handle.clone());
            async move {
                let response = batch_at_once(event.payload, |b| handle(state.clone(), b)).await;
                Ok::<SqsBatchResponse, lambda_runtime::Error>(response)
            }
        },
    ))
    .await
}

/// Hands a whole SQS batch to `handle` and reports the failures worth retrying.
pub async fn batch_at_once<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Vec<(String, WorkerError)>>,
{
    let records: Vec<(String, String)> = event
        .records
        .into_iter()
        .map(|r| (r.message_id.unwrap_or_default(), r.body.unwrap_or_default()))
        .collect();
    report(handle(records).await)
}

/// Runs `handle` on every record of an SQS batch and reports the ones to retry.
pub async fn batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        if let Err(e) = handle(record.body.unwrap_or_default()).await {
            failures.push((id, e));
        }
    }
    report(failures)
}

/// The batch response: the failures worth retrying go back to the queue (and to its
/// dead-letter queue after five receives); the rest are logged and dropped.
fn report(failures: Vec<(String, WorkerError)>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (id, e) in failures {
        if e.retryable {
            tracing::warn!(message_id = %id, error = %e, "will retry");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        } else {
            tracing::error!(message_id = %id, error = %e, "dropped: can never succeed");
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;

    fn record(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    }

    #[tokio::test]
    async fn only_retryable_failures_are_reported_back_to_sqs() {
        let mut event = SqsEvent::default();
        event.records = vec![
            record("m-retry", "busy"),
            record("m-bad", "broken"),
            record("m-ok", "fine"),
        ];
        let response = batch(event, |body| async move {
            match body.as_str() {
                "busy" => Err(WorkerError {
                    message: "throttled".into(),
                    retryable: true,
                }),
                "broken" => Err(WorkerError::permanent("malformed")),
                _ => Ok(()),
            }
        })
        .await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["m-retry"]);
    }
}
