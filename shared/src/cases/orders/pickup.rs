//! The counter: a clerk of the parcel's store checks the buyer's code. Wrong codes are
//! counted on the parcel (and saved), so guessing locks it and replaces its code.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::appointments::{put_booking, Booking};
use crate::db::orders::{order_item, random, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::ids::{OrderId, StoreId, UserId};
use crate::domain::order::{pickup_code, Order, ParcelStatus, PickupOutcome};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::Write;

/// What the counter did, with the order as saved and the stores the clerk works at.
#[derive(Debug, Clone)]
pub struct AtCounter {
    pub order: Order,
    pub outcome: PickupOutcome,
    pub clerk_of: Vec<StoreId>,
}

impl AppState {
    /// 1 GetItem (the order) + 1 BatchGetItem (its parcels' stores) + 1 conditional
    /// PutItem, whatever the outcome: a wrong code is recorded too (a booked parcel
    /// handed over: 1 TransactWriteItems, the order and its booking, honoured).
    pub async fn pick_up(
        &self,
        t: &Tenant,
        id: &OrderId,
        clerk: &UserId,
        parcel: Option<u8>,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<AtCounter> {
        optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            // Who may act comes first: only a clerk of a store holding one of the order's
            // parcels learns anything about its state.
            let mut stores: Vec<StoreId> =
                current.parcels.iter().map(|p| p.store.clone()).collect();
            stores.sort();
            stores.dedup();
            let clerk_of = if stores.is_empty() {
                vec![]
            } else {
                self.db.stores_clerked_by(t, &stores, clerk).await?
            };
            if clerk_of.is_empty() {
                return Err(DomainError::Forbidden(
                    "only a clerk of the store holding the parcel may hand it over".into(),
                )
                .into());
            }
            let mine: Vec<u8> = current
                .parcels
                .iter()
                .filter(|p| p.status == ParcelStatus::ReadyForPickup)
                .filter(|p| parcel.is_none_or(|n| p.id == n))
                .filter(|p| clerk_of.contains(&p.store))
                .map(|p| p.id)
                .collect();
            let parcel_id = match mine.as_slice() {
                [] => {
                    return Err(DomainError::conflict(
                        "order-not-ready",
                        "no parcel of this order is waiting for pickup here",
                    )
                    .into())
                }
                [one] => *one,
                _ => {
                    return Err(DomainError::invalid(
                        "parcel",
                        "you work at more than one store of this order: name the parcel",
                    )
                    .into())
                }
            };
            let mut order = current.clone();
            let outcome = order.pick_up(parcel_id, clerk, code, pickup_code(random()), now)?;
            // A booked parcel collected: its booking on the clerks' list says so too.
            let honoured = order
                .parcels
                .iter()
                .find(|p| p.id == parcel_id && p.status == ParcelStatus::PickedUp)
                .and_then(|p| Some((p, p.appointment.as_ref()?)))
                .filter(|(_, a)| a.status == AppointmentStatus::Honoured);
            let saved = match honoured {
                None => self.db.save_order(&order, current.version).await,
                Some((p, a)) => {
                    let booking = Booking {
                        store: p.store.clone(),
                        order: order.id.clone(),
                        parcel: p.id,
                        appointment: a.clone(),
                    };
                    let writes = vec![
                        Write::Put {
                            item: order_item(&order)?,
                            condition: Some(version_is(current.version)),
                        },
                        put_booking(t, &order.campaign, &booking)?,
                    ];
                    self.db.table().transact(writes).await
                }
            };
            match saved {
                Ok(()) => Ok(Attempt::Done(AtCounter {
                    order,
                    outcome,
                    clerk_of,
                })),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
