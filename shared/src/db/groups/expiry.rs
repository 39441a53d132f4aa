//! A group at its deadline: failed (every paid member refunded in full through the
//! refund ledger, every unpaid seat cancelled, stock, coupons and limits back) or, by
//! the listing's rule, completed by the store (its paid members dispatched). The
//! group's write comes first and is conditioned on it still being open, so a payment
//! racing the expiry lands either before (and is settled here) or after (and finds the
//! group closed: its money goes back). Every step is idempotent: a second delivery, or
//! a retry after a crash halfway, settles what is left and nothing twice.

use chrono::{DateTime, Utc};

use super::{group_item, member_item, Member};
use crate::db::orders::timeouts::CancelOutcome;
use crate::db::retry::lost_race;
use crate::db::Db;
use crate::domain::group_buy::{GroupBuy, GroupStatus};
use crate::domain::ids::{GroupBuyId, OrderId};
use crate::domain::order::OrderStatus;
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::{n, AttrPath, Condition, TableError};

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

impl Db {
    /// 1 Query (the group and its members) + 1 conditional PutItem (the group), then
    /// per member: 1 GetItem + at most 1 TransactWriteItems. A campaign's close brings
    /// the deadline forward to `close_by`.
    pub async fn expire_group(
        &self,
        t: &Tenant,
        id: &GroupBuyId,
        now: DateTime<Utc>,
        close_by: Option<DateTime<Utc>>,
    ) -> Result<Expired> {
        let mut settled = None;
        for _ in 0..crate::db::retry::ATTEMPTS {
            let (group, members) = self.group(t, id, true).await?;
            if group.status != GroupStatus::Open {
                settled = Some((group, members));
                break;
            }
            let due = close_by.map_or(group.expires_at, |by| by.min(group.expires_at));
            if now < due {
                return Ok(Expired::NotYet(due));
            }
            let mut next = group.clone();
            next.expires_at = due;
            next.expire(now)?;
            let version = Condition::Equals(AttrPath::top("version"), n(group.version as i64));
            match self.table.put(group_item(&next)?, Some(version)).await {
                Ok(()) => {
                    tracing::info!(group = %id, status = ?next.status, paid = next.paid, "group expired");
                    settled = Some((next, members));
                    break;
                }
                Err(TableError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let Some((group, members)) = settled else {
            return Err(TableError::Unavailable("group contended; try again".into()).into());
        };
        let (mut cancelled, mut refunds, mut dispatch) = (0, Vec::new(), Vec::new());
        for m in &members {
            let order = self.order(t, &m.order, true).await?;
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
}
