//! Placing an order: one BatchGetItem (listings, every stock shard, the buyer's limit
//! markers and coupons, the idempotency record, the guide, the buyer's latest try-on
//! visit), the pure decision
//! ([`plan_checkout`]), and one TransactWriteItems (shard decrements, the order, the
//! idempotency record, coupon redemptions, limit markers). A condition that fails
//! because another buyer got there first is retried from a fresh read; nothing is ever
//! half-written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use std::collections::{BTreeMap, HashMap};

use crate::app::AppState;
use crate::db::groups::{group_item, group_key, member_item, member_key, EXPIRES_MS};
use crate::db::members::{level_keys, MemberAsRead};
use crate::db::orders::{map_of, number, order_item, random, unless_fenced, Tally, FENCE};
use crate::db::retry::{optimistic, Attempt};
use crate::domain::attribution::{Attribution, Binding, Rule};
use crate::domain::campaign::Campaign;
use crate::domain::catalog::{Guide, Listing};
use crate::domain::checkout::{
    plan_checkout, validate_cart, CheckoutPlan, CheckoutSnapshot, CouponChoice, OrderRequest,
};
use crate::domain::coupon::{parse_coupon_id, BuyerCoupon, CouponStatus};
use crate::domain::group_buy::{GroupBuy, GroupJoin};
use crate::domain::ids::{IdempotencyKey, OrderId, Size, Sku};
use crate::domain::order::Order;
use crate::domain::pricing::PricedCart;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{delay_until, GroupMessage, TimeoutMessage};
use crate::table::keys;
use crate::table::{
    from_item, n, s, to_item, AttrPath, Condition, Item, Key, TableError, Update, Write, PK, SK,
};

/// The outcome of place-order.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    /// A new order (and, for a group order, the group as it now is).
    Created {
        order: Order,
        body: String,
        group: Option<GroupBuy>,
    },
    /// The same request was made before under this key: its stored response.
    Replayed { status: u16, body: String },
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

/// A buyer's binding to a guide (binding rule) lives in their tenant partition.
pub(crate) fn binding_key(
    t: &crate::domain::tenancy::Tenant,
    buyer: &crate::domain::ids::UserId,
) -> Key {
    Key::new(keys::buyer_pk(t, buyer), keys::BINDING_SK)
}

fn idempotency_key(req: &OrderRequest, key: &IdempotencyKey) -> Key {
    Key::new(
        keys::buyer_pk(&req.tenant, &req.buyer),
        keys::idempotency_sk(key),
    )
}

/// Keys one order reads at most (coupons are the open-ended part).
const MAX_KEYS: usize = 300;

impl AppState {
    /// Places an order: 1 BatchGetItem + 1 TransactWriteItems when no other buyer wins
    /// a race for the same stock; a lost race goes round again.
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
        let idem = idempotency_key(req, key);
        optimistic("this stock", || async {
            let (snapshot, record, level_read) =
                self.read_for_order(req, campaign, Some(&idem), now).await?;
            if let Some(record) = record {
                return replay(record, request_hash).map(Attempt::Done);
            }
            let plan = plan_checkout(
                req,
                campaign,
                &snapshot,
                now,
                OrderId::generate(now),
                random(),
            )?;
            // The response is stored with the record, so a replay answers byte for byte.
            let body = render(&plan.order);
            let record = IdempotencyRecord {
                request_hash: request_hash.to_owned(),
                status: 201,
                body: body.clone(),
                order: plan.order.id.clone(),
                expires_at: (now + chrono::Duration::hours(24)).timestamp(),
            };
            let record = to_item(
                &record,
                &[
                    (PK, idem.pk.clone()),
                    (SK, idem.sk.clone()),
                    ("kind", "idempotency".into()),
                ],
            )?;
            // Sold before the start: only on the level read, so it must still hold.
            let level_check = (now < campaign.starts_at).then_some(level_read).flatten();
            let (writes, at) = order_writes(record, &plan, level_check, now)?;
            match self.db.table().transact(writes).await {
                Ok(()) => {
                    let group = plan.seat.map(|s| s.group);
                    self.announce_placed(&plan.order, group.as_ref(), now).await;
                    Ok(Attempt::Done(Placed::Created {
                        order: plan.order,
                        body,
                        group,
                    }))
                }
                Err(TableError::TransactionCancelled { failed }) => {
                    if failed.contains(&0) {
                        // Someone placed this very request a moment ago.
                        if let Some(record) = self.db.table().get(&idem, true).await? {
                            return replay(record, request_hash).map(Attempt::Done);
                        }
                    }
                    if at.member.is_some_and(|m| failed.contains(&m)) {
                        return Err(DomainError::conflict(
                            "already-in-group",
                            "you already have a seat in this group",
                        )
                        .into());
                    }
                    if failed.iter().any(|&i| i >= at.coupons_from) {
                        return Err(DomainError::conflict(
                            "coupon-not-applicable",
                            "the coupon has just been used",
                        )
                        .into());
                    }
                    // Stock, a limit marker or a seat moved under us: read again (the
                    // rules then say sold out, limit reached, group full or expired).
                    Ok(Attempt::Again)
                }
                Err(TableError::Conflict) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// What follows a new order: its payment timeout (and a group's expiry, for the
    /// group it opened) as delayed messages, re-sent in hops until due. Best effort:
    /// both sit on the timer index, where the sweeper finds them if a send is lost.
    async fn announce_placed(&self, order: &Order, group: Option<&GroupBuy>, now: DateTime<Utc>) {
        let deadline = order.payment_deadline;
        let timeout = TimeoutMessage::at(order, deadline);
        if let Err(e) = self
            .queue
            .post(&timeout, Some(delay_until(deadline, now)))
            .await
        {
            tracing::error!(order = %order.id, error = %e, "could not schedule the payment timeout");
        }
        if let Some(g) = group.filter(|g| g.opened_by == order.buyer) {
            let expiry = GroupMessage::expiry(g);
            if let Err(e) = self
                .queue
                .post(&expiry, Some(delay_until(g.expires_at, now)))
                .await
            {
                tracing::error!(group = %g.id, error = %e, "could not schedule the group's expiry");
            }
        }
    }

    /// Prices a cart, and says who the sale would be credited to, without writing
    /// anything: 1 BatchGetItem.
    pub async fn preview_order(
        &self,
        req: &OrderRequest,
        campaign: &Campaign,
        now: DateTime<Utc>,
    ) -> Result<(PricedCart, Option<Attribution>)> {
        validate_cart(&req.lines)?;
        let (snapshot, _, _) = self.read_for_order(req, campaign, None, now).await?;
        let id = OrderId::generate(now);
        let plan = plan_checkout(req, campaign, &snapshot, now, id, random())?;
        Ok((plan.cart, plan.order.attribution))
    }

    /// The one read of an order: listings and all their shards, the buyer's limit
    /// markers and coupons, the guide, the idempotency record, the buyer's latest
    /// try-on visit, and while an early
    /// window is ahead the buyer's member account, profile and brand terms (their
    /// level); with the check that keeps that level as read until the write.
    async fn read_for_order(
        &self,
        req: &OrderRequest,
        campaign: &Campaign,
        idem: Option<&Key>,
        now: DateTime<Utc>,
    ) -> Result<(CheckoutSnapshot, Option<Item>, Option<Write>)> {
        let t = &req.tenant;
        let cpk = keys::campaign_pk(t, &campaign.id);
        let mut wanted: Vec<Key> = idem.into_iter().cloned().collect();
        let mut skus: Vec<&Sku> = req.lines.iter().map(|l| &l.sku).collect();
        skus.sort();
        skus.dedup();
        for sku in &skus {
            wanted.push(Key::new(cpk.clone(), keys::listing_sk(sku)));
            // Only the shards the listing has (the campaign records the count).
            for shard in 0..campaign.shards_of(sku) {
                wanted.push(Key::new(cpk.clone(), keys::stock_sk(sku, shard)));
            }
            wanted.push(Key::new(cpk.clone(), keys::limit_sk(sku, &req.buyer)));
        }
        if req.coupons != CouponChoice::None {
            'outer: for tpl in &campaign.coupons {
                for n_th in coupon_places(tpl) {
                    if wanted.len() >= MAX_KEYS {
                        break 'outer;
                    }
                    wanted.push(Key::new(
                        cpk.clone(),
                        keys::buyer_coupon_sk(&tpl.id, &req.buyer, n_th),
                    ));
                }
            }
        }
        if let Some(Ok(claims)) = &req.link {
            wanted.push(Key::new(keys::tenant_pk(t), keys::guide_sk(&claims.guide)));
        }
        if campaign.attribution.rule == Rule::Binding {
            wanted.push(binding_key(t, &req.buyer));
        }
        if let Some(join) = &req.group {
            if let Some(line) = req.lines.first() {
                wanted.push(Key::new(
                    cpk.clone(),
                    keys::group_limit_sk(&line.sku, &req.buyer),
                ));
            }
            if let GroupJoin::Join(id) = join {
                wanted.push(group_key(t, id));
                wanted.push(member_key(t, id, &req.buyer));
            }
        }
        let early = campaign.early_window_ahead(now);
        if early {
            wanted.extend(level_keys(&req.buyer, &t.brand));
        }
        // A try-on visit the sale may follow (credited to its guide).
        let visit = crate::db::visits::visit_key(t, &campaign.id, &req.buyer);
        wanted.push(visit.clone());
        // One BatchGetItem (100 keys) in practice; a cart of several heavily sharded
        // products takes one more per hundred keys.
        let found = self.db.batch_get_map(&wanted, true).await?;
        let at = |pk: &str, sk: String| found.get(&Key::new(pk, sk));
        let mut snap = CheckoutSnapshot::default();
        for sku in skus {
            if let Some(item) = at(&cpk, keys::listing_sk(sku)) {
                let listing: Listing = from_item(item.clone())?;
                snap.listings.insert(sku.clone(), listing);
            }
            for shard in 0..campaign.shards_of(sku) {
                if let Some(item) = at(&cpk, keys::stock_sk(sku, shard)) {
                    snap.closed |= item.contains_key(FENCE);
                    if let Some(units) = map_of(item, "units") {
                        snap.shards.insert((sku.clone(), shard), sizes(units));
                    }
                }
            }
            if let Some(marker) = at(&cpk, keys::limit_sk(sku, &req.buyer)) {
                let units = number(marker.get("units")).clamp(0, i64::from(u32::MAX)) as u32;
                snap.bought.insert(sku.clone(), units);
            }
        }
        for tpl in &campaign.coupons {
            for n_th in coupon_places(tpl) {
                if let Some(item) = at(&cpk, keys::buyer_coupon_sk(&tpl.id, &req.buyer, n_th)) {
                    let c: BuyerCoupon = from_item(item.clone())?;
                    if c.status == CouponStatus::Available {
                        snap.coupons.push(c);
                    }
                }
            }
        }
        if let Some(Ok(claims)) = &req.link {
            if let Some(item) = at(&keys::tenant_pk(t), keys::guide_sk(&claims.guide)) {
                snap.guide = Some(from_item::<Guide>(item.clone())?);
            }
        }
        if let Some(item) = found.get(&binding_key(t, &req.buyer)) {
            snap.binding = Some(from_item::<Binding>(item.clone())?);
        }
        if let Some(join) = &req.group {
            if let Some(line) = req.lines.first() {
                snap.groups_taken = at(&cpk, keys::group_limit_sk(&line.sku, &req.buyer))
                    .map(|m| number(m.get("units")).clamp(0, i64::from(u32::MAX)) as u32);
            }
            if let GroupJoin::Join(id) = join {
                if let Some(item) = found.get(&group_key(t, id)) {
                    snap.group = Some(from_item::<GroupBuy>(item.clone())?);
                }
                snap.group_member = found.contains_key(&member_key(t, id, &req.buyer));
            }
        }
        if let Some(item) = found.get(&visit) {
            snap.visit = Some(from_item(item.clone())?);
        }
        let mut level_check = None;
        if early {
            let m = MemberAsRead::of(&found, &req.buyer, &t.brand, now)?;
            snap.member_level = m.level;
            level_check = Some(m.unchanged(&req.buyer, &t.brand));
        }
        let record = idem.and_then(|k| found.get(k)).cloned();
        Ok((snap, record, level_check))
    }
}

/// A shard's `units` map, typed.
fn sizes(units: &HashMap<String, AttributeValue>) -> BTreeMap<Size, u32> {
    units
        .iter()
        .filter_map(|(size, v)| {
            let size = Size::parse(size).ok()?;
            let n = number(Some(v)).clamp(0, i64::from(u32::MAX)) as u32;
            Some((size, n))
        })
        .collect()
}

/// Where some writes sit in the order's transaction, to tell its failures apart.
struct WriteIndex {
    /// The first coupon redemption.
    coupons_from: usize,
    /// The group seat's member item (a failure: the buyer already has a seat).
    member: Option<usize>,
}

/// The order's one transaction: the idempotency record first, then the order, the
/// stock and limit markers, a group seat, and last the coupons (their index tells a
/// coupon just used elsewhere from a lost stock race).
fn order_writes(
    record: Item,
    plan: &CheckoutPlan,
    level_check: Option<Write>,
    now: DateTime<Utc>,
) -> Result<(Vec<Write>, WriteIndex), TableError> {
    let o = &plan.order;
    let cpk = keys::campaign_pk(&o.tenant, &o.campaign);
    let mut writes = vec![
        Write::Put {
            item: record,
            condition: Some(Condition::NotExists),
        },
        Write::Put {
            item: order_item(o)?,
            condition: Some(Condition::NotExists),
        },
    ];
    for limit in &plan.limits {
        let units = AttrPath::top("units");
        writes.push(Write::Update {
            key: Key::new(cpk.clone(), keys::limit_sk(&limit.sku, &o.buyer)),
            update: Update {
                set: vec![(units.clone(), n(i64::from(limit.after)))],
                ..Update::default()
            },
            // Exactly the count we read, so two orders of one buyer cannot both pass.
            condition: Some(match limit.before {
                Some(before) => Condition::Equals(units, n(i64::from(before))),
                None => Condition::NotExists,
            }),
        });
    }
    let mut stock = Tally::default();
    for line in &o.lines {
        for take in &line.shards {
            stock.add(
                keys::stock_sk(&line.priced.sku, take.shard),
                &["units", line.priced.size.as_str()],
                i64::from(take.units),
            );
        }
    }
    // Each shard is taken on condition the close has not fenced it: an order either
    // commits before the fence (and is counted) or is refused. A join in the close's
    // grace for open groups is the exception: the count waits for the grace.
    // Units a try-on visit held come off its shards no more: they are the order's now,
    // and back in the store's count for its dispatch.
    if let Some(v) = &plan.visit {
        for h in v.taken() {
            stock.add(
                keys::stock_sk(&h.sku, h.shard),
                &["units", h.size.as_str()],
                -1,
            );
        }
    }
    let taken = stock.take(&cpk);
    if plan.in_grace {
        writes.extend(taken);
    } else {
        writes.extend(taken.into_iter().map(unless_fenced));
    }
    let mut member = None;
    if let Some(seat) = &plan.seat {
        let g = &seat.group;
        if seat.opening {
            writes.push(Write::Put {
                item: group_item(g)?,
                condition: Some(Condition::NotExists),
            });
        } else {
            // A seat only while one is free, the group open, and not expired: checked
            // by the write itself, so no race overfills it. The version moves with the
            // seat, so a payment that read the group before it cannot write its old
            // count of free seats back.
            let free = AttrPath::top("free");
            writes.push(Write::Update {
                key: group_key(&o.tenant, &g.id),
                update: Update {
                    add: vec![(free.clone(), -1), (AttrPath::top("version"), 1)],
                    ..Update::default()
                },
                condition: Some(Condition::All(vec![
                    Condition::AtLeast(free, 1),
                    Condition::Equals(AttrPath::top("status"), s("open")),
                    Condition::AtLeast(
                        AttrPath::top(EXPIRES_MS),
                        now.timestamp_millis().saturating_add(1),
                    ),
                ])),
            });
        }
        member = Some(writes.len());
        writes.push(Write::Put {
            item: member_item(&seat.member)?,
            condition: Some(Condition::NotExists),
        });
        let units = AttrPath::top("units");
        let before = seat.taken_before;
        writes.push(Write::Update {
            key: Key::new(cpk.clone(), keys::group_limit_sk(&g.sku, &o.buyer)),
            update: Update {
                set: vec![(units.clone(), n(i64::from(before.unwrap_or(0) + 1)))],
                ..Update::default()
            },
            condition: Some(match before {
                Some(b) => Condition::Equals(units, n(i64::from(b))),
                None => Condition::NotExists,
            }),
        });
    }
    // An early sale: the member's account still as read (their level).
    writes.extend(level_check);
    if let Some(v) = &plan.visit {
        writes.extend(crate::db::visits::visit_writes(
            &o.tenant, &v.next, v.as_read,
        )?);
        writes.extend(crate::db::visits::give_back_holds(
            &o.tenant,
            &v.next,
            v.taken(),
        ));
    }
    let coupons_from = writes.len();
    for id in &o.coupons {
        let Some((tpl, n_th)) = parse_coupon_id(id) else {
            continue;
        };
        writes.push(Write::Update {
            key: Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl, &o.buyer, n_th)),
            update: Update {
                set: vec![
                    (AttrPath::top("status"), s("redeemed")),
                    (AttrPath::top("order"), s(o.id.as_str())),
                ],
                ..Update::default()
            },
            condition: Some(Condition::Equals(AttrPath::top("status"), s("available"))),
        });
    }
    Ok((
        writes,
        WriteIndex {
            coupons_from,
            member,
        },
    ))
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

/// Where a buyer's coupons of a template may be: the places they claim (1..=per
/// buyer), and the places an assist pack grants.
fn coupon_places(tpl: &crate::domain::coupon::CouponTemplate) -> impl Iterator<Item = u32> {
    use crate::domain::assist::{PACK_COUPON_FROM, PACK_PLACES};
    (1..=tpl.per_buyer).chain(PACK_COUPON_FROM..PACK_COUPON_FROM + PACK_PLACES)
}
