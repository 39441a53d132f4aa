//! The tracking aggregator over HTTPS, as the common Chinese aggregators work: `POST
//! {base}/waybills` (an electronic waybill for a parcel: `{waybill}`), `POST
//! {base}/subscriptions` (follow a waybill; pushes go to our callback with our
//! reference), `GET {base}/tracks/{carrier}/{waybill}` (`{events}`). Requests are
//! signed with HMAC-SHA256 like every webhook of ours (over the body, or the path for a
//! GET); pushes are verified with the push secret. Refused (4xx) and unavailable (5xx,
//! network, timeout) answers are told apart. The client is built on first use, off
//! the cold start. Never logs a body: a waybill request carries the buyer's address.

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use std::time::Duration;

use super::{read_push, CourierError, Couriers, Subscription, TrackingPush, WaybillRequest};
use crate::domain::ids::{CarrierId, Waybill};
use crate::domain::shipping::TrackEvent;
use crate::domain::DomainError;
use crate::outbound::{Failure, SignedApi};

const TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpCouriers {
    api: SignedApi,
    push_secret: Vec<u8>,
    /// Where the aggregator pushes (our `/v1/couriers/notify`).
    callback: String,
}

impl From<Failure> for CourierError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(why) => CourierError::Refused(why),
            Failure::Unavailable(why) => CourierError::Unavailable(why),
        }
    }
}

#[derive(Deserialize)]
struct Created {
    waybill: Waybill,
}

#[derive(Deserialize)]
struct Track {
    events: Vec<TrackEvent>,
}

impl HttpCouriers {
    pub fn new(
        base: impl Into<String>,
        secret: impl Into<Vec<u8>>,
        push_secret: impl Into<Vec<u8>>,
        callback: impl Into<String>,
    ) -> Self {
        HttpCouriers {
            api: SignedApi::new(base, secret, TIMEOUT),
            push_secret: push_secret.into(),
            callback: callback.into(),
        }
    }

    /// The answer's body when it is a success.
    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Bytes, CourierError> {
        let (status, bytes) = self.api.call(method, path, body).await?;
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(Failure::of_status(status).into())
        }
    }
}

fn unreadable(e: serde_json::Error) -> CourierError {
    CourierError::Unavailable(format!("unreadable answer: {e}"))
}

#[async_trait]
impl Couriers for HttpCouriers {
    async fn create_waybill(&self, req: &WaybillRequest) -> Result<Waybill, CourierError> {
        let body = serde_json::to_vec(req).map_err(|e| CourierError::Refused(e.to_string()))?;
        let bytes = self.call(http::Method::POST, "/waybills", body).await?;
        Ok(serde_json::from_slice::<Created>(&bytes)
            .map_err(unreadable)?
            .waybill)
    }

    async fn subscribe(&self, sub: &Subscription) -> Result<(), CourierError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "carrier": sub.carrier, "waybill": sub.waybill, "callback": self.callback,
            "reference": {"tenant": sub.tenant, "order": sub.order, "parcel": sub.parcel},
        }))
        .map_err(|e| CourierError::Refused(e.to_string()))?;
        self.call(http::Method::POST, "/subscriptions", body)
            .await
            .map(|_| ())
    }

    async fn track(
        &self,
        carrier: &CarrierId,
        waybill: &Waybill,
    ) -> Result<Vec<TrackEvent>, CourierError> {
        let path = format!("/tracks/{carrier}/{waybill}");
        let bytes = self.call(http::Method::GET, &path, Vec::new()).await?;
        Ok(serde_json::from_slice::<Track>(&bytes)
            .map_err(unreadable)?
            .events)
    }

    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<TrackingPush, DomainError> {
        read_push(&self.push_secret, body, signature)
    }
}
