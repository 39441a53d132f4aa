//! The SQS consumers. Each handles one message body and says whether a failure is worth
//! retrying; [`batch`] turns a Lambda SQS batch into partial batch failures, so one bad
//! message never makes SQS redeliver its neighbours. Every handler is idempotent:
//! SQS delivers at least once.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;
use thiserror::Error;

use crate::api::AppState;
use crate::domain::ids::OrderId;
use crate::domain::money::Fen;
use crate::domain::tenancy::Tenant;
use crate::queue::{QueueName, MAX_DELAY};
use crate::store::orders::{CancelOutcome, DispatchOutcome};

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

fn tenant(s: &str) -> Result<Tenant, WorkerError> {
    Tenant::parse_scoped(s).map_err(|e| WorkerError::permanent(e.to_string()))
}

/// A paid order to dispatch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderMessage {
    pub tenant: String,
    pub order: OrderId,
}

/// Check an unpaid order at its payment deadline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeoutMessage {
    pub tenant: String,
    pub order: OrderId,
    pub deadline: DateTime<Utc>,
}

/// Money to give back (consumed by the refund worker).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundMessage {
    pub tenant: String,
    pub order: OrderId,
    pub amount_fen: Fen,
    pub payment_ref: String,
    pub reason: String,
}

macro_rules! to_json {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn to_json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    )*};
}
to_json!(OrderMessage, TimeoutMessage, RefundMessage);

/// The SQS delay that brings a message back at `at` (or as close as SQS allows).
pub fn delay_until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or_default().min(MAX_DELAY)
}

/// Dispatches a paid order to a store. A duplicate delivery finds it dispatched already.
pub async fn fulfill(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: OrderMessage = parse(body)?;
    let t = tenant(&msg.tenant)?;
    match st.store.dispatch(&t, &msg.order, st.clock.now()).await? {
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
    let t = tenant(&msg.tenant)?;
    let now = st.clock.now();
    match st.store.cancel_unpaid(&t, &msg.order, now).await? {
        CancelOutcome::Cancelled(o) => {
            tracing::info!(order = %o.id, "unpaid order cancelled; stock, coupons and limits returned");
            Ok(())
        }
        CancelOutcome::NotYet(deadline) => {
            let again = TimeoutMessage { deadline, ..msg };
            st.queue
                .send(
                    QueueName::OrderTimeouts,
                    &again.to_json(),
                    Some(delay_until(deadline, now)),
                )
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
