//! The provider's refund API over HTTPS: `POST {base}/refunds` asks for a refund under
//! our refund id (`out_refund_no`), `GET {base}/refunds/{id}` reads its state. Requests
//! are signed like the provider's notices (HMAC-SHA256 over the body, or over the path
//! for a read, in `X-Clearance-Signature`). Refused (4xx) and unavailable (5xx, network)
//! answers are told apart, so the worker retries only what may succeed.
//!
//! The client is built on first use, not at init: only the refund worker links it,
//! and reading the system's CA roots stays off its cold start.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{PaymentError, RefundApi, RefundState};
use crate::domain::ids::{PaymentRef, RefundId};
use crate::domain::money::Fen;
use crate::outbound::{Failure, SignedApi};

pub struct HttpRefundApi {
    api: SignedApi,
}

impl From<Failure> for PaymentError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(why) => PaymentError::Refused(why),
            Failure::Unavailable(why) => PaymentError::Unavailable(format!("the provider: {why}")),
        }
    }
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
            api: SignedApi::new(base, secret, TIMEOUT),
        }
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(http::StatusCode, bytes::Bytes), PaymentError> {
        Ok(self.api.call(method, path, body).await?)
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
