//! The Couriers port, shaped after the Chinese tracking aggregators (one API over SF,
//! ZTO, YTO, EMS, JD...): create an electronic waybill for a parcel (or take the one
//! the clerk scanned), subscribe the waybill with a reference of ours, and receive the
//! carrier's track as signed pushes (`POST /v1/couriers/notify`, HMAC-SHA256 over the
//! body like payment notices, the whole track each time), or ask for it.
//!
//! [`http::HttpCouriers`] speaks to the aggregator; [`Sandbox`] stands in for it
//! locally and in tests, moving every subscribed parcel along a schedule (or a script:
//! refused at the door, silent) and signing its pushes with the same secret.

pub mod http;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

use crate::clock::Clock;
use crate::domain::catalog::{Address, Phone};
use crate::domain::ids::{CarrierId, OrderId, StoreId, Waybill};
use crate::domain::shipping::{TrackEvent, TrackStatus, SAME_CITY};
use crate::domain::signing::{sign_body, verify_body};
use crate::domain::DomainError;

/// The carriers a clerk may hand a parcel to (and `same-city`, where the store rides).
pub const CARRIERS: [&str; 7] = ["sf", "zto", "yto", "sto", "yunda", "ems", "jd"];

/// What a carrier needs to print a waybill. The receiver is personal data: `Debug`
/// redacts it (the address and phone types do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaybillRequest {
    pub carrier: CarrierId,
    /// Our reference: `brand/group`, the order and the parcel.
    pub tenant: String,
    pub order: OrderId,
    pub parcel: u8,
    pub from_store: StoreId,
    pub to: Option<Address>,
    pub phone: Option<Phone>,
}

/// A waybill to follow, with the reference the pushes carry back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    pub carrier: CarrierId,
    pub waybill: Waybill,
    /// `brand/group`.
    pub tenant: String,
    pub order: OrderId,
    pub parcel: u8,
}

/// What the aggregator pushes: the waybill's whole track as the carrier has it, with
/// our reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingPush {
    /// `brand/group`.
    pub tenant: String,
    pub order: OrderId,
    pub parcel: u8,
    pub carrier: CarrierId,
    pub waybill: Waybill,
    pub events: Vec<TrackEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierError {
    /// The aggregator will not take it (a 4xx): asking again will not help.
    #[error("the courier refused: {0}")]
    Refused(String),
    /// Unreachable or failing: worth asking again.
    #[error("the courier is unavailable: {0}")]
    Unavailable(String),
}

impl CourierError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, CourierError::Unavailable(_))
    }
}

#[async_trait]
pub trait Couriers: Send + Sync {
    /// An electronic waybill for the parcel.
    async fn create_waybill(&self, req: &WaybillRequest) -> Result<Waybill, CourierError>;
    /// Follows a waybill: its pushes come to our notify route with `sub`'s reference.
    async fn subscribe(&self, sub: &Subscription) -> Result<(), CourierError>;
    /// The waybill's track as the carrier has it now.
    async fn track(
        &self,
        carrier: &CarrierId,
        waybill: &Waybill,
    ) -> Result<Vec<TrackEvent>, CourierError>;
    /// Verifies a push's signature and reads it.
    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<TrackingPush, DomainError>;
    /// The signed pushes it has due by `at`. A real aggregator pushes by itself: only
    /// the sandbox has any (the local server and tests deliver them).
    fn due_pushes(&self, _at: DateTime<Utc>) -> Vec<(Vec<u8>, String)> {
        Vec::new()
    }
}

fn read_push(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<TrackingPush, DomainError> {
    verify_body(secret, body, signature)?;
    serde_json::from_slice(body).map_err(|e| DomainError::invalid("body", e.to_string()))
}

/// No aggregator configured: every call fails (retryably), every push is refused.
pub struct Unconfigured;

#[async_trait]
impl Couriers for Unconfigured {
    async fn create_waybill(&self, _: &WaybillRequest) -> Result<Waybill, CourierError> {
        Err(CourierError::Unavailable(
            "no courier API configured (COURIER_API_URL)".into(),
        ))
    }
    async fn subscribe(&self, _: &Subscription) -> Result<(), CourierError> {
        Err(CourierError::Unavailable(
            "no courier API configured (COURIER_API_URL)".into(),
        ))
    }
    async fn track(&self, _: &CarrierId, _: &Waybill) -> Result<Vec<TrackEvent>, CourierError> {
        Err(CourierError::Unavailable(
            "no courier API configured (COURIER_API_URL)".into(),
        ))
    }
    fn verify(&self, _: &[u8], _: Option<&str>) -> Result<TrackingPush, DomainError> {
        Err(DomainError::Unauthenticated)
    }
}

/// How the sandbox moves a parcel once subscribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Script {
    /// Collected, through the hubs, delivered (about 30 hours; a rider, 90 minutes).
    #[default]
    Deliver,
    /// Refused at the door, then back to the store.
    Refuse,
    /// Collected, then nothing more is ever heard.
    Vanish,
}

impl Script {
    /// (minutes after the subscription, status, place) of each event.
    fn steps(self, same_city: bool) -> &'static [(i64, TrackStatus, &'static str)] {
        use TrackStatus::*;
        match (self, same_city) {
            (Script::Deliver, true) => &[
                (20, OutForDelivery, "骑手已取件"),
                (90, Delivered, "已签收"),
            ],
            (Script::Deliver, false) => &[
                (120, InTransit, "已揽收"),
                (840, InTransit, "到达转运中心"),
                (1560, OutForDelivery, "派送中"),
                (1800, Delivered, "已签收"),
            ],
            (Script::Refuse, _) => &[
                (120, InTransit, "已揽收"),
                (1560, OutForDelivery, "派送中"),
                (1620, Failed, "收件人拒收"),
                (2400, Returning, "退回中"),
                (3600, ReturnedToSender, "寄件门店已签收退件"),
            ],
            (Script::Vanish, _) => &[(120, InTransit, "已揽收")],
        }
    }
}

struct Followed {
    sub: Option<Subscription>,
    since: DateTime<Utc>,
    script: Script,
    /// Events already pushed.
    pushed: usize,
}

/// The local aggregator: numbers waybills `SB` + 10 digits, moves subscribed parcels
/// along their [`Script`] by its clock, and signs its pushes with its secret.
pub struct Sandbox {
    pub secret: Vec<u8>,
    clock: Arc<dyn Clock>,
    followed: Mutex<BTreeMap<(CarrierId, Waybill), Followed>>,
    next_script: Mutex<Script>,
    issued: std::sync::atomic::AtomicU64,
}

impl Sandbox {
    pub fn new(secret: Vec<u8>, clock: Arc<dyn Clock>) -> Self {
        Sandbox {
            secret,
            clock,
            followed: Mutex::new(BTreeMap::new()),
            next_script: Mutex::new(Script::Deliver),
            issued: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The waybills created or subscribed from now on follow `script`.
    pub fn script_next(&self, script: Script) {
        *self.next_script.lock().unwrap_or_else(|p| p.into_inner()) = script;
    }

    fn script(&self) -> Script {
        *self.next_script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The events of a followed waybill due by `at`.
    fn due_events(f: &Followed, carrier: &CarrierId, at: DateTime<Utc>) -> Vec<TrackEvent> {
        let same_city = carrier.as_str() == SAME_CITY;
        f.script
            .steps(same_city)
            .iter()
            .map(|(m, status, place)| TrackEvent {
                at: f.since + Duration::minutes(*m),
                status: *status,
                place: Some((*place).to_owned()),
                note: None,
            })
            .filter(|e| e.at <= at)
            .collect()
    }

    /// Signs a push as the aggregator would send it.
    pub fn signed(&self, push: &TrackingPush) -> (Vec<u8>, String) {
        let body = serde_json::to_vec(push).unwrap_or_default();
        let sig = sign_body(&self.secret, &body);
        (body, sig)
    }

    /// The pushes due by `at` (the whole track of every subscribed waybill with an
    /// event not pushed yet), signed; each is counted as pushed.
    pub fn pushes_due(&self, at: DateTime<Utc>) -> Vec<(Vec<u8>, String)> {
        let mut out = Vec::new();
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        for ((carrier, waybill), f) in followed.iter_mut() {
            let Some(sub) = f.sub.clone() else { continue };
            let events = Self::due_events(f, carrier, at);
            if events.len() > f.pushed {
                f.pushed = events.len();
                out.push(self.signed(&TrackingPush {
                    tenant: sub.tenant,
                    order: sub.order,
                    parcel: sub.parcel,
                    carrier: carrier.clone(),
                    waybill: waybill.clone(),
                    events,
                }));
            }
        }
        out
    }

    /// How many waybills it follows (subscribed).
    pub fn subscribed(&self) -> usize {
        let followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        followed.values().filter(|f| f.sub.is_some()).count()
    }
}

#[async_trait]
impl Couriers for Sandbox {
    async fn create_waybill(&self, req: &WaybillRequest) -> Result<Waybill, CourierError> {
        if req.carrier.as_str() != SAME_CITY && !CARRIERS.contains(&req.carrier.as_str()) {
            return Err(CourierError::Refused(format!(
                "unknown carrier {}",
                req.carrier
            )));
        }
        let n = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let waybill = Waybill::parse(&format!("SB{:010}", n))
            .map_err(|e| CourierError::Refused(e.to_string()))?;
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        followed.insert(
            (req.carrier.clone(), waybill.clone()),
            Followed {
                sub: None,
                since: self.clock.now(),
                script: self.script(),
                pushed: 0,
            },
        );
        Ok(waybill)
    }

    async fn subscribe(&self, sub: &Subscription) -> Result<(), CourierError> {
        let now = self.clock.now();
        let script = self.script();
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        // A scanned waybill is new to it; a created one starts moving now. Subscribing
        // again changes nothing.
        let f = followed
            .entry((sub.carrier.clone(), sub.waybill.clone()))
            .or_insert(Followed {
                sub: None,
                since: now,
                script,
                pushed: 0,
            });
        if f.sub.is_none() {
            f.sub = Some(sub.clone());
            f.since = now;
        }
        Ok(())
    }

    async fn track(
        &self,
        carrier: &CarrierId,
        waybill: &Waybill,
    ) -> Result<Vec<TrackEvent>, CourierError> {
        let followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        let f = followed
            .get(&(carrier.clone(), waybill.clone()))
            .ok_or_else(|| CourierError::Refused(format!("unknown waybill {waybill}")))?;
        Ok(Self::due_events(f, carrier, self.clock.now()))
    }

    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<TrackingPush, DomainError> {
        read_push(&self.secret, body, signature)
    }

    fn due_pushes(&self, at: DateTime<Utc>) -> Vec<(Vec<u8>, String)> {
        self.pushes_due(at)
    }
}
