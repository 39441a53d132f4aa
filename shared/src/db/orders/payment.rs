//! Settling a payment the provider confirmed. A payment the order can take pays it; any
//! other verified payment (a second one, a wrong amount, one after the order was
//! cancelled) is recorded once, by its reference, as a refund owed: nothing the
//! provider took is ever kept without a record.

use chrono::{DateTime, Utc};

use crate::db::retry::{optimistic, Attempt};
use crate::db::Db;
use crate::domain::ids::{OrderId, PaymentRef};
use crate::domain::money::Fen;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::TableError;

#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Paid(Order),
    AlreadyPaid(Order),
    /// The order could not take it: recorded as a refund owed (`fresh` the first time;
    /// a replayed notice finds the same record).
    Unapplied {
        refund: Refund,
        fresh: bool,
    },
}

/// Why an order cannot take a payment, if it cannot.
fn unappliable(order: &Order, amount: Fen, payment: &PaymentRef) -> Option<&'static str> {
    match order.status {
        OrderStatus::AwaitingPayment if amount != order.total_fen => {
            Some("the amount is not what the order costs")
        }
        OrderStatus::AwaitingPayment => None,
        OrderStatus::Cancelled if order.payment_ref.is_none() => {
            Some("the payment arrived after the order was cancelled")
        }
        _ if order.payment_ref.as_deref() == Some(payment.as_str()) => None,
        _ => Some("the order was already paid by another payment"),
    }
}

impl Db {
    /// Records a confirmed payment. 1 GetItem + 1 conditional PutItem, either way.
    pub async fn settle_payment(
        &self,
        t: &Tenant,
        id: &OrderId,
        amount: Fen,
        payment: &PaymentRef,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        optimistic("this order", || async {
            let current = self.order(t, id, true).await?;
            if let Some(why) = unappliable(&current, amount, payment) {
                let (refund, fresh) = self
                    .record_unapplied(&current, payment, amount, why, now)
                    .await?;
                return Ok(Attempt::Done(Settled::Unapplied { refund, fresh }));
            }
            if current.status != OrderStatus::AwaitingPayment {
                return Ok(Attempt::Done(Settled::AlreadyPaid(current)));
            }
            let mut order = current.clone();
            order.pay(amount, payment.as_str(), now)?;
            match self.save_order(&order, current.version).await {
                Ok(()) => Ok(Attempt::Done(Settled::Paid(order))),
                Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
