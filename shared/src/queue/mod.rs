//! The Queue port: SQS in production ([`sqs::SqsQueue`]), an in-process queue locally
//! ([`memory::MemoryQueue`]). Both deliver at least once: consumers must be idempotent.

pub mod memory;
pub mod messages;
pub mod sqs;

use async_trait::async_trait;
use std::time::Duration;
use thiserror::Error;

/// The asynchronous steps, one queue each (each with a dead-letter queue in `infra/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    Fulfillment,
    Refunds,
    OrderTimeouts,
    GroupExpiry,
    Attribution,
    CloseCampaign,
    Members,
    Couriers,
}

impl QueueName {
    pub const ALL: [QueueName; 8] = [
        QueueName::Fulfillment,
        QueueName::Refunds,
        QueueName::OrderTimeouts,
        QueueName::GroupExpiry,
        QueueName::Attribution,
        QueueName::CloseCampaign,
        QueueName::Members,
        QueueName::Couriers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Fulfillment => "fulfillment",
            QueueName::Refunds => "refunds",
            QueueName::OrderTimeouts => "order-timeouts",
            QueueName::GroupExpiry => "group-expiry",
            QueueName::Attribution => "attribution",
            QueueName::CloseCampaign => "close-campaign",
            QueueName::Members => "members",
            QueueName::Couriers => "couriers",
        }
    }

    /// The environment variable holding this queue's URL, e.g. `FULFILLMENT_QUEUE_URL`.
    pub fn env_var(self) -> String {
        format!(
            "{}_QUEUE_URL",
            self.as_str().to_uppercase().replace('-', "_")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: String,
    /// Hands the message back to [`QueueConsumer::ack`].
    pub receipt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueError {
    #[error("queue {0} is not configured")]
    NotConfigured(&'static str),
    #[error("delay of {0:?} is longer than SQS allows (15 minutes)")]
    DelayTooLong(Duration),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Longest delay SQS supports on a message.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// The delay to send with, refused beyond what SQS allows (both adapters agree).
pub fn checked_delay(delay: Option<Duration>) -> Result<Duration, QueueError> {
    let delay = delay.unwrap_or_default();
    if delay > MAX_DELAY {
        return Err(QueueError::DelayTooLong(delay));
    }
    Ok(delay)
}

/// What handlers and workers need: sending. In AWS, Lambda's SQS trigger does the
/// receiving, so a function links no receive code.
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(
        &self,
        queue: QueueName,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<(), QueueError>;
}

/// Receiving, for the local server's in-process consumers and for tests.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages; each stays hidden until acked or its visibility ends.
    async fn receive(&self, queue: QueueName, max: u32) -> Result<Vec<Message>, QueueError>;
    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;
}

/// The queue of a function that sends nothing: every call says so.
pub struct Unconfigured;

#[async_trait]
impl Queue for Unconfigured {
    async fn send(
        &self,
        queue: QueueName,
        _body: &str,
        _delay: Option<Duration>,
    ) -> Result<(), QueueError> {
        Err(QueueError::NotConfigured(queue.as_str()))
    }
}
