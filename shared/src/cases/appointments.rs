//! Pickup appointments: a buyer books (or moves, or cancels) a slot for a parcel waiting
//! at its store; read the order and the slot's counter, decide (the slot within the
//! store's hours, on its local day, ending within the pickup window), write the order,
//! the place and the booking in one transaction. No race overbooks: the place is taken
//! on condition one is free. A booking not honoured by the slot's end is a no-show
//! (`no_show_writes`, from the pickup timer).

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::AppState;
use crate::db::appointments::{delete_booking, give_back, put_booking, take_place, Booking};
use crate::db::orders::{order_item, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::appointment::{slot_at, Appointment};
use crate::domain::campaign::TimeOfDay;
use crate::domain::ids::{OrderId, StoreId, UserId};
use crate::domain::order::Order;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{delay_until, TimeoutMessage};
use crate::table::Write;

impl AppState {
    /// Books `parcel` of the buyer's order into the slot starting at `start` on the
    /// store's local `date` (moving an earlier booking). The same slot again answers the
    /// order as it is. 409 `slot-full` when no place is free. DynamoDB: 1 GetItem (the
    /// order) + 1 GetItem (the store) + 1 GetItem (the slot's counter) + 1
    /// TransactWriteItems.
    pub async fn book_pickup(
        &self,
        t: &Tenant,
        buyer: &UserId,
        id: &OrderId,
        parcel: u8,
        (date, start): (NaiveDate, TimeOfDay),
        now: DateTime<Utc>,
    ) -> Result<Order> {
        let order = optimistic("this slot", || async {
            let current = self.buyers_order(t, buyer, id).await?;
            let store_id = parcel_store(&current, parcel)?;
            let store = self.db.store(t, &store_id).await?;
            let wanted = slot_at(&store.opening, store.pickup_slots, date, start, now)?;
            let same = current
                .parcels
                .iter()
                .find(|p| p.id == parcel)
                .and_then(|p| p.appointment.as_ref())
                .is_some_and(|a| {
                    a.status == crate::domain::appointment::AppointmentStatus::Booked
                        && a.date == date
                        && a.starts == start
                });
            if same {
                return Ok(Attempt::Done(current));
            }
            let mut next = current.clone();
            let before = next.book_pickup(parcel, wanted.clone())?;
            let free = self.db.slot_free(t, &store_id, &wanted).await?;
            if free.is_some_and(|f| f < 1) {
                return Err(DomainError::conflict(
                    "slot-full",
                    format!("the {} slot of {date} is full", wanted.starts),
                )
                .into());
            }
            let capacity = store.pickup_slots.map_or(1, |s| s.capacity);
            let mut writes = vec![
                Write::Put {
                    item: order_item(&next)?,
                    condition: Some(version_is(current.version)),
                },
                take_place(t, &store_id, &wanted, capacity, free)?,
                put_booking(
                    t,
                    &current.campaign,
                    &Booking {
                        store: store_id.clone(),
                        order: id.clone(),
                        parcel,
                        appointment: wanted.clone(),
                    },
                )?,
            ];
            if let Some(old) = &before {
                writes.push(give_back(t, &store_id, old));
                writes.push(delete_booking(t, &store_id, old, id, parcel));
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(next)),
                // the order moved, or the slot's places went (read again: full, or not)
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        // its end is the order's next timer (a no-show then), the sweeper behind it
        if let Some(due) = order.pickup_due() {
            self.queue
                .post(
                    &TimeoutMessage::at(&order, due),
                    Some(delay_until(due, now)),
                )
                .await?;
        }
        Ok(order)
    }

    /// Cancels the booking of `parcel`: its place is given back. DynamoDB: 1 GetItem + 1
    /// TransactWriteItems.
    pub async fn cancel_pickup(
        &self,
        t: &Tenant,
        buyer: &UserId,
        id: &OrderId,
        parcel: u8,
    ) -> Result<Order> {
        optimistic("this order", || async {
            let current = self.buyers_order(t, buyer, id).await?;
            let store_id = parcel_store(&current, parcel)?;
            let mut next = current.clone();
            let old = next.cancel_pickup_booking(parcel)?;
            let writes = vec![
                Write::Put {
                    item: order_item(&next)?,
                    condition: Some(version_is(current.version)),
                },
                give_back(t, &store_id, &old),
                delete_booking(t, &store_id, &old, id, parcel),
            ];
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(next)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The buyer's own order (anyone else's is not found).
    async fn buyers_order(&self, t: &Tenant, buyer: &UserId, id: &OrderId) -> Result<Order> {
        let o = self.db.order(t, id, true).await?;
        if &o.buyer != buyer {
            return Err(DomainError::NotFound { what: "order" }.into());
        }
        Ok(o)
    }
}

fn parcel_store(o: &Order, parcel: u8) -> Result<StoreId> {
    Ok(o.parcels
        .iter()
        .find(|p| p.id == parcel)
        .ok_or(DomainError::NotFound { what: "parcel" })?
        .store
        .clone())
}

/// What marking `no_shows` writes besides the order: each place given back and each
/// booking kept as a no-show (the clerks' list shows it).
pub(crate) fn no_show_writes(
    t: &Tenant,
    o: &Order,
    no_shows: &[(u8, Appointment)],
) -> Result<Vec<Write>> {
    let mut writes = Vec::new();
    for (parcel, a) in no_shows {
        let Some(p) = o.parcels.iter().find(|p| p.id == *parcel) else {
            continue;
        };
        writes.push(give_back(t, &p.store, a));
        writes.push(put_booking(
            t,
            &o.campaign,
            &Booking {
                store: p.store.clone(),
                order: o.id.clone(),
                parcel: *parcel,
                appointment: a.clone(),
            },
        )?);
    }
    Ok(writes)
}
