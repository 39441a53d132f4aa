//! A parcel waiting at its store: the buyer is reminded halfway through its pickup
//! window, and a parcel not collected by its end is cancelled and refunded in full
//! through the refund ledger (its units back in the store's count), exactly as a
//! buyer's cancellation of it is. Reached by the delayed order-timer message and by the
//! sweeper over the timer index behind it.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::orders::{parcel_cancel_writes, random};
use crate::db::refunds::new_refund_writes;
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::ids::OrderId;
use crate::domain::order::Order;
use crate::domain::refund::{decide, rma_code, Refund, RefundRequest};
use crate::domain::tenancy::Tenant;
use crate::error::Result;

/// What the pickup timer did.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum PickupTimer {
    /// These parcels' buyer was reminded.
    Reminded(Order, Vec<u8>),
    /// These parcels' appointments ended unhonoured: no-shows, their places given back.
    NoShows(Order, Vec<u8>),
    /// A parcel not collected in time was cancelled; its refund is due.
    Cancelled(Order, Refund),
    /// Nothing due yet: its next time, if it still waits.
    NotYet(Option<DateTime<Utc>>),
}

impl AppState {
    /// Moves one step of an order's pickup window at `now`: a reminder, or one
    /// uncollected parcel cancelled (call again for the next). 1 GetItem + 1 PutItem
    /// (a reminder) or 1 TransactWriteItems (the refund, the order, the store's units,
    /// the limits).
    pub async fn pickup_timer(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<PickupTimer> {
        optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            // A slot's end comes before the window's: its no-show first.
            let mut order = current.clone();
            let missed = order.no_shows(now);
            if !missed.is_empty() {
                let mut writes = vec![crate::table::Write::Put {
                    item: crate::db::orders::order_item(&order)?,
                    condition: Some(crate::db::orders::version_is(current.version)),
                }];
                writes.extend(crate::cases::appointments::no_show_writes(
                    t, &order, &missed,
                )?);
                let parcels = missed.iter().map(|(p, _)| *p).collect();
                return match self.db.table().transact(writes).await {
                    Ok(()) => Ok(Attempt::Done(PickupTimer::NoShows(order, parcels))),
                    Err(e) if lost_race(&e) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                };
            }
            if let Some(parcel) = current.uncollected(now) {
                let days = current.returns_policy.pickup_days;
                let mut plan = decide(
                    &current,
                    &RefundRequest::parcel_cancellation(parcel),
                    0,
                    rma_code(random()),
                    now,
                )?;
                if let Some(d) = plan.refund.decided.as_mut() {
                    d.note = Some(format!("parcel {parcel} not collected within {days} days"));
                }
                plan.refund.back_on_sale = self.db.selling(t, &current.campaign, now).await;
                let mut writes = new_refund_writes(&plan.refund, &plan.order, current.version)?;
                writes.extend(parcel_cancel_writes(&current, &plan.refund));
                return match self.db.table().transact(writes).await {
                    Ok(()) => Ok(Attempt::Done(PickupTimer::Cancelled(
                        plan.order,
                        plan.refund,
                    ))),
                    Err(e) if lost_race(&e) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                };
            }
            let reminded = order.remind_pickup(now);
            if reminded.is_empty() {
                return Ok(Attempt::Done(PickupTimer::NotYet(current.pickup_due())));
            }
            match self.db.save_order(&order, current.version).await {
                Ok(()) => Ok(Attempt::Done(PickupTimer::Reminded(order, reminded))),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
