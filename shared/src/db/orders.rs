//! The money path: coupons claimed and redeemed, orders placed in one transaction,
//! paid, cancelled when unpaid, dispatched to a store and picked up.
//!
//! Placing an order is one BatchGetItem (listings, every stock shard, the buyer's limit
//! markers and coupons, the idempotency record, the guide) and one TransactWriteItems
//! (shard decrements, the order, the idempotency record, coupon redemptions, limit
//! markers). A condition that fails because another buyer got there first is retried
//! from a fresh read; nothing is ever half-written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use std::collections::{BTreeMap, HashMap};

use super::Db;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::catalog::{Guide, Listing, MAX_SHARDS};
use crate::domain::ids::{
    CampaignId, CouponTemplateId, GuideId, IdempotencyKey, OrderId, Size, Sku, StoreId, UserId,
};
use crate::domain::money::Fen;
use crate::domain::order::{
    payment_deadline, pickup_code, Delivery, LatePayment, Order, OrderLine, OrderStatus, ShardTake,
};
use crate::domain::pricing::{best_coupons, price, HeldCoupon, LineToPrice, PricedCart};
use crate::domain::tenancy::{keys, Tenant};
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::{
    from_item, n, s, string_attr, to_item, AttrPath, Condition, Index, Item, Key, Query, SortRange,
    TableError, Update, Write, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK,
};

/// At most this many lines (distinct SKU and size) in one order.
pub const MAX_LINES: usize = 5;
/// Attempts at the order transaction when other buyers keep winning the race.
const ATTEMPTS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub sku: Sku,
    pub size: Size,
    pub quantity: u32,
}

/// Which coupons to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponChoice {
    /// The best the buyer holds (the default).
    Best,
    /// None at all.
    None,
    /// Exactly these of the buyer's coupons.
    These(Vec<String>),
}

/// Everything place-order needs, already parsed.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub lines: Vec<CartLine>,
    pub coupons: CouponChoice,
    pub guide: Option<GuideId>,
    pub delivery: Delivery,
}

/// The outcome of place-order.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    Created {
        order: Order,
        body: String,
    },
    /// The same request was made before under this key: its stored response.
    Replayed {
        status: u16,
        body: String,
    },
}

/// A buyer's coupon as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BuyerCoupon {
    /// `{template}.{n}`: what the buyer names in an order.
    pub id: String,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub template: CouponTemplateId,
    pub name: String,
    pub off_fen: Fen,
    pub min_spend_fen: Fen,
    pub status: CouponStatus,
    pub order: Option<OrderId>,
    pub claimed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    Available,
    Redeemed,
}

/// What the batch read found, by key.
struct Snapshot {
    items: HashMap<Key, Item>,
}

impl Snapshot {
    fn get(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.get(&Key::new(pk, sk))
    }
}

fn number(v: Option<&AttributeValue>) -> i64 {
    match v {
        Some(AttributeValue::N(x)) => x.parse().unwrap_or(0),
        _ => 0,
    }
}

fn map_of<'a>(item: &'a Item, name: &str) -> Option<&'a HashMap<String, AttributeValue>> {
    match item.get(name) {
        Some(AttributeValue::M(m)) => Some(m),
        _ => None,
    }
}

/// A coupon id as buyers see it: `{template}.{n}`.
fn parse_coupon_id(id: &str) -> Option<(CouponTemplateId, u32)> {
    let (tpl, n) = id.rsplit_once('.')?;
    Some((
        CouponTemplateId::parse(tpl).ok()?,
        n.parse().ok().filter(|n| *n >= 1)?,
    ))
}

fn coupon_item(t: &Tenant, c: &BuyerCoupon, user: &UserId, n_th: u32) -> Result<Item, TableError> {
    to_item(
        c,
        &[
            (PK, keys::campaign_pk(t, &c.campaign)),
            (SK, keys::buyer_coupon_sk(&c.template, user, n_th)),
            (GSI1PK, keys::buyer_coupons_gsi1pk(user)),
            (
                GSI1SK,
                format!(
                    "{}#{}#{}",
                    c.claimed_at.to_rfc3339(),
                    keys::campaign_pk(t, &c.campaign),
                    c.id
                ),
            ),
            ("kind", "coupon".into()),
        ],
    )
}

pub(crate) fn order_key(t: &Tenant, id: &OrderId) -> Key {
    Key::new(keys::order_pk(t, id), keys::ORDER_SK)
}

/// An order item: indexed for its buyer (GSI1) and, while unpaid, for sweeps (GSI2).
pub(crate) fn order_item(o: &Order) -> Result<Item, TableError> {
    let mut k = vec![
        (PK, keys::order_pk(&o.tenant, &o.id)),
        (SK, keys::ORDER_SK.to_owned()),
        (GSI1PK, keys::buyer_orders_gsi1pk(&o.buyer)),
        (GSI1SK, o.id.to_string()),
        ("kind", "order".to_owned()),
    ];
    if o.status == OrderStatus::AwaitingPayment {
        k.push((GSI2PK, keys::unpaid_gsi2pk(&o.tenant, &o.campaign)));
        k.push((
            GSI2SK,
            format!("{}#{}", o.payment_deadline.to_rfc3339(), o.id),
        ));
    }
    to_item(o, &k)
}

/// Units an order takes from (or gives back to) stock items: per item, per nested path.
/// Tallying first means two lines drawing on one item become one update of that item,
/// as a transaction requires.
#[derive(Default)]
struct Tally(BTreeMap<String, BTreeMap<Vec<String>, i64>>);

impl Tally {
    fn add(&mut self, sk: String, path: &[&str], units: i64) {
        let path = path.iter().map(|p| (*p).to_owned()).collect();
        *self.0.entry(sk).or_default().entry(path).or_default() += units;
    }

    fn get(&self, sk: &str, path: &[&str]) -> i64 {
        let path: Vec<String> = path.iter().map(|p| (*p).to_owned()).collect();
        self.0
            .get(sk)
            .and_then(|paths| paths.get(&path))
            .copied()
            .unwrap_or(0)
    }

    /// One update per item taking every tallied amount, on condition it is all there.
    fn take(self, pk: &str) -> Vec<Write> {
        self.0
            .into_iter()
            .map(|(sk, paths)| {
                let (add, conds) = paths
                    .into_iter()
                    .map(|(p, n)| {
                        (
                            (AttrPath(p.clone()), -n),
                            Condition::AtLeast(AttrPath(p), n),
                        )
                    })
                    .unzip();
                Write::Update {
                    key: Key::new(pk, sk),
                    update: Update {
                        add,
                        ..Update::default()
                    },
                    condition: Some(Condition::All(conds)),
                }
            })
            .collect()
    }

    /// One update per item giving the tallied amounts back.
    fn give_back(self, pk: &str) -> Vec<Write> {
        self.0
            .into_iter()
            .map(|(sk, paths)| Write::Update {
                key: Key::new(pk, sk),
                update: Update {
                    add: paths.into_iter().map(|(p, n)| (AttrPath(p), n)).collect(),
                    ..Update::default()
                },
                condition: None,
            })
            .collect()
    }
}

fn version_is(v: u64) -> Condition {
    Condition::Equals(AttrPath::top("version"), n(v as i64))
}

/// A small random number (ULIDs carry 80 random bits; no extra RNG needed).
fn random() -> u64 {
    ulid::Ulid::new().random() as u64
}

/// The stored response of an idempotent request.
#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyRecord {
    request_hash: String,
    status: u16,
    body: String,
    order: OrderId,
    expires_at: i64,
}

impl Db {
    /// Places an order: at most [`ATTEMPTS`] × (1 BatchGetItem + 1 TransactWriteItems);
    /// one of each when no other buyer wins a race for the same stock.
    pub async fn place_order(
        &self,
        req: &OrderRequest,
        campaign: &Campaign,
        key: &IdempotencyKey,
        request_hash: &str,
        now: DateTime<Utc>,
        render: &(dyn Fn(&Order) -> String + Sync),
    ) -> Result<Placed> {
        validate_cart(&req.lines)?;
        for _ in 0..ATTEMPTS {
            let snapshot = self.read_for_order(req, campaign, Some(key)).await?;
            let idem_key = Key::new(
                keys::buyer_pk(&req.tenant, &req.buyer),
                keys::idempotency_sk(key),
            );
            if let Some(record) = snapshot.items.get(&idem_key) {
                return replay(record.clone(), request_hash);
            }
            let plan = plan_order(req, campaign, &snapshot, now)?;
            let order = plan.order.clone();
            // The response is stored with the record, so a replay answers byte for byte.
            let body = render(&order);
            let record = IdempotencyRecord {
                request_hash: request_hash.to_owned(),
                status: 201,
                body: body.clone(),
                order: order.id.clone(),
                expires_at: (now + chrono::Duration::hours(24)).timestamp(),
            };
            let mut writes = vec![Write::Put {
                item: to_item(
                    &record,
                    &[
                        (PK, idem_key.pk.clone()),
                        (SK, idem_key.sk.clone()),
                        ("kind", "idempotency".into()),
                    ],
                )?,
                condition: Some(Condition::NotExists),
            }];
            writes.push(Write::Put {
                item: order_item(&order)?,
                condition: Some(Condition::NotExists),
            });
            let coupon_writes_from = writes.len() + plan.stock_writes.len();
            writes.extend(plan.stock_writes);
            writes.extend(plan.coupon_writes);
            match self.table.transact(writes).await {
                Ok(()) => return Ok(Placed::Created { order, body }),
                Err(TableError::TransactionCancelled { failed }) => {
                    if failed.contains(&0) {
                        // Someone placed this very request a moment ago.
                        let record = self.table.get(&idem_key, true).await?;
                        if let Some(record) = record {
                            return replay(record, request_hash);
                        }
                    }
                    if failed.iter().any(|&i| i >= coupon_writes_from) {
                        return Err(DomainError::conflict(
                            "coupon-not-applicable",
                            "the coupon has just been used",
                        )
                        .into());
                    }
                    // Stock or a limit marker moved under us: read again and retry.
                }
                Err(TableError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(TableError::Unavailable("too much contention on this stock; try again".into()).into())
    }

    /// Prices a cart without writing anything: 1 BatchGetItem.
    pub async fn preview_order(
        &self,
        req: &OrderRequest,
        campaign: &Campaign,
        now: DateTime<Utc>,
    ) -> Result<PricedCart> {
        validate_cart(&req.lines)?;
        let snapshot = self.read_for_order(req, campaign, None).await?;
        Ok(plan_order(req, campaign, &snapshot, now)?.order_cart)
    }

    /// The one read of an order: listings and all their shards, the buyer's limit
    /// markers and coupons, the guide, and the idempotency record.
    async fn read_for_order(
        &self,
        req: &OrderRequest,
        campaign: &Campaign,
        key: Option<&IdempotencyKey>,
    ) -> Result<Snapshot> {
        let t = &req.tenant;
        let cpk = keys::campaign_pk(t, &campaign.id);
        let mut wanted: Vec<Key> = Vec::new();
        if let Some(k) = key {
            wanted.push(Key::new(
                keys::buyer_pk(t, &req.buyer),
                keys::idempotency_sk(k),
            ));
        }
        let mut skus: Vec<&Sku> = req.lines.iter().map(|l| &l.sku).collect();
        skus.sort();
        skus.dedup();
        for sku in skus {
            wanted.push(Key::new(cpk.clone(), keys::listing_sk(sku)));
            for shard in 0..MAX_SHARDS {
                wanted.push(Key::new(cpk.clone(), keys::stock_sk(sku, shard)));
            }
            wanted.push(Key::new(cpk.clone(), keys::limit_sk(sku, &req.buyer)));
        }
        if req.coupons != CouponChoice::None {
            'outer: for tpl in &campaign.coupons {
                for n_th in 1..=tpl.per_buyer {
                    if wanted.len() >= 99 {
                        break 'outer;
                    }
                    wanted.push(Key::new(
                        cpk.clone(),
                        keys::buyer_coupon_sk(&tpl.id, &req.buyer, n_th),
                    ));
                }
            }
        }
        if let Some(g) = &req.guide {
            wanted.push(Key::new(keys::tenant_pk(t), keys::guide_sk(g)));
        }
        let items = self.table.batch_get(&wanted, true).await?;
        Ok(Snapshot {
            items: items
                .into_iter()
                .filter_map(|i| Key::of(&i).map(|k| (k, i)))
                .collect(),
        })
    }

    /// Claims a coupon from a live campaign's template, within the buyer's allowance and
    /// the template's budget: 1 BatchGetItem + 1 TransactWriteItems.
    pub async fn claim_coupon(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        template: &CouponTemplateId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<BuyerCoupon> {
        if campaign.status_at(now) != CampaignStatus::Live {
            return Err(DomainError::conflict(
                "campaign-not-live",
                "coupons are claimed while the campaign is live",
            )
            .into());
        }
        let tpl =
            campaign
                .coupons
                .iter()
                .find(|c| &c.id == template)
                .ok_or(DomainError::NotFound {
                    what: "coupon template",
                })?;
        let cpk = keys::campaign_pk(t, &campaign.id);
        for _ in 0..ATTEMPTS {
            let wanted: Vec<Key> = (1..=tpl.per_buyer)
                .map(|i| Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl.id, user, i)))
                .collect();
            let held = self.table.batch_get(&wanted, true).await?;
            let taken: Vec<String> = held
                .iter()
                .filter_map(|i| string_attr(i, SK).map(str::to_owned))
                .collect();
            let Some(n_th) = (1..=tpl.per_buyer)
                .find(|i| !taken.contains(&keys::buyer_coupon_sk(&tpl.id, user, *i)))
            else {
                return Err(DomainError::conflict(
                    "coupon-limit-reached",
                    "you already hold as many of these as allowed",
                )
                .into());
            };
            let coupon = BuyerCoupon {
                id: format!("{}.{}", tpl.id, n_th),
                tenant: t.clone(),
                campaign: campaign.id.clone(),
                template: tpl.id.clone(),
                name: tpl.name.clone(),
                off_fen: tpl.off_fen,
                min_spend_fen: tpl.min_spend_fen,
                status: CouponStatus::Available,
                order: None,
                claimed_at: now,
            };
            let budget = AttrPath::top("remaining");
            let writes = vec![
                Write::Update {
                    key: Key::new(cpk.clone(), keys::coupon_template_sk(&tpl.id)),
                    update: Update {
                        add: vec![(budget.clone(), -1)],
                        ..Update::default()
                    },
                    condition: Some(Condition::AtLeast(budget, 1)),
                },
                Write::Put {
                    item: coupon_item(t, &coupon, user, n_th)?,
                    condition: Some(Condition::NotExists),
                },
            ];
            match self.table.transact(writes).await {
                Ok(()) => return Ok(coupon),
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                    return Err(DomainError::conflict(
                        "coupon-budget-exhausted",
                        "all of these coupons have been claimed",
                    )
                    .into());
                }
                Err(TableError::TransactionCancelled { .. }) | Err(TableError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(TableError::Unavailable("coupon claims are contended; try again".into()).into())
    }

    /// A buyer's coupons across tenants, newest first: 1 Query on GSI1.
    pub async fn my_coupons(&self, user: &UserId) -> Result<Vec<BuyerCoupon>> {
        let mut q = Query::new(
            Index::Gsi1,
            keys::buyer_coupons_gsi1pk(user),
            SortRange::All,
        );
        q.forward = false;
        q.limit = Some(100);
        let page = self.table.query(q).await?;
        page.items
            .into_iter()
            .map(|i| from_item(i).map_err(Into::into))
            .collect()
    }

    /// 1 GetItem.
    pub async fn order(&self, t: &Tenant, id: &OrderId, consistent: bool) -> Result<Order> {
        let item = self.table.get(&order_key(t, id), consistent).await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "order" })?,
        )?)
    }

    /// A buyer's orders across tenants, newest first: 1 Query on GSI1.
    pub async fn my_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: u32,
    ) -> Result<(Vec<Order>, Option<OrderId>)> {
        let gpk = keys::buyer_orders_gsi1pk(user);
        // ULIDs sort by time: a page after the cursor is everything up to it (BETWEEN is
        // inclusive, so the cursor itself is skipped below).
        let range = match after {
            Some(a) => SortRange::Between("0".into(), a.to_string()),
            None => SortRange::All,
        };
        let mut q = Query::new(Index::Gsi1, gpk, range);
        q.forward = false;
        q.limit = Some(limit + 1);
        let mut orders: Vec<Order> = Vec::new();
        for item in self.table.query(q).await?.items {
            let o: Order = from_item(item)?;
            if after.is_some_and(|a| &o.id >= a) {
                continue;
            }
            orders.push(o);
        }
        let next = if orders.len() > limit as usize {
            orders.truncate(limit as usize);
            orders.last().map(|o| o.id.clone())
        } else {
            None
        };
        Ok((orders, next))
    }

    /// Writes an order whose version moved by one from `expected`. 1 PutItem.
    pub async fn save_order(&self, order: &Order, expected_version: u64) -> Result<(), TableError> {
        self.table
            .put(order_item(order)?, Some(version_is(expected_version)))
            .await
    }

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
        for _ in 0..ATTEMPTS {
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
                        return Ok(Settled::RefundDue(order));
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
                    return Ok(Settled::AlreadyPaid(current))
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
                Ok(()) => return Ok(outcome),
                Err(TableError::ConditionFailed) => continue, // changed under us: decide again
                Err(e) => return Err(e.into()),
            }
        }
        Err(TableError::Unavailable("order contended; try again".into()).into())
    }

    /// Cancels an unpaid order whose window has passed and puts back exactly what it
    /// took: stock to its shards, the coupons, the purchase-limit units.
    /// 1 GetItem + 1 TransactWriteItems; a no-op when already paid or cancelled.
    pub async fn cancel_unpaid(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome> {
        let current = self.order(t, id, true).await?;
        if current.status != OrderStatus::AwaitingPayment {
            return Ok(CancelOutcome::NothingToDo(current.status));
        }
        if !current.payment_expired(now) {
            return Ok(CancelOutcome::NotYet(current.payment_deadline));
        }
        let mut order = current.clone();
        order.cancel(now, "payment window passed")?;
        let cpk = keys::campaign_pk(t, &order.campaign);
        let mut writes = vec![Write::Put {
            item: order_item(&order)?,
            condition: Some(version_is(current.version)),
        }];
        let mut taken = Tally::default();
        let mut limit_adds: BTreeMap<String, i64> = BTreeMap::new();
        for line in &order.lines {
            for take in &line.shards {
                let sk = keys::stock_sk(&line.priced.sku, take.shard);
                taken.add(
                    sk,
                    &["units", line.priced.size.as_str()],
                    i64::from(take.units),
                );
            }
            *limit_adds
                .entry(keys::limit_sk(&line.priced.sku, &order.buyer))
                .or_default() -= i64::from(line.priced.quantity);
        }
        writes.extend(taken.give_back(&cpk));
        for (sk, delta) in limit_adds {
            let units = AttrPath::top("units");
            writes.push(Write::Update {
                key: Key::new(cpk.clone(), sk),
                update: Update {
                    add: vec![(units, delta)],
                    ..Update::default()
                },
                condition: Some(Condition::Exists),
            });
        }
        for coupon in &order.coupons {
            if let Some((tpl, n_th)) = parse_coupon_id(coupon) {
                writes.push(Write::Update {
                    key: Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl, &order.buyer, n_th)),
                    update: Update {
                        set: vec![(AttrPath::top("status"), s("available"))],
                        remove: vec![AttrPath::top("order")],
                        ..Update::default()
                    },
                    condition: Some(Condition::Equals(
                        AttrPath::top("order"),
                        s(order.id.as_str()),
                    )),
                });
            }
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(CancelOutcome::Cancelled(order)),
            // Paid or cancelled in the meantime: whoever won decides.
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => Ok(
                CancelOutcome::NothingToDo(self.order(t, id, true).await?.status),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Dispatches a paid order: each line to the guide's store when it holds the size,
    /// else to the store holding the most of it; store stock is decremented under
    /// condition in the same transaction as the order's move.
    /// 1 GetItem + 1 BatchGetItem + 1 TransactWriteItems; a no-op when not paid.
    pub async fn dispatch(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<DispatchOutcome> {
        for _ in 0..ATTEMPTS {
            let current = self.order(t, id, true).await?;
            if current.status != OrderStatus::Paid {
                return Ok(DispatchOutcome::NothingToDo(current.status));
            }
            let cpk = keys::campaign_pk(t, &current.campaign);
            let mut wanted: Vec<Key> = current
                .lines
                .iter()
                .map(|l| Key::new(cpk.clone(), keys::store_stock_sk(&l.priced.sku)))
                .collect();
            wanted.sort();
            wanted.dedup();
            if let Some(g) = &current.guide {
                wanted.push(Key::new(keys::tenant_pk(t), keys::guide_sk(g)));
            }
            let found: HashMap<Key, Item> = self
                .table
                .batch_get(&wanted, true)
                .await?
                .into_iter()
                .filter_map(|i| Key::of(&i).map(|k| (k, i)))
                .collect();
            let guide_store: Option<StoreId> = current
                .guide
                .as_ref()
                .and_then(|g| found.get(&Key::new(keys::tenant_pk(t), keys::guide_sk(g))))
                .and_then(|i| from_item::<Guide>(i.clone()).ok())
                .map(|g| g.store);
            let mut stores = Vec::new();
            // What this order takes from each store, line by line.
            let mut claimed = Tally::default();
            for line in &current.lines {
                let sk = keys::store_stock_sk(&line.priced.sku);
                let units = found
                    .get(&Key::new(cpk.clone(), sk.clone()))
                    .and_then(|i| map_of(i, "units"));
                let size = line.priced.size.as_str();
                let q = i64::from(line.priced.quantity);
                let held = |store: &str| -> i64 {
                    let have = units.and_then(|u| match u.get(store) {
                        Some(AttributeValue::M(m)) => Some(number(m.get(size))),
                        _ => None,
                    });
                    have.unwrap_or(0) - claimed.get(&sk, &["units", store, size])
                };
                let chosen = match &guide_store {
                    Some(gs) if held(gs.as_str()) >= q => Some(gs.as_str().to_owned()),
                    _ => units
                        .map(|u| u.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|st| held(st) >= q)
                        .max_by_key(|st| (held(st), std::cmp::Reverse(st.clone()))),
                };
                let Some(store) = chosen else {
                    return Ok(DispatchOutcome::NoStoreHolds(line.priced.sku.clone()));
                };
                claimed.add(sk, &["units", &store, size], q);
                stores.push(StoreId::parse(&store)?);
            }
            let mut order = current.clone();
            let code = (order.delivery.mode == crate::domain::order::DeliveryMode::Pickup)
                .then(|| pickup_code(random()));
            order.dispatch(stores, code, now)?;
            let mut writes = vec![Write::Put {
                item: order_item(&order)?,
                condition: Some(version_is(current.version)),
            }];
            writes.extend(claimed.take(&cpk));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(DispatchOutcome::Dispatched(order)),
                Err(TableError::TransactionCancelled { .. }) | Err(TableError::Conflict) => {} // re-read: maybe done already
                Err(e) => return Err(e.into()),
            }
        }
        Err(TableError::Unavailable("dispatch contended; will retry".into()).into())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Paid(Order),
    AlreadyPaid(Order),
    /// The order had been cancelled: the payment is recorded and must be refunded.
    RefundDue(Order),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Cancelled(Order),
    NotYet(DateTime<Utc>),
    NothingToDo(OrderStatus),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DispatchOutcome {
    Dispatched(Order),
    NothingToDo(OrderStatus),
    /// No single store holds a line: needs a person (the pool said it was there).
    NoStoreHolds(Sku),
}

fn replay(record: Item, request_hash: &str) -> Result<Placed> {
    let record: IdempotencyRecord = from_item(record)?;
    if record.request_hash != request_hash {
        return Err(DomainError::conflict(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request",
        )
        .into());
    }
    Ok(Placed::Replayed {
        status: record.status,
        body: record.body,
    })
}

fn validate_cart(lines: &[CartLine]) -> Result<(), DomainError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(DomainError::invalid(
            "lines",
            format!("between 1 and {MAX_LINES} lines"),
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        if !(1..=99).contains(&l.quantity) {
            return Err(DomainError::invalid(
                format!("lines[{i}].quantity"),
                "must be between 1 and 99",
            ));
        }
        if lines[..i]
            .iter()
            .any(|o| o.sku == l.sku && o.size == l.size)
        {
            return Err(DomainError::invalid(
                format!("lines[{i}]"),
                "the same SKU and size twice; raise the quantity instead",
            ));
        }
    }
    Ok(())
}

/// What an order will write, decided from one snapshot.
struct Plan {
    order: Order,
    order_cart: PricedCart,
    stock_writes: Vec<Write>,
    coupon_writes: Vec<Write>,
}

fn plan_order(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let t = &req.tenant;
    let cpk = keys::campaign_pk(t, &campaign.id);
    if campaign.status_at(now) != CampaignStatus::Live {
        return Err(
            DomainError::conflict("campaign-not-live", "the campaign is not selling now").into(),
        );
    }
    if !campaign.slots.is_empty() && campaign.open_slot_at(now).is_none() {
        return Err(DomainError::conflict("slot-closed", "no flash-sale slot is open now").into());
    }
    req.delivery.validate()?;

    // Price every line at the slot open now.
    let mut to_price = Vec::new();
    let mut listings: HashMap<&Sku, Listing> = HashMap::new();
    for (i, line) in req.lines.iter().enumerate() {
        let listing: Listing = match snap.get(&cpk, &keys::listing_sk(&line.sku)) {
            Some(item) => from_item(item.clone())?,
            None => {
                return Err(DomainError::invalid(
                    format!("lines[{i}].sku"),
                    "no such product in this campaign",
                )
                .into())
            }
        };
        if !listing.sizes.contains(&line.size) {
            return Err(DomainError::invalid(
                format!("lines[{i}].size"),
                "not a size of this product",
            )
            .into());
        }
        let (unit_price, slot) = listing.price_at(campaign, now);
        to_price.push(LineToPrice {
            sku: line.sku.clone(),
            size: line.size.clone(),
            quantity: line.quantity,
            unit_price,
            slot,
        });
        listings.insert(&line.sku, listing);
    }

    // Purchase limits, per SKU over the buyer's earlier orders and this one.
    let mut stock_writes = Vec::new();
    let mut per_sku: BTreeMap<&Sku, u32> = BTreeMap::new();
    for l in &req.lines {
        *per_sku.entry(&l.sku).or_default() += l.quantity;
    }
    for (sku, q) in &per_sku {
        let limit_sk = keys::limit_sk(sku, &req.buyer);
        let marker = snap.get(&cpk, &limit_sk);
        let bought = marker.map(|m| number(m.get("units"))).unwrap_or(0);
        let limit = listings.get(sku).map(|l| l.per_buyer_limit).unwrap_or(0);
        if bought + i64::from(*q) > i64::from(limit) {
            return Err(DomainError::conflict(
                "purchase-limit-exceeded",
                format!("at most {limit} of {sku} per buyer; you have {bought}"),
            )
            .into());
        }
        let units = AttrPath::top("units");
        stock_writes.push(Write::Update {
            key: Key::new(cpk.clone(), limit_sk),
            update: Update {
                set: vec![(units.clone(), n(bought + i64::from(*q)))],
                ..Update::default()
            },
            // Exactly the count we read, so two orders of one buyer cannot both pass.
            condition: Some(match marker {
                Some(_) => Condition::Equals(units, n(bought)),
                None => Condition::NotExists,
            }),
        });
    }

    // Stock: take from shards in a random order, so concurrent buyers spread out.
    let mut taken = Tally::default();
    let mut takes: Vec<Vec<ShardTake>> = Vec::new();
    for (i, line) in req.lines.iter().enumerate() {
        let shards = listings
            .get(&line.sku)
            .map(|l| l.shards)
            .unwrap_or(1)
            .clamp(1, MAX_SHARDS);
        let start = (random() % u64::from(shards)) as u8;
        let mut need = line.quantity;
        let mut line_takes = Vec::new();
        for k in 0..shards {
            let shard = (start + k) % shards;
            let item = snap.get(&cpk, &keys::stock_sk(&line.sku, shard));
            let have = item
                .and_then(|it| map_of(it, "units"))
                .map(|u| number(u.get(line.size.as_str())))
                .unwrap_or(0)
                .max(0) as u32;
            let take = have.min(need);
            if take > 0 {
                line_takes.push(ShardTake { shard, units: take });
                let sk = keys::stock_sk(&line.sku, shard);
                taken.add(sk, &["units", line.size.as_str()], i64::from(take));
                need -= take;
            }
            if need == 0 {
                break;
            }
        }
        if need > 0 {
            return Err(DomainError::Conflict {
                kind: "sold-out",
                reason: format!("lines[{i}]: {} in size {} is sold out", line.sku, line.size),
            }
            .into());
        }
        takes.push(line_takes);
    }
    stock_writes.extend(taken.take(&cpk));

    // Coupons the buyer holds and may use.
    let held: Vec<HeldCoupon> = campaign
        .coupons
        .iter()
        .flat_map(|tpl| (1..=tpl.per_buyer).map(move |i| (tpl, i)))
        .filter_map(|(tpl, i)| {
            let item = snap.get(&cpk, &keys::buyer_coupon_sk(&tpl.id, &req.buyer, i))?;
            let c: BuyerCoupon = from_item(item.clone()).ok()?;
            (c.status == CouponStatus::Available).then_some(HeldCoupon {
                id: c.id,
                template: c.template,
                off: c.off_fen,
                min_spend: c.min_spend_fen,
            })
        })
        .collect();
    let subtotal: i64 = to_price
        .iter()
        .map(|l| l.unit_price.get() * i64::from(l.quantity))
        .sum();
    let chosen: Vec<&HeldCoupon> = match &req.coupons {
        CouponChoice::None => Vec::new(),
        CouponChoice::Best => {
            let (idx, _) = best_coupons(
                Fen::new(subtotal).unwrap_or(Fen::ZERO),
                &held,
                campaign.coupon_rules,
            );
            idx.iter().map(|&i| &held[i]).collect()
        }
        CouponChoice::These(ids) => ids
            .iter()
            .map(|id| {
                held.iter()
                    .find(|h| &h.id == id)
                    .ok_or_else(|| DomainError::Conflict {
                        kind: "coupon-not-applicable",
                        reason: format!("coupon {id} is not yours to use"),
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let cart = price(to_price, &chosen, campaign.coupon_rules)?;

    let id = OrderId::generate(now);
    let mut coupon_writes = Vec::new();
    for c in &chosen {
        let Some((tpl, n_th)) = parse_coupon_id(&c.id) else {
            continue;
        };
        coupon_writes.push(Write::Update {
            key: Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl, &req.buyer, n_th)),
            update: Update {
                set: vec![
                    (AttrPath::top("status"), s("redeemed")),
                    (AttrPath::top("order"), s(id.as_str())),
                ],
                ..Update::default()
            },
            condition: Some(Condition::Equals(AttrPath::top("status"), s("available"))),
        });
    }
    let guide = match &req.guide {
        Some(g) if snap.get(&keys::tenant_pk(t), &keys::guide_sk(g)).is_some() => Some(g.clone()),
        Some(_) => {
            return Err(DomainError::invalid(
                "share_token",
                "the guide of this link is no longer here",
            )
            .into())
        }
        None => None,
    };
    let order = Order {
        id,
        tenant: t.clone(),
        campaign: campaign.id.clone(),
        buyer: req.buyer.clone(),
        lines: cart
            .lines
            .iter()
            .cloned()
            .zip(takes)
            .map(|(priced, shards)| OrderLine {
                priced,
                shards,
                store: None,
            })
            .collect(),
        subtotal_fen: cart.subtotal_fen,
        discount_fen: cart.discount_fen,
        total_fen: cart.total_fen,
        coupons: cart.coupons.clone(),
        delivery: req.delivery.clone(),
        guide,
        status: OrderStatus::AwaitingPayment,
        history: vec![crate::domain::order::StatusChange {
            status: OrderStatus::AwaitingPayment,
            at: now,
            note: None,
        }],
        payment_deadline: payment_deadline(now, campaign.payment_window_minutes),
        payment_ref: None,
        late_payment: None,
        pickup_code: None,
        created_at: now,
        version: 1,
    };
    Ok(Plan {
        order,
        order_cart: cart,
        stock_writes,
        coupon_writes,
    })
}
