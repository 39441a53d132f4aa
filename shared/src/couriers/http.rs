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
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;

use super::{read_push, CourierError, Couriers, Subscription, TrackingPush, WaybillRequest};
use crate::domain::ids::{CarrierId, Waybill};
use crate::domain::shipping::TrackEvent;
use crate::domain::signing::sign_body;
use crate::domain::DomainError;
use crate::payments::SIGNATURE_HEADER;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

const TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpCouriers {
    base: String,
    secret: Vec<u8>,
    push_secret: Vec<u8>,
    /// Where the aggregator pushes (our `/v1/couriers/notify`).
    callback: String,
    client: OnceLock<Client<Https, Full<Bytes>>>,
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
            base: base.into().trim_end_matches('/').to_owned(),
            secret: secret.into(),
            push_secret: push_secret.into(),
            callback: callback.into(),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Client<Https, Full<Bytes>>, CourierError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| CourierError::Unavailable(format!("no CA roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(self.client.get_or_init(|| client))
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Bytes, CourierError> {
        let signed = if body.is_empty() {
            path.as_bytes().to_vec()
        } else {
            body.clone()
        };
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign_body(&self.secret, &signed))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| CourierError::Refused(e.to_string()))?;
        let res = tokio::time::timeout(TIMEOUT, self.client()?.request(req))
            .await
            .map_err(|_| {
                CourierError::Unavailable("the courier API did not answer in time".into())
            })?
            .map_err(|e| CourierError::Unavailable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| CourierError::Unavailable(e.to_string()))?
            .to_bytes();
        if status.is_success() {
            Ok(bytes)
        } else if status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS {
            Err(CourierError::Refused(status.to_string()))
        } else {
            Err(CourierError::Unavailable(status.to_string()))
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
