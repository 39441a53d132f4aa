//! The group's CRM over HTTPS: `POST {base}/members/enrol` with `{phone}` looks the
//! person up by phone or enrols them, answering `{member_id, levels: {brand: level}}`. Requests are
//! signed like the payment provider's (HMAC-SHA256 over the body in
//! `X-Clearance-Signature`); refused (4xx) and unavailable (5xx, network) answers are
//! told apart. The client is built on first use, off the cold start.

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

use super::{CrmMember, Membership, MembershipError};
use crate::domain::catalog::Phone;
use crate::domain::signing::sign_body;
use crate::payments::SIGNATURE_HEADER;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

const TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpMembership {
    base: String,
    secret: Vec<u8>,
    client: OnceLock<Client<Https, Full<Bytes>>>,
}

impl HttpMembership {
    pub fn new(base: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        HttpMembership {
            base: base.into().trim_end_matches('/').to_owned(),
            secret: secret.into(),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Client<Https, Full<Bytes>>, MembershipError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| MembershipError::Unavailable(format!("no CA roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(self.client.get_or_init(|| client))
    }
}

#[async_trait]
impl Membership for HttpMembership {
    async fn enrol(&self, phone: &Phone) -> Result<CrmMember, MembershipError> {
        let number: String = phone.clone().into();
        let body = serde_json::to_vec(&serde_json::json!({"phone": number}))
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("{}/members/enrol", self.base))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign_body(&self.secret, &body))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        let res = tokio::time::timeout(TIMEOUT, self.client()?.request(req))
            .await
            .map_err(|_| MembershipError::Unavailable("the CRM did not answer in time".into()))?
            .map_err(|e| MembershipError::Unavailable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| MembershipError::Unavailable(e.to_string()))?
            .to_bytes();
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| MembershipError::Unavailable(format!("unreadable answer: {e}")));
        }
        // Never echo the body: it may repeat the number.
        if status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS {
            Err(MembershipError::Refused(status.to_string()))
        } else {
            Err(MembershipError::Unavailable(status.to_string()))
        }
    }
}
