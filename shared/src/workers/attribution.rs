//! The attribution worker: a batch of order events (paid, refunded) and confirmation
//! checks folded at once into each sale's commission ledger and the sharded guide and
//! store counters (`db::attribution::apply`). Counting the whole batch in one
//! transaction is what keeps a hot guide's counters from taking a write per order.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::queue::messages::AttributionMessage;

/// Handles one batch: `(message id, body)` in, the messages to retry out. A malformed
/// message is dropped (logged); the rest succeed or fail together.
pub async fn attribute(st: &AppState, batch: Vec<(String, String)>) -> Vec<(String, WorkerError)> {
    let mut ids = Vec::new();
    let mut messages = Vec::new();
    let mut failed = Vec::new();
    for (id, body) in batch {
        match parse::<AttributionMessage>(&body) {
            Ok(m) => {
                ids.push(id);
                messages.push(m);
            }
            Err(e) => failed.push((id, e)),
        }
    }
    if messages.is_empty() {
        return failed;
    }
    match st.apply_attribution(&messages, st.clock.now()).await {
        Ok(done) => {
            tracing::info!(
                applied = done.applied,
                duplicates = done.duplicates,
                uncredited = done.uncredited,
                confirmed = done.confirmed,
                writes = done.writes,
                "attribution batch"
            );
        }
        Err(e) => {
            let retryable = e.is_retryable();
            let message = e.to_string();
            for id in ids {
                failed.push((
                    id,
                    WorkerError {
                        message: message.clone(),
                        retryable,
                    },
                ));
            }
        }
    }
    failed
}
