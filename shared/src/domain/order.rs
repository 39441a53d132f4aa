//! Orders: what was bought, at what price, from which stock shards, and where the order
//! is in its life. Transitions are plain functions that refuse what is not allowed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

use super::catalog::{Address, Phone};
use super::ids::{CampaignId, GuideId, OrderId, StoreId, UserId};
use super::money::Fen;
use super::pricing::PricedLine;
use super::tenancy::Tenant;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    Paid,
    /// Dispatched to a store that ships it.
    Shipped,
    /// Waiting at the store with a pickup code.
    ReadyForPickup,
    PickedUp,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    Shipping,
    Pickup,
}

/// Where the goods go. The address and phone are personal data: `Debug` redacts them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub mode: DeliveryMode,
    pub address: Option<Address>,
    pub phone: Option<Phone>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.mode {
            DeliveryMode::Shipping => {
                let address = self.address.as_ref().ok_or_else(|| {
                    DomainError::invalid("delivery.address", "shipping needs an address")
                })?;
                address.validate("delivery.address")?;
                if self.phone.is_none() {
                    return Err(DomainError::invalid(
                        "delivery.phone",
                        "shipping needs a phone number",
                    ));
                }
            }
            DeliveryMode::Pickup => {
                if self.address.is_some() {
                    return Err(DomainError::invalid(
                        "delivery.address",
                        "pickup orders take no address",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Units taken from one stock shard for a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShardTake {
    pub shard: u8,
    pub units: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    #[serde(flatten)]
    pub priced: PricedLine,
    /// Where the units were reserved, so a cancellation puts them back exactly there.
    pub shards: Vec<ShardTake>,
    /// The store that ships or hands over this line, once dispatched.
    pub store: Option<StoreId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LatePayment {
    pub amount_fen: Fen,
    pub payment_ref: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub lines: Vec<OrderLine>,
    pub subtotal_fen: Fen,
    pub discount_fen: Fen,
    pub total_fen: Fen,
    /// The buyer's coupons redeemed by this order.
    pub coupons: Vec<String>,
    pub delivery: Delivery,
    /// The guide whose share link brought the sale.
    pub guide: Option<GuideId>,
    pub status: OrderStatus,
    pub history: Vec<StatusChange>,
    pub payment_deadline: DateTime<Utc>,
    pub payment_ref: Option<String>,
    /// A payment that arrived after the order was cancelled: owed back to the buyer.
    #[serde(default)]
    pub late_payment: Option<LatePayment>,
    /// Shown to the buyer only; the clerk of the store checks it at the counter.
    pub pickup_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl Order {
    fn move_to(&mut self, status: OrderStatus, at: DateTime<Utc>, note: Option<String>) {
        self.status = status;
        self.history.push(StatusChange { status, at, note });
        self.version += 1;
    }

    /// Payment confirmed for exactly the amount due.
    pub fn pay(
        &mut self,
        amount: Fen,
        payment_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status != OrderStatus::AwaitingPayment {
            return Err(DomainError::conflict(
                "order-not-payable",
                format!("order is {:?}", self.status).to_lowercase(),
            ));
        }
        if amount != self.total_fen {
            return Err(DomainError::invalid(
                "amount_fen",
                format!("expected {} fen", self.total_fen.get()),
            ));
        }
        self.payment_ref = Some(payment_ref.to_owned());
        self.move_to(OrderStatus::Paid, at, None);
        Ok(())
    }

    /// Whether an unpaid order's window has passed at `now`.
    pub fn payment_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == OrderStatus::AwaitingPayment && now >= self.payment_deadline
    }

    pub fn cancel(&mut self, at: DateTime<Utc>, why: &str) -> Result<(), DomainError> {
        if self.status != OrderStatus::AwaitingPayment {
            return Err(DomainError::conflict(
                "order-not-cancellable",
                "only an unpaid order is cancelled",
            ));
        }
        self.move_to(OrderStatus::Cancelled, at, Some(why.to_owned()));
        Ok(())
    }

    /// Assigns stores and moves a paid order on: pickup orders get their code.
    pub fn dispatch(
        &mut self,
        stores: Vec<StoreId>,
        pickup_code: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status != OrderStatus::Paid {
            return Err(DomainError::conflict(
                "order-not-dispatchable",
                "only a paid order is dispatched",
            ));
        }
        for (line, store) in self.lines.iter_mut().zip(stores) {
            line.store = Some(store);
        }
        let next = match self.delivery.mode {
            DeliveryMode::Shipping => OrderStatus::Shipped,
            DeliveryMode::Pickup => OrderStatus::ReadyForPickup,
        };
        self.pickup_code = pickup_code;
        self.move_to(next, at, None);
        Ok(())
    }

    /// The buyer hands over the code at the counter of `store`.
    pub fn pick_up(
        &mut self,
        store: &StoreId,
        code: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status != OrderStatus::ReadyForPickup {
            return Err(DomainError::conflict(
                "order-not-ready",
                "the order is not waiting for pickup",
            ));
        }
        if !self.lines.iter().all(|l| l.store.as_ref() == Some(store)) {
            return Err(DomainError::Forbidden(
                "the order is not held by this store".into(),
            ));
        }
        let expected = self.pickup_code.as_deref().unwrap_or_default();
        // Compare without an early exit, so timing does not reveal a prefix.
        let same = expected.len() == code.len()
            && expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(DomainError::invalid(
                "code",
                "the pickup code does not match",
            ));
        }
        self.move_to(OrderStatus::PickedUp, at, Some(format!("at {store}")));
        Ok(())
    }

    /// The order as shown to someone who is not the buyer: no pickup code, no address.
    pub fn for_staff(mut self) -> Self {
        self.pickup_code = None;
        self
    }
}

/// The default payment window and the bound on what operators may set.
pub fn payment_deadline(created: DateTime<Utc>, window_minutes: u32) -> DateTime<Utc> {
    created + Duration::minutes(i64::from(window_minutes))
}

/// A 6-digit pickup code from a random source (the caller supplies the randomness, so
/// this stays pure).
pub fn pickup_code(random: u64) -> String {
    format!("{:06}", random % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Size, Sku};

    fn order(mode: DeliveryMode) -> Order {
        let now = Utc::now();
        Order {
            id: OrderId::generate(now),
            tenant: Tenant::parse("demo", "south-china").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            buyer: UserId::parse("b-1").unwrap(),
            lines: vec![OrderLine {
                priced: PricedLine {
                    sku: Sku::parse("SD-1").unwrap(),
                    size: Size::parse("38").unwrap(),
                    quantity: 1,
                    unit_price_fen: Fen::new(100).unwrap(),
                    slot: None,
                    subtotal_fen: Fen::new(100).unwrap(),
                    discount_fen: Fen::ZERO,
                    paid_fen: Fen::new(100).unwrap(),
                },
                shards: vec![ShardTake { shard: 0, units: 1 }],
                store: None,
            }],
            subtotal_fen: Fen::new(100).unwrap(),
            discount_fen: Fen::ZERO,
            total_fen: Fen::new(100).unwrap(),
            coupons: vec![],
            delivery: Delivery {
                mode,
                address: None,
                phone: None,
            },
            guide: None,
            status: OrderStatus::AwaitingPayment,
            history: vec![],
            payment_deadline: payment_deadline(now, 15),
            payment_ref: None,
            late_payment: None,
            pickup_code: None,
            created_at: now,
            version: 1,
        }
    }

    #[test]
    fn only_the_exact_amount_pays_an_order_and_only_once() {
        let mut o = order(DeliveryMode::Pickup);
        assert!(o.pay(Fen::new(99).unwrap(), "p", Utc::now()).is_err());
        assert_eq!(o.status, OrderStatus::AwaitingPayment);
        o.pay(Fen::new(100).unwrap(), "p", Utc::now()).unwrap();
        assert!(o.pay(Fen::new(100).unwrap(), "p", Utc::now()).is_err());
        assert!(
            o.cancel(Utc::now(), "late").is_err(),
            "a paid order is never cancelled as unpaid"
        );
    }

    #[test]
    fn pickup_needs_the_right_store_and_code() {
        let mut o = order(DeliveryMode::Pickup);
        o.pay(Fen::new(100).unwrap(), "p", Utc::now()).unwrap();
        let gz = StoreId::parse("gz").unwrap();
        o.dispatch(vec![gz.clone()], Some(pickup_code(1_234_567)), Utc::now())
            .unwrap();
        assert_eq!(o.pickup_code.as_deref(), Some("234567"));
        assert_eq!(o.status, OrderStatus::ReadyForPickup);
        assert!(o
            .pick_up(&StoreId::parse("sz").unwrap(), "234567", Utc::now())
            .is_err());
        assert!(o.pick_up(&gz, "234568", Utc::now()).is_err());
        o.pick_up(&gz, "234567", Utc::now()).unwrap();
        assert_eq!(o.status, OrderStatus::PickedUp);
        assert_eq!(
            o.history.iter().map(|h| h.status).collect::<Vec<_>>(),
            vec![
                OrderStatus::Paid,
                OrderStatus::ReadyForPickup,
                OrderStatus::PickedUp
            ]
        );
    }

    #[test]
    fn shipping_needs_an_address_and_never_logs_it() {
        let d = Delivery {
            mode: DeliveryMode::Shipping,
            address: None,
            phone: None,
        };
        assert!(d.validate().is_err());
        let d = Delivery {
            mode: DeliveryMode::Shipping,
            address: Some(Address {
                province: "GD".into(),
                city: "GZ".into(),
                district: "TH".into(),
                line: "8 Secret St".into(),
            }),
            phone: Some(Phone::try_from("13800001234".to_string()).unwrap()),
        };
        assert!(d.validate().is_ok());
        let shown = format!("{d:?}");
        assert!(!shown.contains("Secret") && !shown.contains("1380000"));
    }

    #[test]
    fn an_unpaid_order_expires_at_its_deadline() {
        let o = order(DeliveryMode::Pickup);
        assert!(!o.payment_expired(o.payment_deadline - Duration::seconds(1)));
        assert!(o.payment_expired(o.payment_deadline));
    }
}
