//! The Payments port. A provider confirms a payment, and the result of a refund, by
//! calling our webhooks with a body signed by HMAC-SHA256 under a shared secret; we ask
//! it to refund with `refund(id, payment, amount)`, where `id` is our deterministic
//! refund id (its `out_refund_no`): the provider refunds once per id however often it
//! is asked. The sandbox (local default) signs its own notices with the same secret and
//! keeps a ledger of the refunds it paid, so tests can count them.

pub mod http;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use thiserror::Error;
use utoipa::ToSchema;

use crate::domain::ids::{OrderId, PaymentRef, RefundId};
use crate::domain::money::Fen;
use crate::domain::order::Order;
use crate::domain::signing::{sign_body, verify_body};
use crate::domain::DomainError;

pub use crate::domain::signing::SIGNATURE_HEADER;

/// What a provider tells us: this order was paid this amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentNotice {
    /// `brand/group`.
    pub tenant: String,
    pub order: OrderId,
    pub amount_fen: Fen,
    /// The provider's reference for the payment (needed to refund it).
    pub payment_ref: PaymentRef,
}

/// What a provider tells us about a refund it was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundNotice {
    /// `brand/group`.
    pub tenant: String,
    pub refund: RefundId,
    pub status: RefundOutcome,
    /// What the provider refunded (or failed to): must be the refund's amount.
    pub amount_fen: Fen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundOutcome {
    Succeeded,
    Failed,
}

/// What the provider says of a refund when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    /// Accepted, not settled yet.
    Pending,
    Succeeded,
    Failed(String),
    /// It has never heard of this id.
    Unknown,
}

/// How the buyer pays for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Checkout {
    pub provider: String,
    pub amount_fen: Fen,
    /// Where to pay, when the provider works by redirect (the sandbox does).
    pub pay_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaymentError {
    /// Could not reach the provider, or it was busy: ask again later.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request itself (an amount over what the payment left,
    /// an unknown payment): asking again will not help.
    #[error("payment provider refused: {0}")]
    Refused(String),
}

impl PaymentError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PaymentError::Unavailable(_))
    }
}

#[async_trait]
pub trait Payments: Send + Sync {
    fn checkout(&self, order: &Order) -> Checkout;
    /// Verifies a payment notification's signature and reads it.
    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<PaymentNotice, DomainError>;
    /// Verifies a refund notification's signature and reads it.
    fn verify_refund(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<RefundNotice, DomainError>;
    /// Asks for a refund of `amount` of `payment`, once per `id`. Accepted means the
    /// provider took the request; the result comes by notice or [`Payments::refund_state`].
    async fn refund(
        &self,
        id: &RefundId,
        payment: &PaymentRef,
        amount: Fen,
    ) -> Result<(), PaymentError>;
    async fn refund_state(&self, id: &RefundId) -> Result<RefundState, PaymentError>;
}

fn read<T: for<'de> Deserialize<'de>>(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<T, DomainError> {
    verify_body(secret, body, signature)?;
    serde_json::from_slice(body).map_err(|e| DomainError::invalid("body", e.to_string()))
}

/// A real provider's webhooks (HMAC over the body with the shared secret). Refunds go
/// through its API, which only the refund worker is given (`with_refund_api`); any
/// other function asking for one is told the API is not configured.
pub struct WebhookProvider {
    pub name: String,
    pub secret: Vec<u8>,
    pub refunds: Option<std::sync::Arc<dyn RefundApi>>,
}

/// A provider's refund API, as the refund worker uses it.
#[async_trait]
pub trait RefundApi: Send + Sync {
    async fn refund(
        &self,
        id: &RefundId,
        payment: &PaymentRef,
        amount: Fen,
    ) -> Result<(), PaymentError>;
    async fn refund_state(&self, id: &RefundId) -> Result<RefundState, PaymentError>;
}

#[async_trait]
impl Payments for WebhookProvider {
    fn checkout(&self, order: &Order) -> Checkout {
        Checkout {
            provider: self.name.clone(),
            amount_fen: order.total_fen,
            pay_url: None,
        }
    }

    fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<PaymentNotice, DomainError> {
        read(&self.secret, body, signature)
    }

    fn verify_refund(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<RefundNotice, DomainError> {
        read(&self.secret, body, signature)
    }

    async fn refund(
        &self,
        id: &RefundId,
        payment: &PaymentRef,
        amount: Fen,
    ) -> Result<(), PaymentError> {
        match &self.refunds {
            Some(api) => api.refund(id, payment, amount).await,
            None => Err(PaymentError::Unavailable(
                "this function has no refund API".into(),
            )),
        }
    }

    async fn refund_state(&self, id: &RefundId) -> Result<RefundState, PaymentError> {
        match &self.refunds {
            Some(api) => api.refund_state(id).await,
            None => Err(PaymentError::Unavailable(
                "this function has no refund API".into(),
            )),
        }
    }
}

/// One refund as the sandbox knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRefund {
    pub payment: PaymentRef,
    pub amount: Fen,
    /// How often it was asked (each ask after the first pays nothing).
    pub asked: u32,
    /// Where it stands: paid, refused, or still processing.
    pub state: SandboxState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxState {
    /// Accepted, not settled (while the sandbox holds refunds).
    Processing,
    Paid,
    Failed,
}

/// The local sandbox: pays on `POST /dev/orders/{order}/pay`, which signs a notice, and
/// refunds once per refund id, keeping what it paid. By default it pays a refund the
/// moment it is asked; tests can make it answer "processing" (`hold_refunds`, settled
/// later by a signed notice from [`Sandbox::settle`]) or refuse (`fail_next_refunds`),
/// as real providers do.
pub struct Sandbox {
    pub secret: Vec<u8>,
    ledger: Mutex<HashMap<RefundId, SandboxRefund>>,
    hold: std::sync::atomic::AtomicBool,
    refuse: std::sync::atomic::AtomicU32,
}

impl Sandbox {
    pub fn new(secret: Vec<u8>) -> Self {
        Sandbox {
            secret,
            ledger: Mutex::new(HashMap::new()),
            hold: std::sync::atomic::AtomicBool::new(false),
            refuse: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// While on, refunds are accepted and left processing until [`Sandbox::settle`].
    pub fn hold_refunds(&self, on: bool) {
        self.hold.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` refund requests are refused (0 stops refusing).
    pub fn fail_next_refunds(&self, n: u32) {
        self.refuse.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Settles a refund it holds (processing), and returns the signed notice it sends
    /// to `tenant`'s webhook; a refund it paid already gets its notice again. `None`
    /// for a refund it was never asked for or refused: it has nothing to say of it.
    pub fn settle(
        &self,
        tenant: &crate::domain::tenancy::Tenant,
        id: &RefundId,
        succeeded: bool,
    ) -> Option<(Vec<u8>, String)> {
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let r = ledger.get_mut(id)?;
        match r.state {
            SandboxState::Processing if succeeded => r.state = SandboxState::Paid,
            SandboxState::Processing => r.state = SandboxState::Failed,
            SandboxState::Paid => {}
            SandboxState::Failed => return None,
        }
        let notice = RefundNotice {
            tenant: tenant.to_string(),
            refund: id.clone(),
            status: if r.state == SandboxState::Paid {
                RefundOutcome::Succeeded
            } else {
                RefundOutcome::Failed
            },
            amount_fen: r.amount,
        };
        drop(ledger);
        Some(self.sign_refund_notice(notice))
    }

    /// A refund notice signed as the provider signs it.
    pub fn sign_refund_notice(&self, notice: RefundNotice) -> (Vec<u8>, String) {
        let body = serde_json::to_vec(&notice).unwrap_or_default();
        let sig = sign_body(&self.secret, &body);
        (body, sig)
    }

    /// A signed notice for the full amount of `order`, as a provider would send.
    pub fn notice_for(&self, order: &Order) -> (Vec<u8>, String) {
        let payment = PaymentRef::parse(&format!("sandbox-{}", order.id))
            .unwrap_or_else(|_| unreachable!("order ids are ULIDs"));
        self.notice(order, order.total_fen, &payment)
    }

    /// A signed notice of any payment of `order` (a second payment, a wrong amount).
    pub fn notice(&self, order: &Order, amount: Fen, payment: &PaymentRef) -> (Vec<u8>, String) {
        let notice = PaymentNotice {
            tenant: order.tenant.to_string(),
            order: order.id.clone(),
            amount_fen: amount,
            payment_ref: payment.clone(),
        };
        let body = serde_json::to_vec(&notice).unwrap_or_default();
        let sig = sign_body(&self.secret, &body);
        (body, sig)
    }

    /// What the sandbox paid back, by refund id.
    pub fn refunds(&self) -> HashMap<RefundId, SandboxRefund> {
        self.ledger()
            .into_iter()
            .filter(|(_, r)| r.state == SandboxState::Paid)
            .collect()
    }

    /// Every refund it was asked for, paid or not.
    pub fn ledger(&self) -> HashMap<RefundId, SandboxRefund> {
        self.ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The total it paid back against one payment.
    pub fn refunded(&self, payment: &PaymentRef) -> Fen {
        let total: i64 = self
            .refunds()
            .values()
            .filter(|r| &r.payment == payment)
            .map(|r| r.amount.get())
            .sum();
        Fen::new(total).unwrap_or(Fen::ZERO)
    }
}

#[async_trait]
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
        read(&self.secret, body, signature)
    }

    fn verify_refund(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<RefundNotice, DomainError> {
        read(&self.secret, body, signature)
    }

    async fn refund(
        &self,
        id: &RefundId,
        payment: &PaymentRef,
        amount: Fen,
    ) -> Result<(), PaymentError> {
        use std::sync::atomic::Ordering;
        let refusing = self
            .refuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let held = self.hold.load(Ordering::SeqCst);
        let fresh = if held {
            SandboxState::Processing
        } else {
            SandboxState::Paid
        };
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        match ledger.get_mut(id) {
            Some(r) if &r.payment != payment || r.amount != amount => Err(PaymentError::Refused(
                format!("refund {id} was asked before with another payment or amount"),
            )),
            // The same refund number again: nothing more is paid.
            Some(r) if r.state != SandboxState::Failed => {
                r.asked += 1;
                Ok(())
            }
            // A refused refund asked again under its own number.
            Some(r) => {
                r.asked += 1;
                if refusing {
                    return Err(PaymentError::Refused("the sandbox refuses refunds".into()));
                }
                r.state = fresh;
                Ok(())
            }
            None => {
                ledger.insert(
                    id.clone(),
                    SandboxRefund {
                        payment: payment.clone(),
                        amount,
                        asked: 1,
                        state: if refusing {
                            SandboxState::Failed
                        } else {
                            fresh
                        },
                    },
                );
                if refusing {
                    return Err(PaymentError::Refused("the sandbox refuses refunds".into()));
                }
                Ok(())
            }
        }
    }

    async fn refund_state(&self, id: &RefundId) -> Result<RefundState, PaymentError> {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match ledger.get(id).map(|r| r.state) {
            Some(SandboxState::Paid) => RefundState::Succeeded,
            Some(SandboxState::Processing) => RefundState::Pending,
            Some(SandboxState::Failed) => RefundState::Failed("refused".into()),
            None => RefundState::Unknown,
        })
    }
}
