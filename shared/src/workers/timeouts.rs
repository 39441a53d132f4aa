//! Unpaid orders at their payment deadline: the delayed message, and the sweeper.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::orders::timeouts::CancelOutcome;
use crate::queue::messages::{delay_until, TimeoutMessage};

/// At most this many due orders per sweep; a schedule every 5 minutes clears far more
/// than a lost message leaves.
pub const SWEEP_MAX: usize = 2_000;

/// Cancels an order still unpaid at its deadline; before the deadline (SQS delays are
/// at most 15 minutes) it puts the message back for the rest of the wait.
pub async fn expire_unpaid(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: TimeoutMessage = parse(body)?;
    let now = st.clock.now();
    match st.db.cancel_unpaid(&msg.tenant, &msg.order, now).await? {
        CancelOutcome::Cancelled(o) => {
            tracing::info!(order = %o.id, "unpaid order cancelled; stock, coupons and limits returned");
        }
        CancelOutcome::NotYet(deadline) => {
            let again = TimeoutMessage { deadline, ..msg };
            st.queue
                .post(&again, Some(delay_until(deadline, now)))
                .await?;
        }
        CancelOutcome::NothingToDo(_) => {}
    }
    Ok(())
}

/// The scheduled sweep behind the messages: every unpaid order past its deadline, in
/// every tenant, is cancelled (however its message was lost).
pub async fn sweep_unpaid(st: &AppState) -> Result<serde_json::Value, WorkerError> {
    let swept = st.db.sweep_unpaid(st.clock.now(), SWEEP_MAX).await?;
    if swept.cancelled > 0 {
        tracing::warn!(
            cancelled = swept.cancelled,
            "sweeper cancelled unpaid orders whose timeout message was lost"
        );
    }
    Ok(serde_json::json!({"due": swept.due, "cancelled": swept.cancelled}))
}
