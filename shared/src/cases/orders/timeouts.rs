//! Unpaid orders at their payment deadline: cancelled, and everything they held given
//! back. Reached by the delayed timeout message, and by the sweeper over the timer
//! index (GSI3, `db::timers`) behind it, so a lost message costs minutes, not stock.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::cases::orders::pickup_window::PickupTimer;
use crate::db::groups::{group_key, member_key};
use crate::db::orders::{order_item, release_writes, version_is};
use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::{AttrPath, Condition, Update};
use crate::table::{TableError, Write};

// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Cancelled(crate::domain::order::Order),
    NotYet(DateTime<Utc>),
    NothingToDo(OrderStatus),
}

impl AppState {
    /// Cancels an unpaid order whose window has passed and puts back exactly what it
    /// took: stock to its shards, the coupons, the purchase-limit units.
    /// 1 GetItem + 1 TransactWriteItems; a no-op when already paid or cancelled.
    pub async fn cancel_unpaid(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome> {
        self.cancel_order(t, id, now, "payment window passed", false)
            .await
    }

    /// Cancels an unpaid order now, its deadline or not (its group expired): everything
    /// it held given back. 1 GetItem + 1 TransactWriteItems.
    pub(crate) async fn cancel_order(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
        why: &str,
        before_deadline: bool,
    ) -> Result<CancelOutcome> {
        let current = self.db.order(t, id, true).await?;
        if current.status != OrderStatus::AwaitingPayment {
            return Ok(CancelOutcome::NothingToDo(current.status));
        }
        if !before_deadline && !current.payment_expired(now) {
            return Ok(CancelOutcome::NotYet(current.payment_deadline));
        }
        let mut order = current.clone();
        order.cancel(now, why)?;
        let mut writes = vec![Write::Put {
            item: order_item(&order)?,
            condition: Some(version_is(current.version)),
        }];
        writes.extend(release_writes(&order));
        if let Some(group) = &order.group {
            // The seat is free again for the next buyer (its group count comes back
            // with the rest the order held). The group's version moves too, so a
            // payment that read the group before this cannot write its old count back.
            writes.push(Write::Update {
                key: group_key(t, group),
                update: Update {
                    add: vec![(AttrPath::top("free"), 1), (AttrPath::top("version"), 1)],
                    ..Update::default()
                },
                condition: Some(Condition::Exists),
            });
            writes.push(Write::Delete {
                key: member_key(t, group, &order.buyer),
                condition: None,
            });
        }
        match self.db.table().transact(writes).await {
            Ok(()) => Ok(CancelOutcome::Cancelled(order)),
            // Paid or cancelled in the meantime: whoever won decides.
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => Ok(
                CancelOutcome::NothingToDo(self.db.order(t, id, true).await?.status),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// An order's timer at `now`: cancels an order still unpaid at its deadline, or
    /// moves a parcel waiting for pickup through its window (the reminder, then the
    /// cancellation and refund of a parcel never collected). Returns when it is next due.
    pub async fn order_timer(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        match self.cancel_unpaid(t, id, now).await? {
            CancelOutcome::Cancelled(o) => {
                tracing::info!(order = %o.id, "unpaid order cancelled; stock, coupons and limits returned");
                Ok(None)
            }
            CancelOutcome::NotYet(deadline) => Ok(Some(deadline)),
            CancelOutcome::NothingToDo(OrderStatus::ReadyForPickup) => {
                // At most one step per parcel, then the next time.
                for _ in 0..=u8::MAX {
                    match self.pickup_timer(t, id, now).await? {
                        PickupTimer::Reminded(o, parcels) => {
                            tracing::info!(order = %o.id, ?parcels, "buyer reminded to collect");
                        }
                        PickupTimer::NoShows(o, parcels) => {
                            tracing::info!(order = %o.id, ?parcels, "pickup appointment missed: place given back");
                        }
                        PickupTimer::Cancelled(o, refund) => {
                            tracing::info!(order = %o.id, refund = %refund.id, "parcel not collected in time: cancelled and refunded");
                            self.announce_refund(&refund).await;
                        }
                        PickupTimer::NotYet(next) => return Ok(next),
                    }
                }
                Ok(None)
            }
            CancelOutcome::NothingToDo(OrderStatus::Shipped) => {
                self.run_shipping_timer(t, id, now).await
            }
            CancelOutcome::NothingToDo(_) => Ok(None),
        }
    }
}
