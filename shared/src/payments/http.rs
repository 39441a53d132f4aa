//! The provider's refund API over HTTPS: `POST {base}/refunds` asks for a refund under
//! our refund id (`out_refund_no`), `GET {base}/refunds/{id}` reads its state. Requests
//! are signed like the provider's notices (HMAC-SHA256 over the body, or over the path
//! for a read, in `X-Clearance-Signature`). Refused (4xx) and unavailable (5xx, network)
//! answers are told apart, so the worker retries only what may succeed.
//!
//! The client is built on first use, not at init: only the refund worker links it,
//! and reading the system's CA roots stays off its cold start.

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

use super::{PaymentError, RefundApi, RefundState, SIGNATURE_HEADER};
use crate::domain::ids::{PaymentRef, RefundId};
use crate::domain::money::Fen;
use crate::domain::signing::sign_body;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct HttpRefundApi {
    base: String,
    secret: Vec<u8>,
    client: OnceLock<Client<Https, Full<Bytes>>>,
}

/// The request body of a refund.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RefundCall {
    pub out_refund_no: RefundId,
    pub payment_ref: PaymentRef,
    pub amount_fen: Fen,
}

/// What the provider says of a refund.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RefundStatusBody {
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl HttpRefundApi {
    pub fn new(base: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        HttpRefundApi {
            base: base.into().trim_end_matches('/').to_owned(),
            secret: secret.into(),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Client<Https, Full<Bytes>>, PaymentError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| PaymentError::Unavailable(format!("no CA roots: {e}")))?
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
    ) -> Result<(http::StatusCode, Bytes), PaymentError> {
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
            .map_err(|e| PaymentError::Refused(e.to_string()))?;
        let res = tokio::time::timeout(TIMEOUT, self.client()?.request(req))
            .await
            .map_err(|_| PaymentError::Unavailable("the provider did not answer in time".into()))?
            .map_err(|e| PaymentError::Unavailable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| PaymentError::Unavailable(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    }
}

fn classify(status: http::StatusCode, body: &[u8]) -> PaymentError {
    let text = String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .collect::<String>();
    if status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS {
        PaymentError::Refused(format!("{status}: {text}"))
    } else {
        PaymentError::Unavailable(format!("{status}: {text}"))
    }
}

#[async_trait]
impl RefundApi for HttpRefundApi {
    async fn refund(
        &self,
        id: &RefundId,
        payment: &PaymentRef,
        amount: Fen,
    ) -> Result<(), PaymentError> {
        let body = serde_json::to_vec(&RefundCall {
            out_refund_no: id.clone(),
            payment_ref: payment.clone(),
            amount_fen: amount,
        })
        .unwrap_or_default();
        let (status, bytes) = self.call(http::Method::POST, "/refunds", body).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(classify(status, &bytes))
        }
    }

    async fn refund_state(&self, id: &RefundId) -> Result<RefundState, PaymentError> {
        let path = format!("/refunds/{id}");
        let (status, bytes) = self.call(http::Method::GET, &path, Vec::new()).await?;
        if status == http::StatusCode::NOT_FOUND {
            return Ok(RefundState::Unknown);
        }
        if !status.is_success() {
            return Err(classify(status, &bytes));
        }
        let body: RefundStatusBody = serde_json::from_slice(&bytes)
            .map_err(|e| PaymentError::Unavailable(format!("unreadable answer: {e}")))?;
        Ok(match body.status.as_str() {
            "succeeded" => RefundState::Succeeded,
            "failed" => RefundState::Failed(body.reason.unwrap_or_default()),
            _ => RefundState::Pending,
        })
    }
}
