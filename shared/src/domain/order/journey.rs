//! A shipping parcel's moves on the order (the journey's types and rules of thumb are
//! in `domain::shipping`): packed, handed over, tracked, ended; the timer's findings.

use chrono::{DateTime, Duration, Utc};

use super::{Order, OrderStatus, Parcel, ParcelStatus, StatusChange};
use crate::domain::ids::{CarrierId, UserId, Waybill};
use crate::domain::money::Fen;
use crate::domain::shipping::{
    CarrierKind, CounterEvent, ParcelEnd, ShippingStep, TrackEvent, TrackStatus, HANDOVER_HOURS,
    LOST_AFTER_DAYS, SILENT_HOURS,
};
use crate::domain::DomainError;

/// Why a parcel the carrier brought back needs a person.
const RETURNED_BY_CARRIER: &str = "the carrier returned it to the store: confirm its receipt";

/// How the order's history says a parcel needed a person (the report counts these).
pub fn attention_note(parcel: u8) -> String {
    format!("parcel {parcel} needs attention:")
}

/// How far along a parcel is: a status never moves to a lower rank.
fn rank(s: ParcelStatus) -> u8 {
    match s {
        ParcelStatus::ToPack => 0,
        ParcelStatus::Packed => 1,
        ParcelStatus::HandedOver => 2,
        ParcelStatus::InTransit => 3,
        ParcelStatus::DeliveryFailed => 4,
        // Terminal.
        _ => 9,
    }
}

impl Parcel {
    /// Whether it travels by courier (a shipping parcel).
    pub fn ships(&self) -> bool {
        self.shipment.is_some()
    }

    /// Whether its journey is over (received, or ended and refunded).
    pub fn ended(&self) -> bool {
        matches!(
            self.status,
            ParcelStatus::PickedUp
                | ParcelStatus::Delivered
                | ParcelStatus::Cancelled
                | ParcelStatus::ReturnedToStore
                | ParcelStatus::Lost
        )
    }

    /// When its timer is next due, with the dispatch time of its order.
    fn shipping_due(&self, dispatched: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let sh = self.shipment.as_ref()?;
        match self.status {
            ParcelStatus::ToPack | ParcelStatus::Packed if sh.attention.is_none() => {
                Some(dispatched + Duration::hours(HANDOVER_HOURS))
            }
            ParcelStatus::HandedOver | ParcelStatus::InTransit if sh.attention.is_none() => {
                Some(self.last_news()? + Duration::hours(SILENT_HOURS))
            }
            ParcelStatus::DeliveryFailed if !self.returning() => {
                Some(sh.failed_at? + Duration::days(LOST_AFTER_DAYS))
            }
            // On its way back: a person is called if it goes silent.
            ParcelStatus::DeliveryFailed if sh.attention.is_none() => {
                Some(self.last_news()? + Duration::hours(SILENT_HOURS))
            }
            _ => None,
        }
    }

    /// The last we heard of it: its latest event, or its handover.
    fn last_news(&self) -> Option<DateTime<Utc>> {
        let sh = self.shipment.as_ref()?;
        let handed = sh.handed_over.as_ref().map(|h| h.at);
        sh.latest().map(|e| e.at).max(handed)
    }

    /// Whether the carrier says it is on its way back (or back) to the store.
    fn returning(&self) -> bool {
        self.shipment.as_ref().is_some_and(|sh| {
            sh.track.iter().any(|e| {
                matches!(
                    e.status,
                    TrackStatus::Returning | TrackStatus::ReturnedToSender
                )
            })
        })
    }
}

impl Order {
    fn shipping_parcel(&mut self, id: u8) -> Result<&mut Parcel, DomainError> {
        let p = self
            .parcels
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or(DomainError::NotFound { what: "parcel" })?;
        if p.shipment.is_none() {
            return Err(DomainError::conflict(
                "parcel-not-shipping",
                "this parcel is collected at its store, not shipped",
            ));
        }
        Ok(p)
    }

    /// A clerk confirms the parcel's units are packed (again: a reprint of the slip,
    /// nothing changes). Returns whether the order changed.
    pub fn pack(
        &mut self,
        parcel: u8,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let p = self.shipping_parcel(parcel)?;
        match p.status {
            ParcelStatus::ToPack => {
                p.status = ParcelStatus::Packed;
                if let Some(sh) = p.shipment.as_mut() {
                    sh.packed = Some(CounterEvent { by: by.clone(), at });
                }
                self.version += 1;
                Ok(true)
            }
            ParcelStatus::Packed => Ok(false),
            _ => Err(DomainError::conflict(
                "parcel-not-to-pack",
                format!("parcel {parcel} has left the packing table"),
            )),
        }
    }

    /// Records where the packing slip was written.
    pub fn set_slip(&mut self, parcel: u8, key: String) {
        if let Some(sh) = self
            .parcels
            .iter_mut()
            .find(|p| p.id == parcel)
            .and_then(|p| p.shipment.as_mut())
        {
            sh.slip = Some(key);
        }
    }

    /// A clerk hands the packed parcel to a courier under `waybill`.
    #[allow(clippy::too_many_arguments)]
    pub fn hand_over(
        &mut self,
        parcel: u8,
        carrier: CarrierId,
        kind: CarrierKind,
        waybill: Waybill,
        fee: Option<Fen>,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ready_to_hand_over(parcel)?;
        let p = self.shipping_parcel(parcel)?;
        p.status = ParcelStatus::HandedOver;
        if let Some(sh) = p.shipment.as_mut() {
            sh.carrier = Some(carrier);
            sh.kind = Some(kind);
            sh.waybill = Some(waybill);
            sh.fee_fen = fee;
            sh.handed_over = Some(CounterEvent { by: by.clone(), at });
            sh.attention = None;
        }
        self.version += 1;
        Ok(())
    }

    /// Refuses a handover of a parcel not packed, or already handed over.
    pub fn ready_to_hand_over(&self, parcel: u8) -> Result<(), DomainError> {
        let p = self
            .parcels
            .iter()
            .find(|p| p.id == parcel)
            .ok_or(DomainError::NotFound { what: "parcel" })?;
        if p.shipment.is_none() {
            return Err(DomainError::conflict(
                "parcel-not-shipping",
                "this parcel is collected at its store, not shipped",
            ));
        }
        match p.status {
            ParcelStatus::Packed => Ok(()),
            ParcelStatus::ToPack => Err(DomainError::conflict(
                "parcel-not-packed",
                format!("pack parcel {parcel} (and print its slip) before handing it over"),
            )),
            _ => Err(DomainError::conflict(
                "parcel-not-waiting",
                format!("parcel {parcel} is no longer waiting for a courier"),
            )),
        }
    }

    /// The carrier's events for a parcel, merged whatever their order or repetition.
    /// The parcel moves to the furthest status its events show and never back; a
    /// parcel already ended keeps its status (its events are still kept). Returns
    /// whether anything changed (nothing for a replay).
    pub fn track(
        &mut self,
        parcel: u8,
        waybill: &Waybill,
        events: &[TrackEvent],
        at: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let p = self.shipping_parcel(parcel)?;
        let ended = p.ended();
        let sh = p
            .shipment
            .as_mut()
            .ok_or(DomainError::NotFound { what: "shipment" })?;
        if sh.waybill.as_ref() != Some(waybill) {
            return Err(DomainError::conflict(
                "waybill-mismatch",
                "this waybill is not the parcel's",
            ));
        }
        if !sh.merge(events) {
            return Ok(false);
        }
        sh.attention = None;
        let furthest = sh.track.iter().map(|e| e.status).max();
        let to = match furthest {
            Some(TrackStatus::Delivered) => ParcelStatus::Delivered,
            Some(TrackStatus::Failed | TrackStatus::Returning | TrackStatus::ReturnedToSender) => {
                ParcelStatus::DeliveryFailed
            }
            Some(TrackStatus::InTransit | TrackStatus::OutForDelivery) => ParcelStatus::InTransit,
            None => p.status,
        };
        if sh.failed_at.is_none() {
            sh.failed_at = sh
                .track
                .iter()
                .find(|e| e.status == TrackStatus::Failed || e.status == TrackStatus::Returning)
                .map(|e| e.at);
        }
        if to == ParcelStatus::Delivered && sh.delivered_at.is_none() && !ended {
            sh.delivered_at = sh
                .track
                .iter()
                .find(|e| e.status == TrackStatus::Delivered)
                .map(|e| e.at);
        }
        let back = sh
            .track
            .iter()
            .any(|e| e.status == TrackStatus::ReturnedToSender)
            && to != ParcelStatus::Delivered
            && !ended;
        if back {
            sh.attention = Some(RETURNED_BY_CARRIER.into());
        }
        if !ended && rank(to) > rank(p.status) {
            p.status = to;
        }
        self.version += 1;
        if back {
            self.history.push(StatusChange {
                status: self.status,
                at,
                note: Some(format!("{} {RETURNED_BY_CARRIER}", attention_note(parcel))),
            });
        }
        self.settle_parcels(at, format!("parcel {parcel}: {}", self.parcel_word(parcel)));
        Ok(true)
    }

    fn parcel_word(&self, parcel: u8) -> String {
        self.parcels
            .iter()
            .find(|p| p.id == parcel)
            .map(|p| {
                serde_json::to_value(p.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Ends a parcel the carrier had: back at its store, or lost. The caller has put
    /// its units under the refund that pays for it.
    pub fn end_parcel(
        &mut self,
        parcel: u8,
        end: ParcelEnd,
        at: DateTime<Utc>,
        why: &str,
    ) -> Result<(), DomainError> {
        let p = self.shipping_parcel(parcel)?;
        if !matches!(
            p.status,
            ParcelStatus::HandedOver | ParcelStatus::InTransit | ParcelStatus::DeliveryFailed
        ) {
            return Err(DomainError::conflict(
                "parcel-not-with-carrier",
                format!("parcel {parcel} is not with a carrier"),
            ));
        }
        p.status = match end {
            ParcelEnd::ReturnedToStore => ParcelStatus::ReturnedToStore,
            ParcelEnd::Lost => ParcelStatus::Lost,
        };
        if let Some(sh) = p.shipment.as_mut() {
            sh.attention = None;
        }
        self.version += 1;
        self.settle_parcels(at, format!("parcel {parcel} {why}"));
        Ok(())
    }

    /// When the shipping timer is next due: a parcel's handover deadline, its silence
    /// limit, or the day a failed delivery counts as lost.
    pub fn shipping_due(&self) -> Option<DateTime<Utc>> {
        if self.status != OrderStatus::Shipped {
            return None;
        }
        let dispatched = self.dispatched_at()?;
        self.parcels
            .iter()
            .filter_map(|p| p.shipping_due(dispatched))
            .min()
    }

    /// What the shipping timer does at `now`: the parcels now needing a person, or the
    /// first parcel now lost. None when nothing is due.
    pub fn shipping_step(&self, now: DateTime<Utc>) -> Option<ShippingStep> {
        let dispatched = self.dispatched_at()?;
        if self.status != OrderStatus::Shipped {
            return None;
        }
        let due = |p: &&Parcel| p.shipping_due(dispatched).is_some_and(|d| now >= d);
        if let Some(p) = self
            .parcels
            .iter()
            .filter(due)
            .find(|p| p.status == ParcelStatus::DeliveryFailed && !p.returning())
        {
            return Some(ShippingStep::Lost(p.id));
        }
        let flagged: Vec<(u8, String)> = self
            .parcels
            .iter()
            .filter(due)
            .map(|p| {
                let why = if rank(p.status) < rank(ParcelStatus::HandedOver) {
                    format!("not handed to a courier within {HANDOVER_HOURS} hours of dispatch")
                } else {
                    format!("no tracking event for {SILENT_HOURS} hours")
                };
                (p.id, why)
            })
            .collect();
        (!flagged.is_empty()).then_some(ShippingStep::Attention(flagged))
    }

    /// Flags parcels for a person (the shipping timer's finding).
    pub fn flag_parcels(&mut self, flagged: &[(u8, String)], at: DateTime<Utc>) {
        for (id, why) in flagged {
            if let Some(sh) = self
                .parcels
                .iter_mut()
                .find(|p| p.id == *id)
                .and_then(|p| p.shipment.as_mut())
            {
                sh.attention = Some(why.clone());
            }
            self.history.push(StatusChange {
                status: self.status,
                at,
                note: Some(format!("{} {why}", attention_note(*id))),
            });
        }
        self.version += 1;
    }

    /// The order with each parcel's track cut to its latest event (the order's views;
    /// the whole track is the parcel's own route).
    pub fn track_summary(mut self) -> Self {
        for sh in self.parcels.iter_mut().filter_map(|p| p.shipment.as_mut()) {
            let n = sh.track.len().saturating_sub(1);
            sh.track.drain(..n);
        }
        self
    }

    /// Whether any parcel is flagged for a person.
    pub fn parcels_need_attention(&self) -> bool {
        self.parcels
            .iter()
            .any(|p| !p.ended() && p.shipment.as_ref().is_some_and(|s| s.attention.is_some()))
    }
}

#[cfg(test)]
mod tests;
