//! Parcels that travel: a shipping parcel's journey from its store to the buyer's door.
//!
//! ```text
//! to_pack ─pack─▶ packed ─hand over─▶ handed_over ─track─▶ in_transit ─track─▶ delivered
//!                                                        └─track─▶ delivery_failed ─┬─clerk─▶ returned_to_store
//!                                                                                   └─timer/staff─▶ lost
//! ```
//!
//! The carrier's tracking events are merged into the parcel's track whatever order or
//! however often they arrive: the parcel's status is decided by the furthest event it
//! has (never moved backwards), so a replayed or late push changes nothing. A parcel
//! still at the store is cancelled whole like an uncollected pickup parcel; a parcel
//! lost by the carrier, or returned to the store unclaimed, is refunded in full
//! (`refund::decide_parcel_end`). The return window starts at delivery.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::geo::GeoPoint;
use super::ids::{CarrierId, UserId, Waybill};
use super::money::Fen;
use super::DomainError;

/// A parcel not handed to a courier this long after dispatch needs a person.
pub const HANDOVER_HOURS: i64 = 48;
/// A parcel with the carrier and no tracking event for this long needs a person.
pub const SILENT_HOURS: i64 = 72;
/// A parcel whose delivery failed and that is not back at its store this long after is
/// declared lost and refunded.
pub const LOST_AFTER_DAYS: i64 = 7;
/// Tracking events a parcel keeps (the latest).
pub const KEPT_EVENTS: usize = 60;
/// The carrier code of a store's same-city rider.
pub const SAME_CITY: &str = "same-city";

/// What a carrier says happened to a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackStatus {
    /// Collected, moving between hubs.
    InTransit,
    /// With the courier for the last mile.
    OutForDelivery,
    /// The delivery failed (nobody in, refused, address problem).
    Failed,
    /// On its way back to the store.
    Returning,
    /// The store signed for it coming back.
    ReturnedToSender,
    /// The buyer signed for it.
    Delivered,
}

/// One event of a carrier's track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackEvent {
    pub at: DateTime<Utc>,
    pub status: TrackStatus,
    /// Where, as the carrier writes it ("广州天河集散中心").
    #[serde(default)]
    pub place: Option<String>,
    /// The carrier's own words.
    #[serde(default)]
    pub note: Option<String>,
}

/// How a parcel travels: the courier's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CarrierKind {
    /// A national express carrier, tracked through the aggregator.
    Express,
    /// The store's same-city rider: a fixed fee within a radius of the store.
    SameCity,
}

/// A store's same-city delivery: what it costs the store and how far it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SameCityOffer {
    pub fee_fen: Fen,
    /// From the store's coordinates, in metres (at most 50 km).
    pub radius_m: u32,
}

impl SameCityOffer {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.radius_m == 0 || self.radius_m > 50_000 {
            return Err(DomainError::invalid(
                format!("{field}.radius_m"),
                "between 1 and 50000 metres",
            ));
        }
        Ok(())
    }

    /// Whether a rider from `store` may take a parcel to `drop`: both points known and
    /// within the radius. The reason when not.
    pub fn reaches(&self, store: Option<&GeoPoint>, drop: Option<&GeoPoint>) -> Result<(), String> {
        let store = store.ok_or("the store has no coordinates")?;
        let drop = drop.ok_or("the delivery has no map location")?;
        let d = store.metres_to(drop);
        if d > f64::from(self.radius_m) {
            return Err(format!(
                "the address is {:.1} km from the store, beyond its {:.1} km same-city radius",
                d / 1000.0,
                f64::from(self.radius_m) / 1000.0
            ));
        }
        Ok(())
    }
}

/// A shipping parcel's journey so far.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Shipment {
    /// Who packed it, and when.
    #[serde(default)]
    pub packed: Option<CounterEvent>,
    /// The packing slip's key in the bucket.
    #[serde(default)]
    pub slip: Option<String>,
    #[serde(default)]
    pub carrier: Option<CarrierId>,
    #[serde(default)]
    pub kind: Option<CarrierKind>,
    #[serde(default)]
    pub waybill: Option<Waybill>,
    /// Who handed it to the courier, and when.
    #[serde(default)]
    pub handed_over: Option<CounterEvent>,
    /// A same-city rider's fee, borne by the store.
    #[serde(default)]
    pub fee_fen: Option<Fen>,
    /// The carrier's events, oldest first (the latest [`KEPT_EVENTS`]).
    #[serde(default)]
    pub track: Vec<TrackEvent>,
    /// When the buyer signed for it.
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// When its delivery first failed.
    #[serde(default)]
    pub failed_at: Option<DateTime<Utc>>,
    /// Why it needs a person (not handed over in time, silent, back at the sender).
    #[serde(default)]
    pub attention: Option<String>,
}

impl Shipment {
    /// The latest event.
    pub fn latest(&self) -> Option<&TrackEvent> {
        self.track.last()
    }

    /// Merges `events` into the track (each event once, by its time, status and place);
    /// whether anything was new.
    pub(crate) fn merge(&mut self, events: &[TrackEvent]) -> bool {
        let before = self.track.len();
        for e in events {
            if !self.track.contains(e) {
                self.track.push(e.clone());
            }
        }
        let new = self.track.len() != before;
        if new {
            self.track
                .sort_by(|a, b| a.at.cmp(&b.at).then(a.status.cmp(&b.status)));
            let excess = self.track.len().saturating_sub(KEPT_EVENTS);
            self.track.drain(..excess);
        }
        new
    }
}

/// Someone at a counter (a pickup, a packing table, a courier's handover), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CounterEvent {
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// How a parcel with the carrier ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParcelEnd {
    /// Back at its store unclaimed: its units return to the store's count.
    ReturnedToStore,
    /// Lost by the carrier: refunded, its units gone.
    Lost,
}

/// What the shipping timer finds due on an order at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShippingStep {
    /// These parcels now need a person, each for its reason.
    Attention(Vec<(u8, String)>),
    /// This parcel's delivery failed too long ago: it is lost.
    Lost(u8),
}
