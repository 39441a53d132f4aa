//! The SQS consumers. Each handles one message body and says whether a failure is worth
//! retrying; [`batch`] turns a Lambda SQS batch into partial batch failures, so one bad
//! message never makes SQS redeliver its neighbours. Every handler is idempotent:
//! SQS delivers at least once.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use std::future::Future;
use thiserror::Error;

use crate::app::AppState;
use crate::db::orders::{CancelOutcome, DispatchOutcome};
use crate::queue::messages::{delay_until, OrderMessage, TimeoutMessage};

#[derive(Debug, Error)]
#[error("{message}")]
pub struct WorkerError {
    pub message: String,
    /// Retry (leave it on the queue, then the DLQ) or drop (it can never succeed).
    pub retryable: bool,
}

impl WorkerError {
    fn permanent(message: impl Into<String>) -> Self {
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

fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, WorkerError> {
    serde_json::from_str(body)
        .map_err(|e| WorkerError::permanent(format!("malformed message: {e}")))
}

/// Dispatches a paid order to a store. A duplicate delivery finds it dispatched already.
pub async fn fulfill(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: OrderMessage = parse(body)?;
    let t = &msg.tenant;
    match st.db.dispatch(t, &msg.order, st.clock.now()).await? {
        DispatchOutcome::Dispatched(o) => {
            tracing::info!(order = %o.id, status = ?o.status, "dispatched");
            Ok(())
        }
        DispatchOutcome::NothingToDo(status) => {
            tracing::info!(order = %msg.order, ?status, "nothing to dispatch");
            Ok(())
        }
        // Retried, then the DLQ: a person moves stock between stores.
        DispatchOutcome::NoStoreHolds(sku) => Err(WorkerError {
            message: format!("no single store holds {sku} for order {}", msg.order),
            retryable: true,
        }),
    }
}

/// Cancels an order still unpaid at its deadline; before the deadline (SQS delays are
/// at most 15 minutes) it puts the message back for the rest of the wait.
pub async fn expire_unpaid(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: TimeoutMessage = parse(body)?;
    let t = &msg.tenant;
    let now = st.clock.now();
    match st.db.cancel_unpaid(t, &msg.order, now).await? {
        CancelOutcome::Cancelled(o) => {
            tracing::info!(order = %o.id, "unpaid order cancelled; stock, coupons and limits returned");
            Ok(())
        }
        CancelOutcome::NotYet(deadline) => {
            let again = TimeoutMessage { deadline, ..msg };
            st.queue
                .post(&again, Some(delay_until(deadline, now)))
                .await?;
            Ok(())
        }
        CancelOutcome::NothingToDo(_) => Ok(()),
    }
}

/// Runs an SQS-triggered Lambda: each batch goes through `handle`, record by record,
/// with partial batch failures reported (`ReportBatchItemFailures`).
pub async fn serve<F, Fut>(state: AppState, handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(AppState, String) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), WorkerError>> + Send,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
            let (state, handle) = (state.clone(), handle.clone());
            async move {
                let response = batch(event.payload, |body| handle(state.clone(), body)).await;
                Ok::<SqsBatchResponse, lambda_runtime::Error>(response)
            }
        },
    ))
    .await
}

/// Runs `handle` on every record of an SQS batch and reports the ones to retry.
pub async fn batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        match handle(body).await {
            Ok(()) => {}
            Err(e) if e.retryable => {
                tracing::warn!(message_id = %id, error = %e, "will retry");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            Err(e) => tracing::error!(message_id = %id, error = %e, "dropped: can never succeed"),
        }
    }
    response
}
