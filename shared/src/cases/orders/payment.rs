//! Settling a payment the provider confirmed. A payment the order can take pays it; any
//! other verified payment (a second one, a wrong amount, one after the order was
//! cancelled) is recorded once, by its reference, as a refund owed: nothing the
//! provider took is ever kept without a record.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::cases::orders::place::binding_key;
use crate::cases::publish::publish;
use crate::db::groups::{group_item, group_key, member_item};
use crate::db::orders::{order_item, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::attribution::{binding_on_payment, Binding};
use crate::domain::group_buy::{GroupBuy, GroupStatus, Member};
use crate::domain::ids::{OrderId, PaymentRef};
use crate::domain::money::Fen;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{OrderEvent, OrderMessage, RefundMessage};
use crate::table::keys;
use crate::table::{from_item, to_item, AttrPath, Condition, Key, TableError, Write, PK, SK};

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

impl AppState {
    /// Records a confirmed payment. 1 GetItem (the order) + 1 BatchGetItem (the
    /// buyer's first-paid marker; the buyer's binding when this sale binds; the group
    /// of a seat) + 1 TransactWriteItems: the order on condition of its version, its
    /// payment event (the outbox), and the buyer's first paid order marked, their
    /// binding, the group's count, when they apply.
    /// A payment the order cannot take: 1 GetItem + 1 conditional PutItem.
    async fn record_payment(
        &self,
        t: &Tenant,
        id: &OrderId,
        amount: Fen,
        payment: &PaymentRef,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        optimistic("this order", || async {
            let current = self.db.order(t, id, true).await?;
            if let Some(why) = unappliable(&current, amount, payment) {
                let (refund, fresh) = self
                    .record_unapplied(&current, payment, amount, why, now)
                    .await?;
                return Ok(Attempt::Done(Settled::Unapplied { refund, fresh }));
            }
            if current.status != OrderStatus::AwaitingPayment {
                return Ok(Attempt::Done(Settled::AlreadyPaid(current)));
            }
            let first_key = Key::new(keys::buyer_pk(t, &current.buyer), keys::FIRST_PAID_SK);
            let binds = current.attribution.as_ref().filter(|a| a.binds_days > 0);
            let mut wanted = vec![first_key.clone()];
            if binds.is_some() {
                wanted.push(binding_key(t, &current.buyer));
            }
            if let Some(g) = &current.group {
                wanted.push(group_key(t, g));
            }
            let found = self.db.batch_get_map(&wanted, true).await?;

            let mut order = current.clone();
            order.pay(amount, payment.as_str(), now)?;
            let mut writes = Vec::new();
            // The buyer's first paid order in this tenant: a new buyer for whoever
            // brought it (decided here, once, by the marker's conditional write).
            if !found.contains_key(&first_key) {
                order.first_in_tenant = true;
                writes.push(Write::Put {
                    item: to_item(
                        &serde_json::json!({"order": order.id.as_str(), "at": now}),
                        &[(PK, first_key.pk.clone()), (SK, first_key.sk.clone())],
                    )?,
                    condition: Some(Condition::NotExists),
                });
            }
            // Only a paid sale binds the buyer to its guide, and only if no binding
            // holds them: written on condition the binding is still as read.
            if let Some(a) = binds {
                let read: Option<Binding> = found
                    .get(&binding_key(t, &current.buyer))
                    .map(|i| from_item(i.clone()))
                    .transpose()?;
                if let Some(b) = binding_on_payment(a, read.as_ref(), now) {
                    let key = binding_key(t, &current.buyer);
                    let condition = match &read {
                        None => Condition::NotExists,
                        Some(old) => Condition::Equals(
                            AttrPath::top("until"),
                            serde_dynamo::to_attribute_value(old.until)
                                .map_err(|e| TableError::Invalid(e.to_string()))?,
                        ),
                    };
                    writes.push(Write::Put {
                        item: to_item(&b, &[(PK, key.pk.clone()), (SK, key.sk.clone())])?,
                        condition: Some(condition),
                    });
                }
            }
            if let Some(group_id) = &order.group {
                // A group seat: the payment counts towards the group, conditioned on the
                // group as read (the N-th payment forms it). Every seat taken or given
                // back moves the group's version, so this never writes back a stale
                // count of free seats.
                let group: GroupBuy = match found.get(&group_key(t, group_id)) {
                    Some(item) => from_item(item.clone())?,
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
                writes.push(Write::Put {
                    item: group_item(&next)?,
                    condition: Some(version_is(group.version)),
                });
                writes.push(Write::Put {
                    item: member_item(&member)?,
                    condition: Some(Condition::Exists),
                });
                if next.status == GroupStatus::Formed {
                    tracing::info!(group = %next.id, "group formed");
                }
            }
            let order_write = Write::Put {
                item: order_item(&order)?,
                condition: Some(version_is(current.version)),
            };
            writes.insert(0, order_write);
            // The payment's event, published with the payment itself (the outbox).
            writes.push(publish(&OrderEvent::paid(&order, now))?);
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(Settled::Paid(order))),
                // The order, the group, the marker or the binding moved: read again.
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Records a confirmed payment and sends what follows, on every confirmation (each
    /// consumer applies a message once): the order to fulfillment (a group seat waits for its group: the payment that
    /// forms it sends every member's order); or the refund of a payment the order could
    /// not take. A message that cannot be sent is an error the provider's retry heals
    /// (it finds the payment recorded, and sends again).
    pub async fn settle_payment(
        &self,
        t: &Tenant,
        id: &OrderId,
        amount: Fen,
        payment: &PaymentRef,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        let outcome = self.record_payment(t, id, amount, payment, now).await?;
        match &outcome {
            Settled::Paid(o) | Settled::AlreadyPaid(o) => {
                let mut to_dispatch = vec![o.id.clone()];
                if let Some(group) = &o.group {
                    let (g, members) = self.db.group(t, group, true).await?;
                    to_dispatch = if g.dispatchable() {
                        members
                            .iter()
                            .filter(|m| m.paid)
                            .map(|m| m.order.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                }
                for order in to_dispatch {
                    self.queue
                        .post(&OrderMessage::dispatch(t, &order), None)
                        .await?;
                }
            }
            Settled::Unapplied { refund, fresh } => {
                // Sent on every notice: the refund worker pays a refund id once.
                self.queue.post(&RefundMessage::now(refund), None).await?;
                if *fresh {
                    tracing::warn!(order = %id, refund = %refund.id, "a payment the order cannot take: refund queued");
                }
            }
        }
        Ok(outcome)
    }
}
