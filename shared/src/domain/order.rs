//! Orders: what was bought, at what price, from which stock shards, and where the order
//! is in its life. Transitions are plain functions that refuse what is not allowed.
//!
//! A paid order is dispatched as one or more **parcels**, one per store: a pickup order
//! goes to one store when one can cover it, else each store holding part of it hands
//! over its own parcel with its own code. The buyer sees every parcel and code; staff
//! see no code, and a store's clerks see only their store's parcel.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

use super::catalog::{Address, Phone};
use super::ids::{CampaignId, GuideId, OrderId, Size, Sku, StoreId, UserId};
use super::money::Fen;
use super::pricing::PricedLine;
use super::tenancy::Tenant;
use super::DomainError;

mod journey;
pub use journey::attention_note;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    Paid,
    /// Dispatched: every parcel is on its way from its store (packed, handed to a
    /// courier, in transit) or ended.
    Shipped,
    /// Every shipped parcel has ended and at least one was delivered.
    Delivered,
    /// Every parcel waits at its store with its own pickup code.
    ReadyForPickup,
    /// Every parcel has been handed over.
    PickedUp,
    Cancelled,
    /// Paid, but no store can dispatch it as it stands: a person must act (the reason
    /// is on the order, and staff list these orders).
    NeedsAttention,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    Shipping,
    Pickup,
}

/// Where the goods go. The address and phone are personal data: `Debug` redacts them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub mode: DeliveryMode,
    pub address: Option<Address>,
    pub phone: Option<Phone>,
    /// The address's pin on the map, when the buyer dropped one (same-city delivery
    /// needs it). Personal data like the address.
    #[serde(default)]
    pub location: Option<super::geo::GeoPoint>,
    /// For pickup: the store the buyer chose (one of the campaign's). Dispatch honours
    /// it when that store holds every unit; otherwise the usual rule, and the order's
    /// history says why.
    #[serde(default)]
    pub store: Option<StoreId>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.mode {
            DeliveryMode::Shipping if self.store.is_some() => {
                return Err(DomainError::invalid(
                    "delivery.store",
                    "a store is chosen for pickup, not shipping",
                ))
            }
            DeliveryMode::Shipping => {
                let address = self.address.as_ref().ok_or_else(|| {
                    DomainError::invalid("delivery.address", "shipping needs an address")
                })?;
                address.validate("delivery.address")?;
                if self.phone.is_none() {
                    return Err(DomainError::invalid(
                        "delivery.phone",
                        "shipping needs a phone number",
                    ));
                }
                if let Some(at) = &self.location {
                    at.validate("delivery.location")?;
                }
            }
            DeliveryMode::Pickup => {
                if self.address.is_some() || self.location.is_some() {
                    return Err(DomainError::invalid(
                        "delivery.address",
                        "pickup orders take no address",
                    ));
                }
            }
        }
        Ok(())
    }

    /// As shown to someone who does not ship it: street and phone masked.
    fn masked(&self) -> Delivery {
        Delivery {
            mode: self.mode,
            address: self.address.as_ref().map(Address::masked),
            phone: self.phone.as_ref().map(Phone::masked),
            location: None,
            store: self.store.clone(),
        }
    }
}

/// Units taken from one stock shard for a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShardTake {
    pub shard: u8,
    pub units: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    #[serde(flatten)]
    pub priced: PricedLine,
    /// Where the units were reserved, so a cancellation puts them back exactly there.
    pub shards: Vec<ShardTake>,
    /// Sold as final sale: not returnable (the terms fixed when it was bought).
    #[serde(default)]
    pub final_sale: bool,
}

/// Units of one order line in one parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelItem {
    /// The index of the order line.
    pub line: usize,
    pub sku: Sku,
    pub size: Size,
    pub quantity: u32,
    /// Units of this item under a refund that still holds them (a return not rejected
    /// or closed, or the parcel's cancellation): what may still be returned from this
    /// parcel is the quantity less this.
    #[serde(default)]
    pub returned: u32,
}

impl ParcelItem {
    /// Units of this item not yet under a refund.
    pub fn left(&self) -> u32 {
        self.quantity.saturating_sub(self.returned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    /// Shipping: dispatched to its store, waiting to be packed.
    ToPack,
    /// Shipping: packed, its slip printed, waiting for the courier.
    Packed,
    /// Shipping: with a courier under a waybill.
    HandedOver,
    /// Shipping: the carrier reports it moving.
    InTransit,
    /// Shipping: the buyer signed for it.
    Delivered,
    /// Shipping: a delivery failed (or it is on its way back).
    DeliveryFailed,
    /// Shipping: back at its store unclaimed: refunded, its units back in the count.
    ReturnedToStore,
    /// Shipping: lost by the carrier: refunded in full.
    Lost,
    ReadyForPickup,
    PickedUp,
    /// Never collected or never sent (the buyer cancelled it before it left, or its
    /// pickup window passed): refunded in full, its units back in the store's count,
    /// its code dead.
    Cancelled,
}

pub use super::shipping::CounterEvent;

/// What one store ships or hands over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Parcel {
    /// 1, 2, ... within the order.
    pub id: u8,
    pub store: StoreId,
    pub items: Vec<ParcelItem>,
    pub status: ParcelStatus,
    /// Shown to the buyer only; the clerk of the store checks it at the counter.
    pub pickup_code: Option<String>,
    /// Wrong codes entered since this code was issued.
    #[serde(default)]
    pub failed_attempts: u32,
    /// After too many wrong codes no code is accepted until then (and the code changes).
    #[serde(default)]
    pub locked_until: Option<DateTime<Utc>>,
    /// Who entered a wrong code, and when (the last [`KEPT_ATTEMPTS`]).
    #[serde(default)]
    pub wrong_codes: Vec<CounterEvent>,
    /// Who handed it over, and when.
    #[serde(default)]
    pub handed_over: Option<CounterEvent>,
    /// A pickup parcel not collected by then is cancelled and refunded.
    #[serde(default)]
    pub collect_by: Option<DateTime<Utc>>,
    /// When the buyer was reminded to collect it (halfway through the window).
    #[serde(default)]
    pub reminded_at: Option<DateTime<Utc>>,
    /// A shipping parcel's journey (none for pickup).
    #[serde(default)]
    pub shipment: Option<super::shipping::Shipment>,
    /// A pickup parcel's appointment at its store, when the buyer booked one.
    #[serde(default)]
    pub appointment: Option<super::appointment::Appointment>,
}

impl Parcel {
    /// When its reminder falls due: halfway between dispatch and `collect_by`.
    pub fn remind_at(&self, dispatched_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let by = self.collect_by?;
        Some(dispatched_at + (by - dispatched_at) / 2)
    }
}

/// Wrong pickup codes accepted before a parcel locks and its code is replaced.
pub const MAX_PICKUP_ATTEMPTS: u32 = 5;
/// How long a locked parcel refuses every code.
pub const PICKUP_LOCK_MINUTES: i64 = 15;
/// How many wrong-code records a parcel keeps.
pub const KEPT_ATTEMPTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub lines: Vec<OrderLine>,
    pub subtotal_fen: Fen,
    pub discount_fen: Fen,
    pub total_fen: Fen,
    /// The buyer's coupons redeemed by this order.
    pub coupons: Vec<String>,
    pub delivery: Delivery,
    /// The guide whose share link brought the sale.
    pub guide: Option<GuideId>,
    /// That guide's store when the order was placed: dispatch tries it first.
    #[serde(default)]
    pub guide_store: Option<StoreId>,
    /// Who the sale is credited to and why (or why nobody), fixed at placement.
    #[serde(default)]
    pub attribution: Option<super::attribution::Attribution>,
    pub status: OrderStatus,
    pub history: Vec<StatusChange>,
    pub payment_deadline: DateTime<Utc>,
    pub payment_ref: Option<String>,
    /// The stores' parcels, once dispatched.
    #[serde(default)]
    pub parcels: Vec<Parcel>,
    /// Why the order needs a person, while it does.
    #[serde(default)]
    pub attention: Option<String>,
    /// Units of each line under a refund that is not rejected or closed: what may
    /// still be returned is the quantity less this.
    #[serde(default)]
    pub returned: Vec<u32>,
    /// The amount of those refunds: never more than was paid.
    #[serde(default)]
    pub refunded_fen: Fen,
    /// That amount per line: never more than the line's paid amount, and exactly it
    /// once every unit of the line is under a refund.
    #[serde(default)]
    pub refunded_lines: Vec<Fen>,
    /// How many refunds were requested (numbers the next refund's id).
    #[serde(default)]
    pub refund_requests: u8,
    /// The group buy this order holds a seat in: paid, it waits for the group to form.
    #[serde(default, rename = "group_buy")]
    pub group: Option<super::ids::GroupBuyId>,
    /// The campaign's return terms when it was bought: the terms its returns follow.
    #[serde(default)]
    pub returns_policy: super::terms::ReturnPolicy,
    /// The buyer's first paid order in this tenant (a new buyer, for whoever brought
    /// them): decided when the payment is recorded.
    #[serde(default)]
    pub first_in_tenant: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// What happened at the counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupOutcome {
    HandedOver,
    /// The code was wrong; this many more tries before the parcel locks.
    WrongCode {
        attempts_left: u32,
    },
    /// Too many wrong codes: locked until then, and the buyer has a new code.
    Locked {
        until: DateTime<Utc>,
    },
}

impl Order {
    /// A line in the order's history that does not change its status (why dispatch did
    /// not follow the buyer's choice of store, say).
    pub fn note(&mut self, note: String, at: DateTime<Utc>) {
        self.history.push(StatusChange {
            status: self.status,
            at,
            note: Some(note),
        });
    }

    fn move_to(&mut self, status: OrderStatus, at: DateTime<Utc>, note: Option<String>) {
        self.status = status;
        self.history.push(StatusChange { status, at, note });
        self.version += 1;
    }

    /// Payment confirmed for exactly the amount due.
    pub fn pay(
        &mut self,
        amount: Fen,
        payment_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status != OrderStatus::AwaitingPayment {
            return Err(DomainError::conflict(
                "order-not-payable",
                format!("order is {:?}", self.status).to_lowercase(),
            ));
        }
        if amount != self.total_fen {
            return Err(DomainError::invalid(
                "amount_fen",
                format!("expected {} fen", self.total_fen.get()),
            ));
        }
        self.payment_ref = Some(payment_ref.to_owned());
        self.move_to(OrderStatus::Paid, at, None);
        Ok(())
    }

    /// Whether an unpaid order's window has passed at `now`.
    pub fn payment_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == OrderStatus::AwaitingPayment && now >= self.payment_deadline
    }

    pub fn cancel(&mut self, at: DateTime<Utc>, why: &str) -> Result<(), DomainError> {
        if self.status != OrderStatus::AwaitingPayment {
            return Err(DomainError::conflict(
                "order-not-cancellable",
                "only an unpaid order is cancelled",
            ));
        }
        self.move_to(OrderStatus::Cancelled, at, Some(why.to_owned()));
        Ok(())
    }

    /// Hands a paid order to its stores, one parcel each (`code` draws a fresh pickup
    /// code for each parcel of a pickup order).
    pub fn dispatch(
        &mut self,
        parcels: Vec<(StoreId, Vec<ParcelItem>)>,
        mut code: impl FnMut() -> String,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let collect_by = at + Duration::days(i64::from(self.returns_policy.pickup_days));
        if self.status != OrderStatus::Paid {
            return Err(DomainError::conflict(
                "order-not-dispatchable",
                "only a paid order is dispatched",
            ));
        }
        let pickup = self.delivery.mode == DeliveryMode::Pickup;
        self.parcels = parcels
            .into_iter()
            .zip(1u8..)
            .map(|((store, items), id)| Parcel {
                id,
                store,
                items,
                status: if pickup {
                    ParcelStatus::ReadyForPickup
                } else {
                    ParcelStatus::ToPack
                },
                pickup_code: pickup.then(&mut code),
                failed_attempts: 0,
                locked_until: None,
                wrong_codes: Vec::new(),
                handed_over: None,
                collect_by: pickup.then_some(collect_by),
                reminded_at: None,
                shipment: (!pickup).then(Default::default),
                appointment: None,
            })
            .collect();
        let next = if pickup {
            OrderStatus::ReadyForPickup
        } else {
            OrderStatus::Shipped
        };
        let note = (self.parcels.len() > 1).then(|| format!("{} parcels", self.parcels.len()));
        self.move_to(next, at, note);
        Ok(())
    }

    /// A paid order no store can dispatch: held, visibly, for a person.
    pub fn hold_for_attention(
        &mut self,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status != OrderStatus::Paid {
            return Err(DomainError::conflict(
                "order-not-dispatchable",
                "only a paid order is held for attention",
            ));
        }
        self.attention = Some(reason.clone());
        self.move_to(OrderStatus::NeedsAttention, at, Some(reason));
        Ok(())
    }

    /// A clerk (`by`) of the parcel's store checks the buyer's code. A wrong code is
    /// counted; the fifth locks the parcel for [`PICKUP_LOCK_MINUTES`] and replaces its
    /// code with `next_code`, so guessing never gets past a handful of tries per code.
    /// Every outcome changes the order, and the caller saves it.
    pub fn pick_up(
        &mut self,
        parcel: u8,
        by: &UserId,
        code: &str,
        next_code: String,
        at: DateTime<Utc>,
    ) -> Result<PickupOutcome, DomainError> {
        if self.status != OrderStatus::ReadyForPickup {
            return Err(DomainError::conflict(
                "order-not-ready",
                "the order is not waiting for pickup",
            ));
        }
        let p = waiting_parcel(&mut self.parcels, parcel)?;
        if let Some(until) = p.locked_until.filter(|u| at < *u) {
            return Ok(PickupOutcome::Locked { until });
        }
        let expected = p.pickup_code.as_deref().unwrap_or_default();
        if !same_code(expected, code) {
            p.wrong_codes.push(CounterEvent { by: by.clone(), at });
            if p.wrong_codes.len() > KEPT_ATTEMPTS {
                p.wrong_codes.remove(0);
            }
            self.version += 1;
            let lock = (&mut p.failed_attempts, &mut p.locked_until);
            return Ok(match wrong_code(lock, &mut p.pickup_code, next_code, at) {
                Ok(attempts_left) => PickupOutcome::WrongCode { attempts_left },
                Err(until) => PickupOutcome::Locked { until },
            });
        }
        p.status = ParcelStatus::PickedUp;
        p.handed_over = Some(CounterEvent { by: by.clone(), at });
        if let Some(a) = p.appointment.as_mut() {
            if a.status == super::appointment::AppointmentStatus::Booked {
                a.status = super::appointment::AppointmentStatus::Honoured;
            }
        }
        let store = p.store.clone();
        self.version += 1;
        self.settle_parcels(at, format!("at {store}"));
        Ok(PickupOutcome::HandedOver)
    }

    /// Once every parcel has ended, the order follows its parcels: picked up (or
    /// delivered) when any reached the buyer, cancelled when every one was refunded.
    pub(crate) fn settle_parcels(&mut self, at: DateTime<Utc>, note: String) {
        if !matches!(
            self.status,
            OrderStatus::ReadyForPickup | OrderStatus::Shipped
        ) || self.parcels.iter().any(|p| !p.ended())
        {
            return;
        }
        let next = if self.parcels.iter().all(|p| {
            matches!(
                p.status,
                ParcelStatus::Cancelled | ParcelStatus::Lost | ParcelStatus::ReturnedToStore
            )
        }) {
            OrderStatus::Cancelled
        } else if self.status == OrderStatus::Shipped {
            OrderStatus::Delivered
        } else {
            OrderStatus::PickedUp
        };
        // Part of the caller's change: no second version bump.
        self.status = next;
        self.history.push(StatusChange {
            status: next,
            at,
            note: Some(note),
        });
    }

    /// Cancels a parcel still at its store (waiting for pickup, or not yet handed to a
    /// courier): a pickup code dies with it. The caller has put its units under the
    /// cancellation's refund.
    pub fn cancel_parcel(
        &mut self,
        parcel: u8,
        at: DateTime<Utc>,
        why: &str,
    ) -> Result<(), DomainError> {
        let p = self
            .parcels
            .iter_mut()
            .find(|p| p.id == parcel)
            .ok_or(DomainError::NotFound { what: "parcel" })?;
        if !p.at_store() {
            return Err(DomainError::conflict(
                "parcel-not-ready",
                "this parcel has left its store",
            ));
        }
        p.status = ParcelStatus::Cancelled;
        p.pickup_code = None;
        p.locked_until = None;
        p.failed_attempts = 0;
        self.version += 1;
        self.settle_parcels(at, format!("parcel {parcel} cancelled: {why}"));
        Ok(())
    }

    /// The pickup timer: when the next parcel waiting at a store is due a reminder or
    /// its cancellation. None for any order not waiting for pickup.
    pub fn pickup_due(&self) -> Option<DateTime<Utc>> {
        if self.status != OrderStatus::ReadyForPickup {
            return None;
        }
        let dispatched = self.dispatched_at()?;
        self.parcels
            .iter()
            .filter(|p| p.status == ParcelStatus::ReadyForPickup)
            .flat_map(|p| {
                let window = match p.reminded_at {
                    None => p.remind_at(dispatched),
                    Some(_) => p.collect_by,
                };
                // a booked slot's end: a no-show then
                let slot = p
                    .appointment
                    .as_ref()
                    .filter(|a| a.status == super::appointment::AppointmentStatus::Booked)
                    .map(|a| a.ends_at);
                [window, slot]
            })
            .flatten()
            .min()
    }

    /// Books (or moves) a waiting pickup parcel's appointment; returns the one it
    /// replaces. Only while the parcel waits at its store, and for a slot that ends
    /// before its pickup window does.
    pub fn book_pickup(
        &mut self,
        parcel: u8,
        appointment: super::appointment::Appointment,
    ) -> Result<Option<super::appointment::Appointment>, DomainError> {
        if self.status != OrderStatus::ReadyForPickup {
            return Err(DomainError::conflict(
                "order-not-ready",
                "the order is not waiting for pickup",
            ));
        }
        let p = waiting_parcel(&mut self.parcels, parcel)?;
        if p.collect_by.is_some_and(|c| appointment.ends_at > c) {
            return Err(DomainError::invalid(
                "date",
                "the slot ends after the parcel's pickup window",
            ));
        }
        let before = p
            .appointment
            .take()
            .filter(|a| a.status == super::appointment::AppointmentStatus::Booked);
        p.appointment = Some(appointment);
        self.version += 1;
        Ok(before)
    }

    /// Cancels a waiting parcel's booked appointment; returns it.
    pub fn cancel_pickup_booking(
        &mut self,
        parcel: u8,
    ) -> Result<super::appointment::Appointment, DomainError> {
        let p = waiting_parcel(&mut self.parcels, parcel)?;
        let booked = p
            .appointment
            .take()
            .filter(|a| a.status == super::appointment::AppointmentStatus::Booked)
            .ok_or_else(|| DomainError::conflict("no-appointment", "no appointment is booked"))?;
        self.version += 1;
        Ok(booked)
    }

    /// Marks every booked appointment whose slot has ended, its parcel still waiting,
    /// a no-show; returns them (their places are given back).
    pub fn no_shows(&mut self, now: DateTime<Utc>) -> Vec<(u8, super::appointment::Appointment)> {
        let mut out = Vec::new();
        for p in &mut self.parcels {
            if p.status != ParcelStatus::ReadyForPickup {
                continue;
            }
            if let Some(a) = p.appointment.as_mut().filter(|a| {
                a.status == super::appointment::AppointmentStatus::Booked && a.ends_at <= now
            }) {
                a.status = super::appointment::AppointmentStatus::NoShow;
                out.push((p.id, a.clone()));
            }
        }
        if !out.is_empty() {
            self.version += 1;
        }
        out
    }

    /// When it was handed to its stores.
    pub fn dispatched_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|h| matches!(h.status, OrderStatus::Shipped | OrderStatus::ReadyForPickup))
            .map(|h| h.at)
    }

    /// Reminds the buyer of every parcel halfway through its window at `now`; returns
    /// the parcels reminded.
    pub fn remind_pickup(&mut self, now: DateTime<Utc>) -> Vec<u8> {
        let Some(dispatched) = self.dispatched_at() else {
            return Vec::new();
        };
        let mut reminded = Vec::new();
        for p in &mut self.parcels {
            let due = p.remind_at(dispatched);
            if p.status == ParcelStatus::ReadyForPickup
                && p.reminded_at.is_none()
                && due.is_some_and(|d| now >= d)
            {
                p.reminded_at = Some(now);
                reminded.push(p.id);
            }
        }
        if !reminded.is_empty() {
            let note = format!(
                "reminded to collect parcel(s) {}",
                reminded
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.history.push(StatusChange {
                status: self.status,
                at: now,
                note: Some(note),
            });
            self.version += 1;
        }
        reminded
    }

    /// The first parcel whose pickup window has passed at `now`, if any.
    pub fn uncollected(&self, now: DateTime<Utc>) -> Option<u8> {
        if self.status != OrderStatus::ReadyForPickup {
            return None;
        }
        self.parcels
            .iter()
            .find(|p| {
                p.status == ParcelStatus::ReadyForPickup && p.collect_by.is_some_and(|b| now >= b)
            })
            .map(|p| p.id)
    }

    /// When the order's returns close, `window_days` after it was received; now for a
    /// cancelled order; none while not yet received. What waits on a window
    /// (commission, points) asks this.
    pub fn returns_close_at(&self, window_days: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.status == OrderStatus::Cancelled {
            return Some(now);
        }
        self.received_at()
            .map(|at| at + chrono::Duration::days(i64::from(window_days)))
    }

    /// When the buyer had everything: the last parcel handed over (pickup) or delivered
    /// (shipping). None while any parcel is still on its way.
    pub fn received_at(&self) -> Option<DateTime<Utc>> {
        match self.delivery.mode {
            DeliveryMode::Pickup => {
                // Cancelled parcels were never received; the rest must all be.
                let kept = || {
                    self.parcels
                        .iter()
                        .filter(|p| p.status != ParcelStatus::Cancelled)
                };
                if kept().next().is_none() || kept().any(|p| p.status != ParcelStatus::PickedUp) {
                    return None;
                }
                self.parcels
                    .iter()
                    .filter_map(|p| p.handed_over.as_ref().map(|h| h.at))
                    .max()
            }
            DeliveryMode::Shipping => {
                if self.parcels.is_empty() || self.parcels.iter().any(|p| !p.ended()) {
                    return None;
                }
                self.parcels
                    .iter()
                    .filter_map(|p| p.shipment.as_ref()?.delivered_at)
                    .max()
            }
        }
    }

    /// The order as a member of staff sees it: never a pickup code; only the parcels of
    /// `their_stores` unless `every_parcel`; the buyer's street and phone only when one
    /// of their stores ships a parcel of it.
    pub fn for_staff(mut self, their_stores: &[StoreId], every_parcel: bool) -> Self {
        let ships_it = self.delivery.mode == DeliveryMode::Shipping
            && self.parcels.iter().any(|p| their_stores.contains(&p.store));
        if !ships_it {
            self.delivery = self.delivery.masked();
        }
        if !every_parcel {
            self.parcels.retain(|p| their_stores.contains(&p.store));
        }
        for p in &mut self.parcels {
            p.pickup_code = None;
        }
        self
    }
}

impl Parcel {
    /// Still at its store: waiting for pickup, or not yet handed to a courier.
    pub fn at_store(&self) -> bool {
        matches!(
            self.status,
            ParcelStatus::ReadyForPickup | ParcelStatus::ToPack | ParcelStatus::Packed
        )
    }
}

/// The parcel `id` among `parcels`, still waiting at its store.
fn waiting_parcel(parcels: &mut [Parcel], id: u8) -> Result<&mut Parcel, DomainError> {
    let p = parcels
        .iter_mut()
        .find(|p| p.id == id)
        .ok_or(DomainError::NotFound { what: "parcel" })?;
    if p.status != ParcelStatus::ReadyForPickup {
        return Err(DomainError::conflict(
            "parcel-not-ready",
            "this parcel is not waiting for pickup",
        ));
    }
    Ok(p)
}

/// Compares without an early exit, so timing does not reveal a matching prefix.
/// A wrong code at a counter, on what it guards (a parcel, a try-on visit): counted; the
/// [`MAX_PICKUP_ATTEMPTS`]th locks it for [`PICKUP_LOCK_MINUTES`] and replaces its code
/// with `next_code`, so guessing never gets past a handful of tries per code. The tries
/// left, or when the lock ends.
pub(crate) fn wrong_code(
    (attempts, locked_until): (&mut u32, &mut Option<DateTime<Utc>>),
    code: &mut Option<String>,
    next_code: String,
    at: DateTime<Utc>,
) -> Result<u32, DateTime<Utc>> {
    *attempts += 1;
    if *attempts < MAX_PICKUP_ATTEMPTS {
        return Ok(MAX_PICKUP_ATTEMPTS - *attempts);
    }
    let until = at + Duration::minutes(PICKUP_LOCK_MINUTES);
    *locked_until = Some(until);
    *attempts = 0;
    *code = Some(next_code);
    Err(until)
}

pub(crate) fn same_code(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The default payment window and the bound on what operators may set.
pub fn payment_deadline(created: DateTime<Utc>, window_minutes: u32) -> DateTime<Utc> {
    created + Duration::minutes(i64::from(window_minutes))
}

/// A 6-digit pickup code from a random source (the caller supplies the randomness, so
/// this stays pure).
pub fn pickup_code(random: u64) -> String {
    format!("{:06}", random % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(mode: DeliveryMode) -> Order {
        let now = Utc::now();
        let line = |sku: &str, qty: u32| OrderLine {
            priced: PricedLine {
                sku: Sku::parse(sku).unwrap(),
                size: Size::parse("38").unwrap(),
                quantity: qty,
                unit_price_fen: Fen::new(100).unwrap(),
                slot: None,
                subtotal_fen: Fen::new(100 * i64::from(qty)).unwrap(),
                discount_fen: Fen::ZERO,
                paid_fen: Fen::new(100 * i64::from(qty)).unwrap(),
                category: None,
            },
            shards: vec![ShardTake {
                shard: 0,
                units: qty,
            }],
            final_sale: false,
        };
        Order {
            id: OrderId::generate(now),
            tenant: Tenant::parse("demo", "south-china").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            buyer: UserId::parse("b-1").unwrap(),
            lines: vec![line("SD-1", 1), line("SD-2", 2)],
            subtotal_fen: Fen::new(300).unwrap(),
            discount_fen: Fen::ZERO,
            total_fen: Fen::new(300).unwrap(),
            coupons: vec![],
            delivery: Delivery {
                store: None,
                mode,
                address: None,
                phone: None,
                location: None,
            },
            guide: None,
            guide_store: None,
            attribution: None,
            status: OrderStatus::AwaitingPayment,
            history: vec![],
            payment_deadline: payment_deadline(now, 15),
            payment_ref: None,
            parcels: vec![],
            attention: None,
            returned: vec![],
            refunded_fen: Fen::ZERO,
            refunded_lines: vec![],
            refund_requests: 0,
            group: None,
            returns_policy: Default::default(),
            first_in_tenant: false,
            created_at: now,
            version: 1,
        }
    }

    fn store(s: &str) -> StoreId {
        StoreId::parse(s).unwrap()
    }

    fn items(o: &Order, line: usize, qty: u32) -> ParcelItem {
        ParcelItem {
            line,
            sku: o.lines[line].priced.sku.clone(),
            size: o.lines[line].priced.size.clone(),
            quantity: qty,
            returned: 0,
        }
    }

    /// A paid pickup order in two parcels: line 0 at gz, line 1 at sz.
    fn two_parcels() -> Order {
        let mut o = order(DeliveryMode::Pickup);
        o.pay(Fen::new(300).unwrap(), "p", Utc::now()).unwrap();
        let parcels = vec![
            (store("gz"), vec![items(&o, 0, 1)]),
            (store("sz"), vec![items(&o, 1, 2)]),
        ];
        let mut codes = ["111111", "222222", "333333"].into_iter().map(String::from);
        o.dispatch(parcels, || codes.next().unwrap(), Utc::now())
            .unwrap();
        o
    }

    fn clerk() -> UserId {
        UserId::parse("clerk-1").unwrap()
    }

    #[test]
    fn only_the_exact_amount_pays_an_order_and_only_once() {
        let mut o = order(DeliveryMode::Pickup);
        assert!(o.pay(Fen::new(99).unwrap(), "p", Utc::now()).is_err());
        assert_eq!(o.status, OrderStatus::AwaitingPayment);
        o.pay(Fen::new(300).unwrap(), "p", Utc::now()).unwrap();
        assert!(o.pay(Fen::new(300).unwrap(), "p", Utc::now()).is_err());
        assert!(
            o.cancel(Utc::now(), "late").is_err(),
            "a paid order is never cancelled as unpaid"
        );
    }

    #[test]
    fn each_parcel_has_its_own_code_and_the_order_is_picked_up_with_the_last() {
        let mut o = two_parcels();
        assert_eq!(o.status, OrderStatus::ReadyForPickup);
        assert_eq!(o.parcels[0].pickup_code.as_deref(), Some("111111"));
        assert_eq!(o.parcels[1].pickup_code.as_deref(), Some("222222"));
        let now = Utc::now();
        // the other parcel's code does not open this one
        assert_eq!(
            o.pick_up(1, &clerk(), "222222", "x".into(), now).unwrap(),
            PickupOutcome::WrongCode { attempts_left: 4 }
        );
        assert_eq!(
            o.pick_up(1, &clerk(), "111111", "x".into(), now).unwrap(),
            PickupOutcome::HandedOver
        );
        assert_eq!(
            o.status,
            OrderStatus::ReadyForPickup,
            "one parcel still waits"
        );
        assert!(o.pick_up(1, &clerk(), "111111", "x".into(), now).is_err());
        o.pick_up(2, &clerk(), "222222", "x".into(), now).unwrap();
        assert_eq!(o.status, OrderStatus::PickedUp);
        assert_eq!(o.parcels[1].handed_over.as_ref().unwrap().by, clerk());
    }

    #[test]
    fn five_wrong_codes_lock_the_parcel_and_replace_its_code() {
        let mut o = two_parcels();
        let t = Utc::now();
        for left in (1..MAX_PICKUP_ATTEMPTS).rev() {
            assert_eq!(
                o.pick_up(1, &clerk(), "000000", "999999".into(), t)
                    .unwrap(),
                PickupOutcome::WrongCode {
                    attempts_left: left
                }
            );
        }
        let locked = o
            .pick_up(1, &clerk(), "000000", "999999".into(), t)
            .unwrap();
        let until = t + Duration::minutes(PICKUP_LOCK_MINUTES);
        assert_eq!(locked, PickupOutcome::Locked { until });
        assert_eq!(o.parcels[0].pickup_code.as_deref(), Some("999999"));
        assert_eq!(o.parcels[0].wrong_codes.len(), 5);
        // while locked even the right (new) code is refused
        assert_eq!(
            o.pick_up(1, &clerk(), "999999", "x".into(), t + Duration::minutes(1))
                .unwrap(),
            PickupOutcome::Locked { until }
        );
        // the old code is dead; the new one works once the lock ends
        let later = until + Duration::seconds(1);
        assert!(matches!(
            o.pick_up(1, &clerk(), "111111", "x".into(), later).unwrap(),
            PickupOutcome::WrongCode { .. }
        ));
        assert_eq!(
            o.pick_up(1, &clerk(), "999999", "x".into(), later).unwrap(),
            PickupOutcome::HandedOver
        );
    }

    #[test]
    fn staff_see_no_codes_only_their_parcels_and_the_address_only_if_they_ship_it() {
        let o = two_parcels();
        let gz_view = o.clone().for_staff(&[store("gz")], false);
        assert_eq!(gz_view.parcels.len(), 1);
        assert_eq!(gz_view.parcels[0].store, store("gz"));
        assert!(gz_view.parcels.iter().all(|p| p.pickup_code.is_none()));
        let ops_view = o.for_staff(&[], true);
        assert_eq!(ops_view.parcels.len(), 2);
        assert!(ops_view.parcels.iter().all(|p| p.pickup_code.is_none()));

        let mut shipped = order(DeliveryMode::Shipping);
        shipped.delivery.address = Some(Address {
            province: "GD".into(),
            city: "GZ".into(),
            district: "TH".into(),
            line: "8 Secret St".into(),
        });
        shipped.delivery.phone = Some(Phone::try_from("13800001234".to_string()).unwrap());
        shipped
            .pay(Fen::new(300).unwrap(), "p", Utc::now())
            .unwrap();
        let parcel = vec![(
            store("gz"),
            vec![items(&shipped, 0, 1), items(&shipped, 1, 2)],
        )];
        shipped
            .dispatch(parcel, || unreachable!("no codes for shipping"), Utc::now())
            .unwrap();
        let shipper = shipped.clone().for_staff(&[store("gz")], false);
        assert_eq!(shipper.delivery.address.unwrap().line, "8 Secret St");
        let other = shipped.for_staff(&[store("sz")], true);
        let shown = serde_json::to_string(&other.delivery).unwrap();
        assert!(
            !shown.contains("Secret") && !shown.contains("00001"),
            "{shown}"
        );
    }

    #[test]
    fn shipping_needs_an_address_and_never_logs_it() {
        let d = Delivery {
            store: None,
            mode: DeliveryMode::Shipping,
            address: None,
            phone: None,
            location: None,
        };
        assert!(d.validate().is_err());
        let d = Delivery {
            store: None,
            mode: DeliveryMode::Shipping,
            address: Some(Address {
                province: "GD".into(),
                city: "GZ".into(),
                district: "TH".into(),
                line: "8 Secret St".into(),
            }),
            phone: Some(Phone::try_from("13800001234".to_string()).unwrap()),
            location: None,
        };
        assert!(d.validate().is_ok());
        let shown = format!("{d:?}");
        assert!(!shown.contains("Secret") && !shown.contains("1380000"));
    }

    #[test]
    fn an_unpaid_order_expires_at_its_deadline() {
        let o = order(DeliveryMode::Pickup);
        assert!(!o.payment_expired(o.payment_deadline - Duration::seconds(1)));
        assert!(o.payment_expired(o.payment_deadline));
    }

    #[test]
    fn only_a_paid_order_is_held_for_attention() {
        let mut o = order(DeliveryMode::Pickup);
        assert!(o.hold_for_attention("x".into(), Utc::now()).is_err());
        o.pay(Fen::new(300).unwrap(), "p", Utc::now()).unwrap();
        o.hold_for_attention("SD-2 size 38: 1 unit held by no store".into(), Utc::now())
            .unwrap();
        assert_eq!(o.status, OrderStatus::NeedsAttention);
        assert!(o.attention.as_deref().unwrap().contains("SD-2"));
    }
}
