//! Pickup appointments as records: per store and local date, a counter of free places
//! per slot (created with the slot's first booking) and one item per booking. A place
//! is taken by a conditional update of the counter (at least one free), in the same
//! transaction as the order that records the booking.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::orders::number;
use super::Db;
use crate::domain::appointment::Appointment;
use crate::domain::ids::{CampaignId, OrderId, StoreId};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, to_item, AttrPath, Condition, Index, Key, Query, SortRange, Update, Write, GSI4PK,
    GSI4SK, PK, SK,
};

/// A booking as the store's clerks list it: no name, no phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    pub store: StoreId,
    pub order: OrderId,
    pub parcel: u8,
    pub appointment: Appointment,
}

fn slot_key(t: &Tenant, store: &StoreId, a: &Appointment) -> Key {
    slot_key_of(t, store, a.date, &a.slot())
}

/// The counter of a store's slot on a local date, by the slot's name.
pub(crate) fn slot_key_of(t: &Tenant, store: &StoreId, date: chrono::NaiveDate, slot: &str) -> Key {
    Key::new(keys::appointments_pk(t, store, date), keys::slot_sk(slot))
}

/// A slot counter's free places, as read (none booked yet: `None`).
pub(crate) fn free_of(item: Option<&crate::table::Item>) -> Option<i64> {
    item.map(|i| number(i.get(FREE)))
}

fn booking_key(t: &Tenant, store: &StoreId, a: &Appointment, order: &OrderId, parcel: u8) -> Key {
    Key::new(
        keys::appointments_pk(t, store, a.date),
        keys::booking_sk(&a.slot(), order, parcel),
    )
}

const FREE: &str = "free";

impl Db {
    /// The free places of a slot (none booked yet: `None`). 1 GetItem, consistent.
    pub async fn slot_free(
        &self,
        t: &Tenant,
        store: &StoreId,
        a: &Appointment,
    ) -> Result<Option<i64>> {
        Ok(free_of(
            self.table.get(&slot_key(t, store, a), true).await?.as_ref(),
        ))
    }

    /// A store's bookings of a local date, by slot. 1 Query.
    pub async fn day_bookings(
        &self,
        t: &Tenant,
        store: &StoreId,
        date: chrono::NaiveDate,
    ) -> Result<Vec<Booking>> {
        self.store_day(t, store, date, keys::BOOKING_PREFIX).await
    }

    /// The records of one kind (`prefix`) under a store's local date, by slot: its
    /// pickup bookings or its try-on visits. 1 Query.
    pub(crate) async fn store_day<T: serde::de::DeserializeOwned>(
        &self,
        t: &Tenant,
        store: &StoreId,
        date: chrono::NaiveDate,
        prefix: &str,
    ) -> Result<Vec<T>> {
        let mut q = Query::new(
            Index::Primary,
            keys::appointments_pk(t, store, date),
            SortRange::BeginsWith(prefix.into()),
        );
        q.limit = Some(1_000);
        let page = self.table.query(q).await?;
        Ok(page
            .items
            .into_iter()
            .filter_map(|i| from_item(i).ok())
            .collect())
    }
}

/// Takes a place in `a`'s slot: creates its counter with the first booking (`free` read
/// as `None`), else takes one on condition one is free.
pub(crate) fn take_place(
    t: &Tenant,
    store: &StoreId,
    a: &Appointment,
    capacity: u16,
    free: Option<i64>,
) -> Result<Write> {
    let key = slot_key(t, store, a);
    Ok(match free {
        None => Write::Put {
            item: to_item(
                &serde_json::json!({FREE: i64::from(capacity) - 1, "capacity": capacity}),
                &[(PK, key.pk.clone()), (SK, key.sk.clone())],
            )?,
            condition: Some(Condition::NotExists),
        },
        Some(_) => Write::Update {
            key,
            update: Update {
                add: vec![(AttrPath::top(FREE), -1)],
                ..Update::default()
            },
            condition: Some(Condition::AtLeast(AttrPath::top(FREE), 1)),
        },
    })
}

/// Gives a place back to `a`'s slot.
pub(crate) fn give_back(t: &Tenant, store: &StoreId, a: &Appointment) -> Write {
    Write::Update {
        key: slot_key(t, store, a),
        update: Update {
            add: vec![(AttrPath::top(FREE), 1)],
            ..Update::default()
        },
        condition: Some(Condition::Exists),
    }
}

/// A booking under its store's day, and among its campaign's records (the report
/// counts bookings and no-shows per store).
pub(crate) fn put_booking(t: &Tenant, campaign: &CampaignId, b: &Booking) -> Result<Write> {
    let key = booking_key(t, &b.store, &b.appointment, &b.order, b.parcel);
    let records = keys::records_gsi4pk(t, campaign, &key.pk);
    let sort = keys::records_gsi4sk(&key.pk, &key.sk);
    Ok(Write::Put {
        item: to_item(
            b,
            &[
                (PK, key.pk),
                (SK, key.sk),
                (GSI4PK, records),
                (GSI4SK, sort),
            ],
        )?,
        condition: None,
    })
}

pub(crate) fn delete_booking(
    t: &Tenant,
    store: &StoreId,
    a: &Appointment,
    order: &OrderId,
    parcel: u8,
) -> Write {
    Write::Delete {
        key: booking_key(t, store, a, order, parcel),
        condition: None,
    }
}
