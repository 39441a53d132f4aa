//! A group at its deadline: failed (every paid member refunded in full through the
//! refund ledger, every unpaid seat cancelled, stock, coupons and limits back) or, by
//! the listing's rule, completed by the store (its paid members dispatched). The
//! group's write comes first and is conditioned on it still being open, so a payment
//! racing the expiry lands either before (and is settled here) or after (and finds the
//! group closed: its money goes back). Every step is idempotent: a second delivery, or
//! a retry after a crash halfway, settles what is left and nothing twice.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::cases::orders::timeouts::CancelOutcome;
use crate::db::groups::{group_item, member_item};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::group_buy::Member;
use crate::domain::group_buy::{GroupBuy, GroupStatus};
use crate::domain::ids::{GroupBuyId, OrderId};
use crate::domain::order::OrderStatus;
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::queue::messages::{OrderMessage, RefundMessage};
use crate::table::{n, AttrPath, Condition};

/// What an expiry did.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Expired {
    NotYet(DateTime<Utc>),
    Settled {
        group: GroupBuy,
        cancelled: usize,
        /// Paid members refunded now (their money goes to the refund worker).
        refunds: Vec<Refund>,
        /// Paid members to dispatch (a store-completed or formed group).
        dispatch: Vec<OrderId>,
    },
}

impl AppState {
    /// 1 Query (the group and its members) + 1 conditional PutItem (the group), then
    /// per member: 1 GetItem + at most 1 TransactWriteItems. A campaign's close brings
    /// the deadline forward to `close_by`.
    async fn expire_group(
        &self,
        t: &Tenant,
        id: &GroupBuyId,
        now: DateTime<Utc>,
        close_by: Option<DateTime<Utc>>,
    ) -> Result<Expired> {
        // The group first, on condition it is as read: a payment racing the expiry
        // lands before (settled here) or after (finds it closed: its money goes back).
        let settled = optimistic("this group", || async {
            let (group, members) = self.db.group(t, id, true).await?;
            if group.status != GroupStatus::Open {
                return Ok(Attempt::Done(Ok((group, members))));
            }
            let due = close_by.map_or(group.expires_at, |by| by.min(group.expires_at));
            if now < due {
                return Ok(Attempt::Done(Err(due)));
            }
            let mut next = group.clone();
            next.expires_at = due;
            next.expire(now)?;
            let version = Condition::Equals(AttrPath::top("version"), n(group.version as i64));
            match self.db.table().put(group_item(&next)?, Some(version)).await {
                Ok(()) => {
                    tracing::info!(group = %id, status = ?next.status, paid = next.paid, "group expired");
                    Ok(Attempt::Done(Ok((next, members))))
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        let (group, members) = match settled {
            Ok(settled) => settled,
            Err(due) => return Ok(Expired::NotYet(due)),
        };
        let (mut cancelled, mut refunds, mut dispatch) = (0, Vec::new(), Vec::new());
        for m in &members {
            let order = self.db.order(t, &m.order, true).await?;
            match (group.status, order.status) {
                (_, OrderStatus::AwaitingPayment) => {
                    let why = "the group closed before this seat was paid";
                    if let CancelOutcome::Cancelled(_) =
                        self.cancel_order(t, &m.order, now, why, true).await?
                    {
                        cancelled += 1;
                    }
                }
                (GroupStatus::Failed, OrderStatus::Paid) => {
                    if let Some(r) = self.refund_failed_member(&order, m, now).await? {
                        refunds.push(r);
                    }
                }
                (GroupStatus::Formed | GroupStatus::StoreCompleted, OrderStatus::Paid) => {
                    dispatch.push(order.id.clone());
                }
                _ => {}
            }
        }
        Ok(Expired::Settled {
            group,
            cancelled,
            refunds,
            dispatch,
        })
    }

    /// A paid member of a failed group: the order cancelled and refunded in full
    /// through the ledger, everything it held given back, the seat marked refunded.
    /// 1 TransactWriteItems; None when it was settled already.
    async fn refund_failed_member(
        &self,
        order: &crate::domain::order::Order,
        member: &Member,
        now: DateTime<Utc>,
    ) -> Result<Option<Refund>> {
        let mut seat = member.clone();
        seat.refunded = true;
        match self
            .cancel_and_refund(
                order,
                "the group did not form in time",
                Some(member_item(&seat)?),
                now,
            )
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(crate::Error::Store(e)) if lost_race(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Settles a group at `now` (or at a close's `close_by`) and sends what follows:
    /// the refunds of a failed group's paid members, a completed group's orders to
    /// fulfillment. A message not sent is an error: the redelivery settles nothing twice
    /// and sends again.
    pub async fn settle_group(
        &self,
        t: &Tenant,
        id: &GroupBuyId,
        now: DateTime<Utc>,
        close_by: Option<DateTime<Utc>>,
    ) -> Result<Expired> {
        let expired = self.expire_group(t, id, now, close_by).await?;
        if let Expired::Settled {
            group,
            cancelled,
            refunds,
            dispatch,
        } = &expired
        {
            for r in refunds {
                self.queue.post(&RefundMessage::now(r), None).await?;
            }
            for order in dispatch {
                self.queue
                    .post(&OrderMessage::dispatch(t, order), None)
                    .await?;
            }
            tracing::info!(group = %group.id, status = ?group.status, cancelled, refunded = refunds.len(), "group settled");
        }
        Ok(expired)
    }
}
