//! Moving a refund on: its timers (escalation, a return not sent back, a refused refund
//! asked again) and its money, whatever woke it (the refund worker's message, the
//! provider's signed notice, a person's retry). Each step is one conditional write on
//! the refund (and its order, when a closed return gives units back).
//!
//! - Queued money is asked of the provider under the refund's own id (so a duplicate
//!   delivery, a second worker, or a retry after a crash between the provider's answer
//!   and our write asks again under the same id, and the provider pays it once), then
//!   recorded as submitted; a submitted refund's result is read from the provider.
//! - A refund the provider paid is announced (`refunded`, with its units and amounts)
//!   in the same transaction that records it as paid (the outbox,
//!   [`crate::db::outbox`]): announced exactly when it is recorded. The provider's
//!   notice settles a refund through the same step ([`AppState::settle_by_notice`]).
//! - A refund the provider refuses is asked again after a backoff (5 minutes, 30, 3
//!   hours: [`crate::domain::refund::retry_backoff`]); after
//!   [`AUTO_ATTEMPTS`] it waits on the staff list for a person's retry.
//! - Then its next timer, if any, is sent as a delayed message; the sweeper over the
//!   timer index is behind every one of them.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::cases::publish::publish;
use crate::db::orders::order_item;
use crate::db::refunds::{refund_item, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::ids::RefundId;
use crate::domain::money::Fen;
use crate::domain::refund::{release_from_order, MoneyStatus, Refund, AUTO_ATTEMPTS};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::payments::{PaymentError, RefundState};
use crate::queue::messages::{delay_until, OrderEvent, RefundMessage};
use crate::table::Write;

/// The outcome of one conditional write of a refund.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    Saved(Refund),
    /// Someone else wrote it first: read it again.
    Stale,
}

impl AppState {
    /// Writes `next` over `current`; when `next` no longer holds its units (closed
    /// unreturned, rejected) and `current` did, its order gets them back in the same
    /// transaction. 1 PutItem, or 1 BatchGetItem + 1 TransactWriteItems.
    pub async fn advance_refund(
        &self,
        t: &Tenant,
        current: &Refund,
        next: Refund,
    ) -> Result<Saved> {
        let releases = next.released() && !current.released();
        let pays = next.money == MoneyStatus::Succeeded && current.money != MoneyStatus::Succeeded;
        let result = if releases || pays {
            let (_, order) = self.refund_and_order(t, &current.id).await?;
            let mut writes = vec![Write::Put {
                item: refund_item(&next)?,
                condition: Some(version_is(current.version)),
            }];
            if releases {
                let mut o = order.clone();
                release_from_order(&mut o, &next);
                writes.push(Write::Put {
                    item: order_item(&o)?,
                    condition: Some(version_is(order.version)),
                });
            }
            // The refund's event, published with the refund recorded as paid.
            if let Some(event) = pays
                .then(|| OrderEvent::refunded(&order, &next, self.clock.now()))
                .flatten()
            {
                writes.push(publish(&event)?);
            }
            self.db.table().transact(writes).await
        } else {
            self.db.save_refund(&next, current.version).await
        };
        match result {
            Ok(()) => Ok(Saved::Saved(next)),
            Err(e) if lost_race(&e) => Ok(Saved::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// A person asks the provider again for a refund it refused (same refund id).
    /// 1 GetItem + 1 conditional PutItem.
    pub async fn retry_refund(
        &self,
        t: &Tenant,
        id: &RefundId,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        optimistic("this refund", || async {
            let current = self.db.refund(t, id, true).await?;
            let mut next = current.clone();
            next.retry(now)?;
            match self.db.save_refund(&next, current.version).await {
                Ok(()) => {
                    self.announce_refund(&next).await;
                    Ok(Attempt::Done(next))
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Moves a refund on as far as it goes at `now`, then sends its next timer.
    /// Returns it as it was left.
    pub async fn move_refund(
        &self,
        t: &Tenant,
        id: &RefundId,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        let refund = optimistic("this refund", || async {
            let current = self.db.refund(t, id, true).await?;
            let mut next = current.clone();
            if next.on_timer(now) {
                if let Saved::Saved(_) = self.advance_refund(t, &current, next).await? {
                    tracing::info!(refund = %id, escalated = current.escalated, goods = ?current.goods, money = ?current.money, "refund timer fired");
                }
                return Ok(Attempt::Again);
            }
            match current.money {
                MoneyStatus::Queued => {
                    match self
                        .payments
                        .refund(&current.id, &current.payment_ref, current.amount_fen)
                        .await
                    {
                        Ok(()) => next.submitted(now),
                        Err(PaymentError::Refused(why)) => {
                            refused(&current, &why);
                            next.refused(now);
                        }
                        Err(e) => return Err(e.into()),
                    }
                    self.advance_refund(t, &current, next).await?;
                    Ok(Attempt::Again)
                }
                MoneyStatus::Submitted => match self.payments.refund_state(&current.id).await? {
                    RefundState::Succeeded => {
                        next.succeeded(now);
                        if let Saved::Saved(_) = self.advance_refund(t, &current, next).await? {
                            tracing::info!(refund = %id, amount_fen = current.amount_fen.get(), "refunded");
                        }
                        Ok(Attempt::Again)
                    }
                    RefundState::Failed(why) => {
                        refused(&current, &why);
                        next.refused(now);
                        self.advance_refund(t, &current, next).await?;
                        Ok(Attempt::Again)
                    }
                    // Not settled yet: its notice, or the money timer, comes back to it.
                    RefundState::Pending | RefundState::Unknown => Ok(Attempt::Done(current)),
                },
                _ => Ok(Attempt::Done(current)),
            }
        })
        .await?;
        if let Some(due) = refund.next_due().filter(|d| *d > now) {
            self.queue
                .post(
                    &RefundMessage::at(&refund, due),
                    Some(delay_until(due, now)),
                )
                .await?;
        }
        Ok(refund)
    }

    /// The provider's signed word on a refund it was asked for: settled exactly as the
    /// worker settles it (a success announced before it is recorded). A notice for a
    /// refund the provider was never asked for, or for another amount, is refused.
    /// Returns the refund as it stands, and whether the notice changed it.
    pub async fn settle_by_notice(
        &self,
        t: &Tenant,
        id: &RefundId,
        succeeded: bool,
        amount: Fen,
        now: DateTime<Utc>,
    ) -> Result<(Refund, bool)> {
        let settled = optimistic("this refund", || async {
            let current = self.db.refund(t, id, true).await?;
            let mut next = current.clone();
            if !next.on_notice(succeeded, amount, now)? {
                return Ok(Attempt::Done((current, false)));
            }
            Ok(match self.advance_refund(t, &current, next).await? {
                Saved::Saved(r) => Attempt::Done((r, true)),
                Saved::Stale => Attempt::Again,
            })
        })
        .await?;
        if settled.1 {
            tracing::info!(refund = %settled.0.id, money = ?settled.0.money, "refund settled by the provider's notice");
            // A refusal is asked again later: its timer.
            self.announce_refund(&settled.0).await;
        }
        Ok(settled)
    }
}

fn refused(r: &Refund, why: &str) {
    if r.attempts + 1 < AUTO_ATTEMPTS {
        tracing::warn!(refund = %r.id, reason = %why, attempt = r.attempts + 1, "the provider refused the refund: asked again later");
    } else {
        tracing::error!(refund = %r.id, reason = %why, attempts = r.attempts + 1, "the provider refused the refund: listed for a person");
    }
}
