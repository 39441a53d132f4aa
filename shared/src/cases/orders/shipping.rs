//! Parcels that travel: a clerk of the parcel's store packs it (printing its slip) and
//! hands it to a courier under a waybill; the carrier's signed pushes move it along;
//! a parcel back at its store or lost by the carrier is refunded in full through the
//! refund ledger; the shipping timer (a delayed message, the sweeper behind it) flags
//! parcels not handed over or gone silent, and declares lost a failed delivery that
//! never came back.

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::app::AppState;
use crate::couriers::{Subscription, WaybillRequest};
use crate::db::orders::{order_item, parcel_cancel_writes, version_is};
use crate::db::refunds::new_refund_writes;
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::ids::{CarrierId, OrderId, StoreId, UserId, Waybill};
use crate::domain::order::Order;
use crate::domain::refund::{decide_parcel_end, Refund};
use crate::domain::shipping::{CarrierKind, ParcelEnd, ShippingStep, TrackEvent, SAME_CITY};
use crate::domain::slip::{slip_html, slip_key};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{delay_until, CourierMessage, TimeoutMessage};
use crate::table::keys;
use crate::table::{to_item, Condition, TableError, Write, PK, SK};

/// How long a packing slip's link works.
pub const SLIP_LINK: Duration = Duration::from_secs(24 * 3600);

/// What a handover asks for.
#[derive(Debug, Clone)]
pub struct Handover {
    pub carrier: CarrierId,
    /// The waybill the clerk scanned; none asks the carrier for an electronic one.
    pub waybill: Option<Waybill>,
}

/// What the shipping timer did.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ShippingTimer {
    /// These parcels now need a person.
    Flagged(Order, Vec<u8>),
    /// A parcel was declared lost and refunded.
    Lost(Order, Refund),
    /// The carrier's track, asked for, moved a silent parcel on.
    Tracked(Order),
    NotYet(Option<DateTime<Utc>>),
}

impl AppState {
    /// The order, and the one parcel of it the clerk works at: refused (403) for anyone
    /// who is not a clerk of that parcel's store. 1 GetItem + 1 BatchGetItem.
    async fn clerks_parcel(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        clerk: &UserId,
    ) -> Result<(Order, StoreId)> {
        let order = self.db.order(t, id, true).await?;
        let store = order
            .parcels
            .iter()
            .find(|p| p.id == parcel)
            .map(|p| p.store.clone());
        let mine = match &store {
            Some(s) => !self
                .db
                .stores_clerked_by(t, std::slice::from_ref(s), clerk)
                .await?
                .is_empty(),
            None => false,
        };
        match (mine, store) {
            (true, Some(s)) => Ok((order, s)),
            _ => Err(DomainError::Forbidden(
                "only a clerk of the store holding the parcel may pack, hand over or receive it"
                    .into(),
            )
            .into()),
        }
    }

    /// A clerk packs a parcel and gets its packing slip (printed again on a second
    /// call, nothing else changes). 1 GetItem + 1 BatchGetItem (clerks) + 1 GetItem
    /// (the store's name) + 1 conditional PutItem (first time only); the slip is one
    /// S3 PutObject.
    pub async fn pack_parcel(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        clerk: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(Order, String)> {
        let (order, store) = optimistic("this order", || async {
            let (current, store) = self.clerks_parcel(t, id, parcel, clerk).await?;
            let mut order = current.clone();
            if !order.pack(parcel, clerk, now)? {
                return Ok(Attempt::Done((current, store)));
            }
            order.set_slip(parcel, slip_key(&order, parcel));
            match self.db.save_order(&order, current.version).await {
                Ok(()) => Ok(Attempt::Done((order, store))),
                Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        let name = self
            .db
            .store(t, &store)
            .await
            .map(|s| s.name)
            .unwrap_or_else(|_| store.to_string());
        let key = slip_key(&order, parcel);
        let html =
            slip_html(&order, parcel, &name).ok_or(DomainError::NotFound { what: "parcel" })?;
        self.blobs
            .put(&key, html.into_bytes(), "text/html; charset=utf-8")
            .await?;
        let url = self.blobs.presign_get(&key, SLIP_LINK).await?;
        Ok((order, url))
    }

    /// A clerk hands a packed parcel to a courier: the waybill (scanned, or created
    /// with the carrier) is claimed for this parcel in the same transaction that moves
    /// the order, on condition nobody holds it; same-city delivery only where the store
    /// offers it and the pin is within its radius. The waybill is then followed (the
    /// courier worker subscribes it). 1 GetItem + 1 BatchGetItem + 1 GetItem (the
    /// store) + 1 TransactWriteItems (the order, the waybill).
    pub async fn hand_over(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        clerk: &UserId,
        ask: Handover,
        now: DateTime<Utc>,
    ) -> Result<Order> {
        let (current, store_id) = self.clerks_parcel(t, id, parcel, clerk).await?;
        let store = self.db.store(t, &store_id).await?;
        let same_city = ask.carrier.as_str() == SAME_CITY;
        let (kind, fee) = if same_city {
            let offer = store.same_city.ok_or_else(|| {
                DomainError::invalid(
                    "carrier",
                    format!("{} offers no same-city delivery", store.id),
                )
            })?;
            offer
                .reaches(store.location.as_ref(), current.delivery.location.as_ref())
                .map_err(|why| DomainError::invalid("carrier", why))?;
            (CarrierKind::SameCity, Some(offer.fee_fen))
        } else {
            if !crate::couriers::CARRIERS.contains(&ask.carrier.as_str()) {
                return Err(DomainError::invalid(
                    "carrier",
                    format!(
                        "one of {}, or {SAME_CITY}",
                        crate::couriers::CARRIERS.join(", ")
                    ),
                )
                .into());
            }
            (CarrierKind::Express, None)
        };
        // Refuse what the order refuses before asking a carrier for a number.
        current.ready_to_hand_over(parcel)?;
        let waybill = match ask.waybill {
            Some(w) => w,
            None => {
                self.couriers
                    .create_waybill(&WaybillRequest {
                        carrier: ask.carrier.clone(),
                        tenant: t.to_string(),
                        order: id.clone(),
                        parcel,
                        from_store: store_id.clone(),
                        to: current.delivery.address.clone(),
                        phone: current.delivery.phone.clone(),
                    })
                    .await?
            }
        };
        let order = optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            let mut order = current.clone();
            order.hand_over(
                parcel,
                ask.carrier.clone(),
                kind,
                waybill.clone(),
                fee,
                clerk,
                now,
            )?;
            let claim = to_item(
                &serde_json::json!({"order": id, "parcel": parcel, "at": now}),
                &[
                    (PK, keys::waybill_pk(t, &ask.carrier, &waybill)),
                    (SK, keys::WAYBILL_SK.to_owned()),
                ],
            )?;
            let writes = vec![
                Write::Put {
                    item: order_item(&order)?,
                    condition: Some(version_is(current.version)),
                },
                Write::Put {
                    item: claim,
                    condition: Some(Condition::NotExists),
                },
            ];
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(order)),
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&1) => {
                    Err(DomainError::conflict(
                        "waybill-taken",
                        format!(
                            "{} waybill {waybill} is already on another parcel",
                            ask.carrier
                        ),
                    )
                    .into())
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        let follow = CourierMessage {
            subscribe: Subscription {
                carrier: ask.carrier.clone(),
                waybill,
                tenant: t.to_string(),
                order: id.clone(),
                parcel,
            },
        };
        self.queue.post(&follow, None).await?;
        self.arm_shipping_timer(&order, now).await?;
        Ok(order)
    }

    /// Sends the order's shipping timer, when it has one.
    async fn arm_shipping_timer(&self, order: &Order, now: DateTime<Utc>) -> Result<()> {
        if let Some(due) = order.shipping_due() {
            self.queue
                .post(&TimeoutMessage::at(order, due), Some(delay_until(due, now)))
                .await?;
        }
        Ok(())
    }

    /// The carrier's track for a parcel, merged: a replay or a late push changes
    /// nothing (and writes nothing). 1 GetItem + at most 1 conditional PutItem.
    pub async fn apply_track(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        waybill: &Waybill,
        events: &[TrackEvent],
        now: DateTime<Utc>,
    ) -> Result<(Order, bool)> {
        let (order, changed) = optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            let mut order = current.clone();
            if !order.track(parcel, waybill, events, now)? {
                return Ok(Attempt::Done((current, false)));
            }
            match self.db.save_order(&order, current.version).await {
                Ok(()) => Ok(Attempt::Done((order, true))),
                Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        if changed {
            self.arm_shipping_timer(&order, now).await?;
        }
        Ok((order, changed))
    }

    /// A verified push of the courier aggregator, applied to the parcel it names (its
    /// tenant read from our reference): see [`Self::apply_track`].
    pub async fn apply_push(
        &self,
        push: &crate::couriers::TrackingPush,
        now: DateTime<Utc>,
    ) -> Result<(Order, bool)> {
        let t = Tenant::parse_scoped(&push.tenant).map_err(|e| match e {
            DomainError::Invalid { reason, .. } => DomainError::invalid("tenant", reason),
            other => other,
        })?;
        self.apply_track(
            &t,
            &push.order,
            push.parcel,
            &push.waybill,
            &push.events,
            now,
        )
        .await
    }

    /// Ends a parcel the carrier had, refunding every unit of it not yet refunded: back
    /// at its store (a clerk of the store confirms; its units return to the store's
    /// count) or lost (staff, or the timer). 1 GetItem + 1 TransactWriteItems (the
    /// refund, the order, the store's units and the buyer's limits when it came back).
    pub async fn end_parcel(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        end: ParcelEnd,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<(Order, Refund)> {
        let (order, refund) = optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            let mut plan = decide_parcel_end(&current, parcel, end, why, now)?;
            if end == ParcelEnd::ReturnedToStore {
                plan.refund.back_on_sale = self.db.selling(t, &current.campaign, now).await;
            }
            let mut writes = new_refund_writes(&plan.refund, &plan.order, current.version)?;
            writes.extend(parcel_cancel_writes(&current, &plan.refund));
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done((plan.order, plan.refund))),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        self.announce_refund(&refund).await;
        Ok((order, refund))
    }

    /// A clerk of the parcel's store confirms it came back: see [`Self::end_parcel`].
    pub async fn parcel_back(
        &self,
        t: &Tenant,
        id: &OrderId,
        parcel: u8,
        clerk: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(Order, Refund)> {
        self.clerks_parcel(t, id, parcel, clerk).await?;
        self.end_parcel(
            t,
            id,
            parcel,
            ParcelEnd::ReturnedToStore,
            "returned to its store unclaimed",
            now,
        )
        .await
    }

    /// One step of a shipped order's timer at `now`: a failed delivery past its limit
    /// is declared lost and refunded; parcels past their handover or silence limit are
    /// flagged for staff, after asking the carrier for the track of a silent one (its
    /// pushes may have been lost). 1 GetItem + 1 PutItem or TransactWriteItems.
    pub async fn shipping_timer(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<ShippingTimer> {
        let current = self.db.order(t, id, true).await?;
        let Some(step) = current.shipping_step(now) else {
            return Ok(ShippingTimer::NotYet(current.shipping_due()));
        };
        match step {
            ShippingStep::Lost(parcel) => {
                let why = format!(
                    "lost by the carrier: its delivery failed and it was not back at its store within {} days",
                    crate::domain::shipping::LOST_AFTER_DAYS
                );
                let (order, refund) = self
                    .end_parcel(t, id, parcel, ParcelEnd::Lost, &why, now)
                    .await?;
                Ok(ShippingTimer::Lost(order, refund))
            }
            ShippingStep::Attention(flagged) => {
                // Ask the carrier about a silent parcel before calling a person.
                for (parcel, _) in &flagged {
                    let Some((carrier, waybill)) = current
                        .parcels
                        .iter()
                        .find(|p| p.id == *parcel)
                        .and_then(|p| p.shipment.as_ref())
                        .and_then(|s| Some((s.carrier.clone()?, s.waybill.clone()?)))
                    else {
                        continue;
                    };
                    match self.couriers.track(&carrier, &waybill).await {
                        Ok(events) => {
                            let (order, changed) = self
                                .apply_track(t, id, *parcel, &waybill, &events, now)
                                .await?;
                            if changed {
                                return Ok(ShippingTimer::Tracked(order));
                            }
                        }
                        Err(e) => {
                            tracing::warn!(order = %id, parcel, error = %e, "could not ask the carrier for a silent parcel's track");
                        }
                    }
                }
                optimistic("this order", || async {
                    let current = self.db.order(t, id, true).await?;
                    let Some(ShippingStep::Attention(flagged)) = current.shipping_step(now) else {
                        return Ok(Attempt::Done(ShippingTimer::NotYet(current.shipping_due())));
                    };
                    let mut order = current.clone();
                    order.flag_parcels(&flagged, now);
                    match self.db.save_order(&order, current.version).await {
                        Ok(()) => Ok(Attempt::Done(ShippingTimer::Flagged(
                            order,
                            flagged.iter().map(|(p, _)| *p).collect(),
                        ))),
                        Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                        Err(e) => Err(e.into()),
                    }
                })
                .await
            }
        }
    }

    /// The order's shipping timer run to its next due time (at most one step per
    /// parcel and kind). None once nothing more is due.
    pub(crate) async fn run_shipping_timer(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        for _ in 0..=u8::MAX {
            match self.shipping_timer(t, id, now).await? {
                ShippingTimer::Flagged(o, parcels) => {
                    tracing::warn!(order = %o.id, ?parcels, "parcels need attention");
                }
                ShippingTimer::Lost(o, refund) => {
                    tracing::warn!(order = %o.id, refund = %refund.id, "parcel lost by the carrier: refunded");
                }
                ShippingTimer::Tracked(o) => {
                    tracing::info!(order = %o.id, "a silent parcel's track was fetched from the carrier");
                }
                ShippingTimer::NotYet(next) => return Ok(next),
            }
        }
        Ok(None)
    }
}
