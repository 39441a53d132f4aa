//! Settling a payment the provider confirmed. A payment the order can take pays it; any
//! other verified payment (a second one, a wrong amount, one after the order was
//! cancelled) is recorded once, by its reference, as a refund owed: nothing the
//! provider took is ever kept without a record.

use chrono::{DateTime, Utc};

use super::{order_item, version_is};
use crate::db::groups::{group_item, group_key, member_item};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::db::Db;
use crate::domain::group_buy::{GroupBuy, GroupStatus, Member};
use crate::domain::ids::{OrderId, PaymentRef};
use crate::domain::money::Fen;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::TableError;
use crate::table::{from_item, Condition, Write};

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

/// The member item of an order's seat (written again when it is paid).
fn group_member(order: &Order, group: &crate::domain::ids::GroupBuyId) -> Member {
    Member {
        group: group.clone(),
        tenant: order.tenant.clone(),
        buyer: order.buyer.clone(),
        order: order.id.clone(),
        joined_at: order.created_at,
        paid: false,
        refunded: false,
    }
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
    /// Records a confirmed payment. 1 GetItem + 1 conditional PutItem, either way; for
    /// a group seat 2 GetItem + 1 TransactWriteItems (the order, the group, the seat).
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
            let Some(group_id) = &order.group else {
                return match self.save_order(&order, current.version).await {
                    Ok(()) => Ok(Attempt::Done(Settled::Paid(order))),
                    Err(TableError::ConditionFailed) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                };
            };
            // A group seat: the payment counts towards the group, in one transaction
            // conditioned on the group as read (the N-th payment forms it).
            let gkey = group_key(t, group_id);
            let group: GroupBuy = match self.table.get(&gkey, true).await? {
                Some(item) => from_item(item)?,
                None => return Err(DomainError::NotFound { what: "group" }.into()),
            };
            let mut next = group.clone();
            if next.on_payment().is_err() {
                // The group closed before this payment: it is not kept.
                let why = "the group closed before the payment arrived";
                let (refund, fresh) = self
                    .record_unapplied(&current, payment, amount, why, now)
                    .await?;
                return Ok(Attempt::Done(Settled::Unapplied { refund, fresh }));
            }
            let member = Member {
                paid: true,
                ..group_member(&order, group_id)
            };
            let writes = vec![
                Write::Put {
                    item: order_item(&order)?,
                    condition: Some(version_is(current.version)),
                },
                Write::Put {
                    item: group_item(&next)?,
                    condition: Some(version_is(group.version)),
                },
                Write::Put {
                    item: member_item(&member)?,
                    condition: Some(Condition::Exists),
                },
            ];
            match self.table.transact(writes).await {
                Ok(()) => {
                    if next.status == GroupStatus::Formed {
                        tracing::info!(group = %next.id, "group formed");
                    }
                    Ok(Attempt::Done(Settled::Paid(order)))
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
