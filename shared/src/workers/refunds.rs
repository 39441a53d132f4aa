//! The refund worker: decodes a message and moves its refund on
//! ([`crate::cases::refunds::money`]). A timer message (`due` set) still early is
//! re-sent for the rest of its wait (SQS delays stop at 15 minutes) without reading
//! anything.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::payments::PaymentError;
use crate::queue::messages::{delay_until, RefundMessage};

impl From<PaymentError> for WorkerError {
    fn from(e: PaymentError) -> Self {
        WorkerError {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// Handles one message of the refunds queue.
pub async fn handle_refund(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: RefundMessage = parse(body)?;
    let now = st.clock.now();
    if let Some(due) = msg.due.filter(|d| *d > now) {
        // Still early: the rest of the wait, in SQS-sized hops.
        st.queue.post(&msg, Some(delay_until(due, now))).await?;
        return Ok(());
    }
    st.move_refund(&msg.tenant, &msg.refund, now).await?;
    Ok(())
}
