//! The Payments port. A provider confirms a payment by calling our webhook with a body
//! signed by HMAC-SHA256 under a shared secret; the sandbox (local default) signs its
//! own confirmations with the same secret, so both go through one verified path.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::OrderId;
use crate::domain::money::Fen;
use crate::domain::order::Order;
use crate::domain::signing::{sign_body, verify_body};
use crate::domain::DomainError;

/// The header carrying `sha256=<hex>` of the raw body.
pub const SIGNATURE_HEADER: &str = "x-clearance-signature";

/// What a provider tells us: this order was paid this amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentNotice {
    /// `brand/group`.
    pub tenant: String,
    pub order: OrderId,
    pub amount_fen: Fen,
    /// The provider's reference for the payment (needed to refund it).
    pub payment_ref: String,
}

/// How the buyer pays for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Checkout {
    pub provider: String,
    pub amount_fen: Fen,
    /// Where to pay, when the provider works by redirect (the sandbox does).
    pub pay_url: Option<String>,
}

pub trait Payments: Send + Sync {
    fn checkout(&self, order: &Order) -> Checkout;
    /// Verifies a notification's signature and reads it.
    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<PaymentNotice, DomainError>;
}

/// A real provider's webhook: HMAC over the body with the shared secret.
pub struct WebhookProvider {
    pub name: String,
    pub secret: Vec<u8>,
}

fn read_notice(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<PaymentNotice, DomainError> {
    verify_body(secret, body, signature)?;
    serde_json::from_slice(body).map_err(|e| DomainError::invalid("body", e.to_string()))
}

impl Payments for WebhookProvider {
    fn checkout(&self, order: &Order) -> Checkout {
        Checkout {
            provider: self.name.clone(),
            amount_fen: order.total_fen,
            pay_url: None,
        }
    }

    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<PaymentNotice, DomainError> {
        read_notice(&self.secret, body, signature)
    }
}

/// The local sandbox: pays on `POST /dev/orders/{order}/pay`, which signs a notice.
pub struct Sandbox {
    pub secret: Vec<u8>,
}

impl Sandbox {
    /// A signed notice for the full amount of `order`, as a provider would send.
    pub fn notice_for(&self, order: &Order) -> (Vec<u8>, String) {
        let notice = PaymentNotice {
            tenant: order.tenant.to_string(),
            order: order.id.clone(),
            amount_fen: order.total_fen,
            payment_ref: format!("sandbox-{}", order.id),
        };
        let body = serde_json::to_vec(&notice).unwrap_or_default();
        let sig = sign_body(&self.secret, &body);
        (body, sig)
    }
}

impl Payments for Sandbox {
    fn checkout(&self, order: &Order) -> Checkout {
        Checkout {
            provider: "sandbox".into(),
            amount_fen: order.total_fen,
            pay_url: Some(format!(
                "/dev/orders/{}/pay?tenant={}",
                order.id, order.tenant
            )),
        }
    }

    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<PaymentNotice, DomainError> {
        read_notice(&self.secret, body, signature)
    }
}
