//! Outbound HTTPS to the group's partners (the payment provider's refund API, the CRM,
//! the courier aggregator), as every adapter of them calls it: one client per adapter,
//! built on its first call (reading the CA roots stays off the cold start), each
//! request signed with HMAC-SHA256 in `X-Clearance-Signature` (over the body, or over
//! the path for a bodiless read), a time limit, and the answer's status and body. What
//! an answer means is the adapter's; [`Failure`] tells refused from unavailable.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

use crate::domain::signing::{sign_body, SIGNATURE_HEADER};

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why a call did not get a useful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The partner will not take it (a 4xx other than 429): asking again will not help.
    Refused(String),
    /// Unreachable, timed out, busy or failing: worth asking again.
    Unavailable(String),
}

impl Failure {
    /// What a non-success status means (the body is never echoed: it may carry
    /// personal data).
    pub fn of_status(status: http::StatusCode) -> Failure {
        if status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS {
            Failure::Refused(status.to_string())
        } else {
            Failure::Unavailable(status.to_string())
        }
    }
}

/// A partner's API at `base`, requests signed with `secret`.
pub struct SignedApi {
    base: String,
    secret: Vec<u8>,
    timeout: Duration,
    client: OnceLock<Client<Https, Full<Bytes>>>,
}

impl SignedApi {
    pub fn new(base: impl Into<String>, secret: impl Into<Vec<u8>>, timeout: Duration) -> Self {
        SignedApi {
            base: base.into().trim_end_matches('/').to_owned(),
            secret: secret.into(),
            timeout,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Client<Https, Full<Bytes>>, Failure> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| Failure::Unavailable(format!("no CA roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(self.client.get_or_init(|| client))
    }

    /// `method {base}{path}` with `body` (JSON), signed; the answer's status and body.
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(http::StatusCode, Bytes), Failure> {
        let signed = if body.is_empty() {
            sign_body(&self.secret, path.as_bytes())
        } else {
            sign_body(&self.secret, &body)
        };
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let res = tokio::time::timeout(self.timeout, self.client()?.request(req))
            .await
            .map_err(|_| Failure::Unavailable("no answer in time".into()))?
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::Unavailable(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    }
}
