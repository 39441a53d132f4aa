//! Unpaid orders at their payment deadline (the delayed message), and the sweeper over
//! every timer.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::orders::timeouts::CancelOutcome;
use crate::domain::tenancy::Due;
use crate::queue::messages::{
    delay_until, AttributionMessage, GroupMessage, RefundMessage, TimeoutMessage,
};

/// At most this many due timers per sweep; a schedule every 5 minutes clears far more
/// than lost messages leave.
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

/// The scheduled sweep behind every delayed message: each timer due in the timer
/// index, in every tenant, is acted on however its message was lost: an unpaid order
/// past its deadline is cancelled here, a refund's step is handed to the refund worker,
/// an expired group to the group-expiry worker.
pub async fn sweep_timers(st: &AppState) -> Result<serde_json::Value, WorkerError> {
    let now = st.clock.now();
    let due = st.db.due_timers(now, SWEEP_MAX).await?;
    let (mut cancelled, mut refunds, mut groups, mut confirmations) = (0, 0, 0, 0);
    for d in &due {
        match d {
            Due::UnpaidOrder(t, id) => {
                if let CancelOutcome::Cancelled(_) = st.db.cancel_unpaid(t, id, now).await? {
                    cancelled += 1;
                }
            }
            Due::GroupExpiry(t, id) => {
                let msg = GroupMessage {
                    tenant: t.clone(),
                    group: id.clone(),
                    due: None,
                };
                st.queue.post(&msg, None).await?;
                groups += 1;
            }
            Due::SaleConfirmation(t, order) => {
                let msg = AttributionMessage::Confirm {
                    tenant: t.clone(),
                    order: order.clone(),
                };
                st.queue.post(&msg, None).await?;
                confirmations += 1;
            }
            // The close worker's own sweep takes these.
            Due::Campaign(..) => {}
            Due::Refund(t, id) => {
                let msg = RefundMessage {
                    tenant: t.clone(),
                    refund: id.clone(),
                    due: None,
                };
                st.queue.post(&msg, None).await?;
                refunds += 1;
            }
        }
    }
    if cancelled > 0 {
        tracing::warn!(
            cancelled,
            "sweeper cancelled unpaid orders whose timeout message was lost"
        );
    }
    Ok(
        serde_json::json!({"due": due.len(), "cancelled": cancelled, "refunds": refunds, "groups": groups, "confirmations": confirmations}),
    )
}
