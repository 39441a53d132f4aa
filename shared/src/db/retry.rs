//! Optimistic concurrency, once: read a snapshot, decide, write on condition; when the
//! condition fails because someone else wrote first, read again and decide again.

use std::future::Future;

use crate::error::Result;
use crate::table::TableError;

/// Rounds before giving up with a retryable "contended" error (503 to a caller, a
/// redelivery to a worker).
pub const ATTEMPTS: usize = 6;

/// The outcome of one round.
pub enum Attempt<T> {
    Done(T),
    /// Lost a race: the snapshot is stale, go round again.
    Again,
}

/// Runs `round` until it is done, at most [`ATTEMPTS`] times.
pub async fn optimistic<T, F, Fut>(what: &str, mut round: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>>>,
{
    for _ in 0..ATTEMPTS {
        if let Attempt::Done(t) = round().await? {
            return Ok(t);
        }
    }
    Err(TableError::Unavailable(format!("{what} is contended; try again")).into())
}

/// Whether a failed write lost a race (a condition on what was read no longer holds, or
/// another transaction held the item), rather than failed for good.
pub fn lost_race(e: &TableError) -> bool {
    matches!(
        e,
        TableError::ConditionFailed
            | TableError::TransactionCancelled { .. }
            | TableError::Conflict
    )
}
