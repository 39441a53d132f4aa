//! The refund ledger's use cases: a buyer's request decided by rule ([`request`]), a
//! person's review ([`review`]), the goods back at the counter ([`receive`]), the money
//! asked of the provider once per refund id and its notices ([`money`]), an order
//! cancelled and refunded by the system ([`cancel`]), payments an order could not take
//! ([`unapplied`]).

pub mod cancel;
pub mod money;
pub mod receive;
pub mod request;
pub mod review;
pub mod unapplied;

use crate::app::AppState;
use crate::domain::refund::{Decision, GoodsStatus, MoneyStatus, Refund};
use crate::queue::messages::{delay_until, RefundMessage};

impl AppState {
    /// What follows any write of a refund: money due goes to the refund worker now; a
    /// timer (a review to escalate, a return not sent back, a refused refund to ask
    /// again) goes as a delayed message. Best effort: a failed send is caught by the
    /// sweeper over the timer index, where the refund sits at its next due time.
    pub(crate) async fn announce_refund(&self, refund: &Refund) {
        let now = self.clock.now();
        let mut messages = Vec::new();
        if refund.money == MoneyStatus::Queued {
            messages.push((RefundMessage::now(refund), std::time::Duration::ZERO));
        }
        let timed = refund.goods == GoodsStatus::AwaitingReturn
            || refund.decision == Decision::PendingReview
            || refund.retry_at.is_some();
        if let Some(due) = refund.next_due().filter(|_| timed) {
            messages.push((RefundMessage::at(refund, due), delay_until(due, now)));
        }
        for (msg, delay) in messages {
            if let Err(e) = self.queue.post(&msg, Some(delay)).await {
                tracing::error!(refund = %refund.id, error = %e, "could not queue the refund's next step; the sweeper will");
            }
        }
    }
}
