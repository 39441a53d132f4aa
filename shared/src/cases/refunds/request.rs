//! A buyer's refund request, decided inside the request: one BatchGetItem (the order,
//! the idempotency record, the buyer's return count, their member account, profile
//! and brand terms: the after-sales fast lane), the cached campaign read (a
//! closed campaign takes no more requests), the rules
//! ([`crate::domain::refund::decide`]), at most one GetItem (the return store's
//! address, for an approved return) and one TransactWriteItems (the refund, the order's
//! counters, the idempotency record, the return count; for a cancellation also the
//! stock, coupons and limits given back).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;

use crate::app::AppState;
use crate::db::groups::{group_key, member_key};
use crate::db::members::{level_keys, MemberAsRead};
use crate::db::orders::{order_key, parcel_cancel_writes, random, release_writes};
use crate::db::refunds::new_refund_writes;
use crate::db::retry::{optimistic, Attempt};
use crate::domain::campaign::Stage;
use crate::domain::group_buy::{GroupBuy, GroupStatus};
use crate::domain::ids::{IdempotencyKey, OrderId, RefundId, UserId};
use crate::domain::order::Order;
use crate::domain::order::OrderStatus;
use crate::domain::refund::{
    counted_returns, decide, rma_code, Decision, Refund, RefundKind, RefundRequest,
};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, to_item, AttrPath, Condition, Item, Key, TableError, Update, Write, PK, SK,
};

/// The outcome of a refund request.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    Created(Refund),
    /// The same request was made before under this key: the refund it made, as it
    /// stands now.
    Replayed(Refund),
}

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyRecord {
    request_hash: String,
    refund: RefundId,
    expires_at: i64,
}

/// The buyer's returns per campaign live in one item of their partition, so the first
/// read can fetch it before the order says which campaign it is.
fn returns_key(t: &Tenant, buyer: &UserId) -> Key {
    Key::new(keys::buyer_pk(t, buyer), "RETURNS")
}

fn returns_before(item: Option<&Item>, campaign: &str) -> u32 {
    match item.and_then(|i| i.get("campaigns")) {
        Some(AttributeValue::M(m)) => match m.get(campaign) {
            Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
            _ => 0,
        },
        _ => 0,
    }
}

impl AppState {
    /// Decides and records a buyer's refund request, idempotently by `key`. A parcel
    /// cancelled before pickup puts its units back in its store's count (and, while
    /// the campaign sells, on sale: the cached campaign read).
    #[allow(clippy::too_many_arguments)]
    pub async fn request_refund(
        &self,
        t: &Tenant,
        order_id: &OrderId,
        buyer: &UserId,
        req: &RefundRequest,
        key: &IdempotencyKey,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Requested> {
        let idem = Key::new(
            keys::buyer_pk(t, buyer),
            format!("{}#REFUND", keys::idempotency_sk(key)),
        );
        let counter = returns_key(t, buyer);
        optimistic("this order", || async {
            let mut wanted = vec![order_key(t, order_id), idem.clone(), counter.clone()];
            wanted.extend(level_keys(buyer, &t.brand));
            let found = self.db.batch_get_map(&wanted, true).await?;
            if let Some(record) = found.get(&idem) {
                return self
                    .replay(t, record.clone(), request_hash)
                    .await
                    .map(Attempt::Done);
            }
            let order: Order = match found.get(&order_key(t, order_id)) {
                Some(item) => from_item(item.clone())?,
                None => return Err(DomainError::NotFound { what: "order" }.into()),
            };
            // Someone else's order is not found, not forbidden.
            if &order.buyer != buyer {
                return Err(DomainError::NotFound { what: "order" }.into());
            }
            self.refundable(t, &order, now).await?;
            let before = returns_before(found.get(&counter), order.campaign.as_str());
            let m = MemberAsRead::of(&found, buyer, &t.brand, now)?;
            let fast_lane = m.terms.terms_of(m.level).is_some_and(|l| l.fast_lane);
            let mut plan = decide(
                &order,
                req,
                counted_returns(before, fast_lane),
                rma_code(random()),
                now,
            )?;
            plan.refund.fast_lane = fast_lane;
            if plan.cancels_parcel() {
                plan.refund.back_on_sale = self.db.selling(t, &order.campaign, now).await;
            }
            self.address_return(t, &mut plan.refund).await?;
            let writes = refund_writes(
                t,
                &order,
                &plan,
                (&idem, request_hash),
                (&counter, found.contains_key(&counter), before),
                now,
            )?;
            match self.db.table().transact(writes).await {
                Ok(()) => {
                    self.announce_refund(&plan.refund).await;
                    Ok(Attempt::Done(Requested::Created(plan.refund)))
                }
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                    match self.db.table().get(&idem, true).await? {
                        Some(record) => self
                            .replay(t, record, request_hash)
                            .await
                            .map(Attempt::Done),
                        None => Ok(Attempt::Again),
                    }
                }
                // The order, or the count, moved under us: decide again.
                Err(TableError::TransactionCancelled { .. }) | Err(TableError::Conflict) => {
                    Ok(Attempt::Again)
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

impl AppState {
    /// Refused while the campaign's returns are closed or the order's group still forms.
    async fn refundable(&self, t: &Tenant, order: &Order, now: DateTime<Utc>) -> Result<()> {
        // Once the campaign's final report is out every return window has closed:
        // nothing more is asked of it (and its figures stay final).
        let campaign = self.db.cached_campaign(t, &order.campaign, now).await?;
        if campaign.stage == Stage::Closed {
            return Err(DomainError::conflict(
                "returns-closed",
                "the campaign is closed and its returns with it",
            )
            .into());
        }
        if let (Some(group), OrderStatus::Paid) = (&order.group, order.status) {
            // A paid seat in a group still forming is not cancelled one by one: the
            // group forms (then it is an order like any other) or fails (and
            // everyone is refunded in full).
            let open = match self.db.table().get(&group_key(t, group), true).await? {
                Some(item) => from_item::<GroupBuy>(item)?.status == GroupStatus::Open,
                None => false,
            };
            if open {
                return Err(DomainError::conflict(
                    "group-pending",
                    "this seat's group is still forming: if it fails, you are refunded in full",
                )
                .into());
            }
        }
        Ok(())
    }

    /// An approved return is sent to its store's address.
    async fn address_return(&self, t: &Tenant, refund: &mut Refund) -> Result<()> {
        if refund.decision != Decision::Approved {
            return Ok(());
        }
        let Some(store) = &refund.return_store else {
            return Ok(());
        };
        let item = self
            .db
            .table()
            .get(&Key::new(keys::tenant_pk(t), keys::store_sk(store)), false)
            .await?;
        if let Some(item) = item {
            refund.return_address =
                Some(from_item::<crate::db::stores::StoreCounter>(item)?.address);
        }
        Ok(())
    }
}

impl AppState {
    async fn replay(&self, t: &Tenant, record: Item, request_hash: &str) -> Result<Requested> {
        let record: IdempotencyRecord = from_item(record)?;
        if record.request_hash != request_hash {
            return Err(DomainError::conflict(
                "idempotency-key-reused",
                "this Idempotency-Key was used for a different request",
            )
            .into());
        }
        Ok(Requested::Replayed(
            self.db.refund(t, &record.refund, true).await?,
        ))
    }
}

/// The one transaction of a request: the idempotency record, the refund, the order
/// on condition of its version, the buyer's return count (from exactly the count
/// read), the group member's mark, and what a cancellation gives back.
fn refund_writes(
    t: &Tenant,
    order: &Order,
    plan: &crate::domain::refund::RefundPlan,
    (idem, request_hash): (&Key, &str),
    (counter, counter_exists, before): (&Key, bool, u32),
    now: DateTime<Utc>,
) -> Result<Vec<Write>> {
    let record = to_item(
        &IdempotencyRecord {
            request_hash: request_hash.to_owned(),
            refund: plan.refund.id.clone(),
            expires_at: (now + chrono::Duration::hours(24)).timestamp(),
        },
        &[
            (PK, idem.pk.clone()),
            (SK, idem.sk.clone()),
            ("kind", "idempotency".into()),
        ],
    )?;
    let mut writes = vec![Write::Put {
        item: record,
        condition: Some(Condition::NotExists),
    }];
    writes.extend(new_refund_writes(&plan.refund, &plan.order, order.version)?);
    let counts =
        plan.refund.kind == RefundKind::Return && plan.refund.decision != Decision::Rejected;
    if counts {
        let path = AttrPath::nested(&["campaigns", order.campaign.as_str()]);
        // From exactly the count read, so two returns cannot both see it low.
        let read = if before > 0 {
            Condition::Equals(path.clone(), n(i64::from(before)))
        } else {
            Condition::Exists
        };
        writes.push(if counter_exists {
            Write::Update {
                key: counter.clone(),
                update: Update {
                    add: vec![(path, 1)],
                    ..Update::default()
                },
                condition: Some(read),
            }
        } else {
            Write::Put {
                item: to_item(
                    &serde_json::json!({"campaigns": {order.campaign.as_str(): 1}}),
                    &[(PK, counter.pk.clone()), (SK, counter.sk.clone())],
                )?,
                condition: Some(Condition::NotExists),
            }
        });
    }
    if let Some(group) = &order.group {
        // The group stays as it is (formed), and shows the member refunded.
        if plan.refund.decision != Decision::Rejected {
            writes.push(Write::Update {
                key: member_key(t, group, &order.buyer),
                update: Update {
                    set: vec![(AttrPath::top("refunded"), AttributeValue::Bool(true))],
                    ..Update::default()
                },
                condition: Some(Condition::Exists),
            });
        }
    }
    if plan.cancels_parcel() {
        writes.extend(parcel_cancel_writes(order, &plan.refund));
    } else if plan.refund.kind == RefundKind::Cancellation {
        // Everything the order took comes back: stock to its shards, coupons,
        // purchase limits, the group allowance.
        writes.extend(release_writes(order));
    }
    Ok(writes)
}
