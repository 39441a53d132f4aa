//! The group's CRM over HTTPS: `POST {base}/members/enrol` with `{phone}` looks the
//! person up by phone or enrols them, answering `{member_id, levels: {brand: level}}`. Requests are
//! signed like the payment provider's (HMAC-SHA256 over the body in
//! `X-Clearance-Signature`); refused (4xx) and unavailable (5xx, network) answers are
//! told apart. The client is built on first use, off the cold start.

use async_trait::async_trait;
use std::time::Duration;

use super::{CrmMember, Membership, MembershipError};
use crate::domain::catalog::Phone;
use crate::outbound::{Failure, SignedApi};

const TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpMembership {
    api: SignedApi,
}

impl HttpMembership {
    pub fn new(base: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        HttpMembership {
            api: SignedApi::new(base, secret, TIMEOUT),
        }
    }
}

impl From<Failure> for MembershipError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(why) => MembershipError::Refused(why),
            Failure::Unavailable(why) => MembershipError::Unavailable(format!("the CRM: {why}")),
        }
    }
}

#[async_trait]
impl Membership for HttpMembership {
    async fn enrol(&self, phone: &Phone) -> Result<CrmMember, MembershipError> {
        let number: String = phone.clone().into();
        let body = serde_json::to_vec(&serde_json::json!({"phone": number}))
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        let (status, bytes) = self
            .api
            .call(http::Method::POST, "/members/enrol", body)
            .await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| MembershipError::Unavailable(format!("unreadable answer: {e}")));
        }
        // Never echo the body: it may repeat the number.
        Err(Failure::of_status(status).into())
    }
}
