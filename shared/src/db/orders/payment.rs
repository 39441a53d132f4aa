//! Settling a payment the provider confirmed.

use chrono::{DateTime, Utc};

use crate::db::retry::{optimistic, Attempt};
use crate::db::Db;
use crate::domain::ids::OrderId;
use crate::domain::money::Fen;
use crate::domain::order::{LatePayment, Order, OrderStatus};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::TableError;

#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Paid(Order),
    AlreadyPaid(Order),
    /// The order had been cancelled: the payment is recorded and must be refunded.
    RefundDue(Order),
}

impl Db {
    /// Records a confirmed payment. Paying a paid order again is harmless; a payment
    /// that arrives for an order already cancelled is recorded for refund, never kept.
    /// 1 GetItem + 1 conditional PutItem.
    pub async fn settle_payment(
        &self,
        t: &Tenant,
        id: &OrderId,
        amount: Fen,
        payment_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        optimistic("this order", || async {
            let current = self.order(t, id, true).await?;
            let mut order = current.clone();
            let outcome = match current.status {
                OrderStatus::AwaitingPayment => {
                    order.pay(amount, payment_ref, now)?;
                    Settled::Paid(order.clone())
                }
                OrderStatus::Cancelled => {
                    if order
                        .late_payment
                        .as_ref()
                        .is_some_and(|l| l.payment_ref == payment_ref)
                    {
                        return Ok(Attempt::Done(Settled::RefundDue(order)));
                    }
                    order.late_payment = Some(LatePayment {
                        amount_fen: amount,
                        payment_ref: payment_ref.to_owned(),
                        at: now,
                    });
                    order.version += 1;
                    Settled::RefundDue(order.clone())
                }
                _ if current.payment_ref.as_deref() == Some(payment_ref) => {
                    return Ok(Attempt::Done(Settled::AlreadyPaid(current)))
                }
                _ => {
                    return Err(DomainError::conflict(
                        "order-not-payable",
                        "the order was already paid by another payment",
                    )
                    .into());
                }
            };
            match self.save_order(&order, current.version).await {
                Ok(()) => Ok(Attempt::Done(outcome)),
                Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
