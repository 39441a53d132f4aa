//! The in-process queue: delays and visibility timeouts as SQS has them, so a message
//! that is received and not acked comes back, as it would in production.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

use super::{Message, Queue, QueueConsumer, QueueError, QueueName};

pub const VISIBILITY: Duration = Duration::from_secs(30);

struct Entry {
    message: Message,
    visible_at: Instant,
}

#[derive(Default)]
pub struct MemoryQueue {
    queues: Mutex<HashMap<QueueName, Vec<Entry>>>,
    next: Mutex<u64>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends the visibility timeout of every message received and not acked, as if it
    /// had run out (tests use it to redeliver at once). Whether there was any.
    pub async fn redeliver_now(&self) -> bool {
        let now = Instant::now();
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let mut any = false;
        for e in queues.values_mut().flatten() {
            // A receipt other than the id marks a message received at least once.
            if e.message.receipt != e.message.id && e.visible_at > now {
                e.visible_at = now;
                any = true;
            }
        }
        any
    }

    fn id(&self) -> u64 {
        let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        *n
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(
        &self,
        queue: QueueName,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<(), QueueError> {
        let delay = super::checked_delay(delay)?;
        let id = format!("m-{}", self.id());
        let message = Message {
            id: id.clone(),
            body: body.to_owned(),
            receipt: id,
        };
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        queues.entry(queue).or_default().push(Entry {
            message,
            visible_at: Instant::now() + delay,
        });
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for MemoryQueue {
    async fn receive(&self, queue: QueueName, max: u32) -> Result<Vec<Message>, QueueError> {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entries) = queues.get_mut(&queue) {
            for e in entries
                .iter_mut()
                .filter(|e| e.visible_at <= now)
                .take(max as usize)
            {
                // Each receive gets a fresh receipt, as in SQS; only the latest acks.
                e.message.receipt = format!("{}#{}", e.message.id, self.id());
                e.visible_at = now + VISIBILITY;
                out.push(e.message.clone());
            }
        }
        Ok(out)
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entries) = queues.get_mut(&queue) {
            entries.retain(|e| e.message.receipt != receipt);
        }
        Ok(())
    }
}
