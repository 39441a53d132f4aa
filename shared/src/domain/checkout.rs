//! Checkout: from a cart and one snapshot of what the table holds, the order to write
//! and exactly what it takes (units per stock shard, purchase-limit units, coupons).
//! Pure: the persistence layer reads the snapshot and writes the plan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use super::attribution::{attribute, Attribution, Binding, LinkGuide, LinkRejection, ShareClaims};
use super::campaign::{Campaign, CampaignStatus};
use super::catalog::{Guide, Listing, MAX_SHARDS};
use super::coupon::BuyerCoupon;
use super::group_buy::{GroupBuy, GroupJoin, Member};
use super::ids::{CampaignId, OrderId, Size, Sku, UserId};
use super::money::Fen;
use super::order::{
    payment_deadline, Delivery, Order, OrderLine, OrderStatus, ShardTake, StatusChange,
};
use super::pricing::{best_coupons, price, HeldCoupon, LineToPrice, PricedCart};
use super::tenancy::Tenant;
use super::DomainError;

/// At most this many lines (distinct SKU and size) in one order.
pub const MAX_LINES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub sku: Sku,
    pub size: Size,
    #[schema(minimum = 1, maximum = 99)]
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
    /// The share link the buyer arrived with, verified (or why it credits nobody).
    pub link: Option<Result<ShareClaims, LinkRejection>>,
    pub delivery: Delivery,
    /// Opening or joining a group buy: one unit at the group price, a seat taken.
    pub group: Option<GroupJoin>,
}

/// What the one batch read found, typed.
#[derive(Debug, Clone, Default)]
pub struct CheckoutSnapshot {
    pub listings: HashMap<Sku, Listing>,
    /// Units per size left in each stock shard, by SKU and shard number.
    pub shards: HashMap<(Sku, u8), BTreeMap<Size, u32>>,
    /// Units of each SKU the buyer bought before; absent when there is no marker yet.
    pub bought: HashMap<Sku, u32>,
    /// The buyer's coupons of this campaign that are still available.
    pub coupons: Vec<BuyerCoupon>,
    /// The guide of the share link, if the link named one and they are still here.
    pub guide: Option<Guide>,
    /// The buyer's binding to a guide, if any (binding rule).
    pub binding: Option<Binding>,
    /// The group being joined, as read.
    pub group: Option<GroupBuy>,
    /// Whether the buyer already has a seat in it.
    pub group_member: bool,
    /// Groups of this listing the buyer opened or joined before; absent: none.
    pub groups_taken: Option<u32>,
    /// A stock shard read is fenced by the campaign's close.
    pub closed: bool,
    /// The buyer's member level in the brand, read only while an early window is
    /// ahead (0 otherwise).
    pub member_level: u8,
    /// The buyer's latest try-on visit in this campaign, if any.
    pub visit: Option<super::visit::Visit>,
}

/// A purchase-limit marker as it must be written: from exactly `before` (absent: no
/// marker yet) to `after`, so two orders of one buyer cannot both pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitChange {
    pub sku: Sku,
    pub before: Option<u32>,
    pub after: u32,
}

/// What one order writes, decided from one snapshot.
#[derive(Debug, Clone)]
pub struct CheckoutPlan {
    /// The order, its lines carrying the units taken per shard.
    pub order: Order,
    /// A join during a close's grace for open groups: its stock is taken past the
    /// close's fence (the count follows the grace, so it is counted).
    pub in_grace: bool,
    pub cart: PricedCart,
    pub limits: Vec<LimitChange>,
    /// The seat a group order takes.
    pub seat: Option<Seat>,
    /// The try-on visit whose held units it takes.
    pub visit: Option<VisitUse>,
}

/// An order taking a try-on visit's held units: the version it was read at, the holds
/// taken (indices into its holds), and the visit as it is then written.
#[derive(Debug, Clone)]
pub struct VisitUse {
    pub as_read: u64,
    pub used: Vec<usize>,
    pub next: super::visit::Visit,
}

impl VisitUse {
    /// The holds the order took.
    pub fn taken(&self) -> impl Iterator<Item = &super::visit::Hold> {
        self.used.iter().filter_map(|&i| self.next.holds.get(i))
    }
}

/// A seat in a group buy, as an order takes it.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The group: new (when opening) or as read (when joining).
    pub group: GroupBuy,
    pub opening: bool,
    pub member: Member,
    /// The buyer's count of groups on this listing, from `before` to `before + 1`.
    pub taken_before: Option<u32>,
}

pub fn validate_cart(lines: &[CartLine]) -> Result<(), DomainError> {
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

/// The problem of anything sold after the close began.
pub fn closed() -> DomainError {
    DomainError::conflict(
        "campaign-closed",
        "the campaign has closed: nothing more is sold",
    )
}

/// Decides an order: the campaign selling now, every line priced at the open slot,
/// purchase limits, stock taken from shards (starting at a shard drawn from `seed`, so
/// concurrent buyers spread out), and the coupons to redeem.
pub fn plan_checkout(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
    id: OrderId,
    seed: u64,
) -> Result<CheckoutPlan, DomainError> {
    let in_grace = selling(req, campaign, snap, now)?;
    let mut to_price = lines_to_price(req, campaign, snap, now)?;
    let seat = group_seat(req, campaign, snap, now, &id, &mut to_price)?;
    let limits = purchase_limits(req, snap)?;
    let attribution = credit(req, campaign, snap, now);
    // An order credited to a try-on visit takes the units the visit holds first: they
    // are back on its shards for this order only.
    let mut shards = std::borrow::Cow::Borrowed(&snap.shards);
    let mut visit = None;
    if let Some(v) = snap
        .visit
        .as_ref()
        .filter(|v| attribution.visit.as_ref() == Some(&v.id))
    {
        let lines: Vec<_> = req
            .lines
            .iter()
            .map(|l| (&l.sku, &l.size, l.quantity))
            .collect();
        let used = v.holds_for(&lines);
        for &i in &used {
            if let Some(h) = v.holds.get(i) {
                *shards
                    .to_mut()
                    .entry((h.sku.clone(), h.shard))
                    .or_default()
                    .entry(h.size.clone())
                    .or_default() += 1;
            }
        }
        if !used.is_empty() {
            let mut next = v.clone();
            next.use_holds(&used, &id);
            visit = Some(VisitUse {
                as_read: v.version,
                used,
                next,
            });
        }
    }
    let takes = take_stock(req, snap, &shards, seed)?;
    let cart = price_with_coupons(req, campaign, snap, to_price)?;
    let order = new_order(req, campaign, snap, now, id, &cart, takes, attribution);
    Ok(CheckoutPlan {
        order,
        in_grace,
        cart,
        limits,
        seat,
        visit,
    })
}

/// Whether the campaign sells now or, during a close's grace for open groups, takes
/// this join: `Ok(true)` for that grace.
fn selling(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    validate_cart(&req.lines)?;
    // While a close gives open groups their grace, they may still be joined.
    let in_grace =
        matches!(req.group, Some(GroupJoin::Join(_))) && super::close::grace_open(campaign, now);
    if (campaign.is_closed() || snap.closed) && !in_grace {
        return Err(closed());
    }
    let early = campaign.opens_early_for(snap.member_level, now);
    if campaign.status_at(now) != CampaignStatus::Live && !in_grace && !early {
        return Err(DomainError::conflict(
            "campaign-not-live",
            "the campaign is not selling now",
        ));
    }
    // A group seat is priced at its group's price, whatever the slot.
    if !in_grace && !campaign.slots.is_empty() && campaign.open_slot_at(now).is_none() {
        return Err(DomainError::conflict(
            "slot-closed",
            "no flash-sale slot is open now",
        ));
    }
    req.delivery.validate()?;
    if let Some(s) = &req.delivery.store {
        if !campaign.stores.contains(s) {
            return Err(DomainError::invalid(
                "delivery.store",
                "not a store of this campaign",
            ));
        }
    }

    Ok(in_grace)
}

/// Every line priced at the slot open now.
fn lines_to_price(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
) -> Result<Vec<LineToPrice>, DomainError> {
    let mut to_price = Vec::new();
    for (i, line) in req.lines.iter().enumerate() {
        let listing = snap.listings.get(&line.sku).ok_or_else(|| {
            DomainError::invalid(
                format!("lines[{i}].sku"),
                "no such product in this campaign",
            )
        })?;
        if !listing.sizes.contains(&line.size) {
            return Err(DomainError::invalid(
                format!("lines[{i}].size"),
                "not a size of this product",
            ));
        }
        let (unit_price, slot) = listing.price_at(campaign, now);
        to_price.push(LineToPrice {
            sku: line.sku.clone(),
            size: line.size.clone(),
            quantity: line.quantity,
            unit_price,
            slot,
            category: Some(listing.category.clone()),
        });
    }

    Ok(to_price)
}

/// A group order: one unit of the group's product, at the group's price, a seat taken.
fn group_seat(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
    id: &OrderId,
    to_price: &mut [LineToPrice],
) -> Result<Option<Seat>, DomainError> {
    let mut seat = None;
    if let Some(join) = &req.group {
        let line = match req.lines.as_slice() {
            [l] if l.quantity == 1 => l,
            _ => {
                return Err(DomainError::invalid(
                    "lines",
                    "a group order is one unit of the group's product",
                ))
            }
        };
        let offer = snap
            .listings
            .get(&line.sku)
            .and_then(|l| l.group.clone())
            .ok_or_else(|| {
                DomainError::invalid("lines[0].sku", "this product is not sold in groups")
            })?;
        let group = match join {
            GroupJoin::Open(id) => GroupBuy::open(
                id.clone(),
                req.tenant.clone(),
                campaign.id.clone(),
                line.sku.clone(),
                &offer,
                req.buyer.clone(),
                now,
                campaign.ends_at,
            ),
            GroupJoin::Join(_) => {
                let g = snap
                    .group
                    .clone()
                    .ok_or(DomainError::NotFound { what: "group" })?;
                if g.sku != line.sku || g.campaign != campaign.id {
                    return Err(DomainError::invalid(
                        "lines[0].sku",
                        format!("this group buys {} of campaign {}", g.sku, g.campaign),
                    ));
                }
                g.check_join(&req.buyer, snap.group_member, now)?;
                g
            }
        };
        let taken = snap.groups_taken.unwrap_or(0);
        if taken + 1 > offer.per_buyer {
            return Err(DomainError::conflict(
                "group-limit-exceeded",
                format!(
                    "at most {} group(s) of {} per buyer",
                    offer.per_buyer, line.sku
                ),
            ));
        }
        // The group's price, as it was when the group opened.
        to_price[0].unit_price = group.price_fen;
        to_price[0].slot = None;
        seat = Some(Seat {
            member: Member {
                group: group.id.clone(),
                tenant: req.tenant.clone(),
                buyer: req.buyer.clone(),
                order: id.clone(),
                joined_at: now,
                paid: false,
                refunded: false,
            },
            opening: matches!(join, GroupJoin::Open(_)),
            group,
            taken_before: snap.groups_taken,
        });
    }

    Ok(seat)
}

/// Purchase limits, per SKU over the buyer's earlier orders and this one.
fn purchase_limits(
    req: &OrderRequest,
    snap: &CheckoutSnapshot,
) -> Result<Vec<LimitChange>, DomainError> {
    let mut per_sku: BTreeMap<&Sku, u32> = BTreeMap::new();
    for l in &req.lines {
        *per_sku.entry(&l.sku).or_default() += l.quantity;
    }
    let mut limits = Vec::new();
    for (sku, q) in per_sku {
        let before = snap.bought.get(sku).copied();
        let bought = before.unwrap_or(0);
        let limit = snap
            .listings
            .get(sku)
            .map(|l| l.per_buyer_limit)
            .unwrap_or(0);
        if bought + q > limit {
            return Err(DomainError::conflict(
                "purchase-limit-exceeded",
                format!("at most {limit} of {sku} per buyer; you have {bought}"),
            ));
        }
        limits.push(LimitChange {
            sku: sku.clone(),
            before,
            after: bought + q,
        });
    }

    Ok(limits)
}

/// Stock: a line is taken whole from one shard drawn at random among those that hold
/// enough (so the writes of a rush spread evenly over the shards still selling, even as
/// some sell out); failing that, from the shards in turn from a random start.
fn take_stock(
    req: &OrderRequest,
    snap: &CheckoutSnapshot,
    shards: &HashMap<(Sku, u8), BTreeMap<Size, u32>>,
    seed: u64,
) -> Result<Vec<Vec<ShardTake>>, DomainError> {
    let mut left = shards.clone();
    let mut takes: Vec<Vec<ShardTake>> = Vec::new();
    for (i, line) in req.lines.iter().enumerate() {
        let shards = snap
            .listings
            .get(&line.sku)
            .map(|l| l.shards)
            .unwrap_or(1)
            .clamp(1, MAX_SHARDS);
        let draw = seed.rotate_right(8 * (i % 8) as u32);
        let holding: Vec<u8> = (0..shards)
            .filter(|s| {
                left.get(&(line.sku.clone(), *s))
                    .and_then(|units| units.get(&line.size))
                    .is_some_and(|have| *have >= line.quantity)
            })
            .collect();
        if !holding.is_empty() {
            let shard = holding[(draw % holding.len() as u64) as usize];
            if let Some(have) = left
                .get_mut(&(line.sku.clone(), shard))
                .and_then(|units| units.get_mut(&line.size))
            {
                *have -= line.quantity;
                takes.push(vec![ShardTake {
                    shard,
                    units: line.quantity,
                }]);
                continue;
            }
        }
        let start = (draw % u64::from(shards)) as u8;
        let mut need = line.quantity;
        let mut line_takes = Vec::new();
        for k in 0..shards {
            let shard = (start + k) % shards;
            let have = left
                .get_mut(&(line.sku.clone(), shard))
                .and_then(|units| units.get_mut(&line.size));
            let Some(have) = have else { continue };
            let take = (*have).min(need);
            if take > 0 {
                *have -= take;
                need -= take;
                line_takes.push(ShardTake { shard, units: take });
            }
            if need == 0 {
                break;
            }
        }
        if need > 0 {
            return Err(DomainError::conflict(
                "sold-out",
                format!("lines[{i}]: {} in size {} is sold out", line.sku, line.size),
            ));
        }
        takes.push(line_takes);
    }

    Ok(takes)
}

/// The cart priced with the coupons the buyer holds and chose (the best, by default).
fn price_with_coupons(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    to_price: Vec<LineToPrice>,
) -> Result<PricedCart, DomainError> {
    let held: Vec<HeldCoupon> = snap
        .coupons
        .iter()
        .map(|c| HeldCoupon {
            id: c.id.clone(),
            template: c.template.clone(),
            off: c.off_fen,
            min_spend: c.min_spend_fen,
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
                held.iter().find(|h| &h.id == id).ok_or_else(|| {
                    DomainError::conflict(
                        "coupon-not-applicable",
                        format!("coupon {id} is not yours to use"),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    price(to_price, &chosen, campaign.coupon_rules)
}

/// Who the sale is credited to, fixed now; a bad link credits nobody and says why.
fn credit(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
) -> Attribution {
    let link_guide = match (&req.link, &snap.guide) {
        (Some(Ok(claims)), Some(g)) if g.id == claims.guide => Some(LinkGuide {
            store: g.store.clone(),
            user: g.user.clone(),
        }),
        _ => None,
    };
    let trial = snap
        .visit
        .as_ref()
        .and_then(|v| super::visit::trial_for(v, req.lines.iter().map(|l| &l.sku), now));
    attribute(
        &campaign.attribution,
        req.link.clone(),
        link_guide.as_ref(),
        &req.buyer,
        &campaign.stores,
        snap.binding.as_ref(),
        trial.as_ref(),
        now,
    )
}

/// The order as placed: its lines with the shards they took, awaiting payment.
#[allow(clippy::too_many_arguments)]
fn new_order(
    req: &OrderRequest,
    campaign: &Campaign,
    snap: &CheckoutSnapshot,
    now: DateTime<Utc>,
    id: OrderId,
    cart: &PricedCart,
    takes: Vec<Vec<ShardTake>>,
    attribution: Attribution,
) -> Order {
    Order {
        id: id.clone(),
        tenant: req.tenant.clone(),
        campaign: campaign.id.clone(),
        buyer: req.buyer.clone(),
        lines: cart
            .lines
            .iter()
            .cloned()
            .zip(takes)
            .map(|(priced, shards)| OrderLine {
                final_sale: snap.listings.get(&priced.sku).is_some_and(|l| l.final_sale),
                priced,
                shards,
            })
            .collect(),
        subtotal_fen: cart.subtotal_fen,
        discount_fen: cart.discount_fen,
        total_fen: cart.total_fen,
        coupons: cart.coupons.clone(),
        delivery: req.delivery.clone(),
        guide: attribution.guide.clone(),
        guide_store: attribution.store.clone(),
        attribution: Some(attribution),
        status: OrderStatus::AwaitingPayment,
        history: vec![StatusChange {
            status: OrderStatus::AwaitingPayment,
            at: now,
            note: None,
        }],
        payment_deadline: payment_deadline(now, campaign.payment_window_minutes),
        payment_ref: None,
        parcels: Vec::new(),
        attention: None,
        returned: Vec::new(),
        refunded_fen: Fen::ZERO,
        refunded_lines: Vec::new(),
        refund_requests: 0,
        group: req.group.as_ref().map(|g| g.id().clone()),
        returns_policy: campaign.returns,
        first_in_tenant: false,
        created_at: now,
        version: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::{Category, Stage, DEFAULT_TIME_ZONE};
    use crate::domain::catalog::StoreStock;
    use crate::domain::coupon::CouponStatus;
    use crate::domain::ids::{CategoryId, CouponTemplateId, GuideId, StoreId};
    use crate::domain::money::Units;
    use crate::domain::order::DeliveryMode;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn campaign() -> Campaign {
        Campaign {
            id: CampaignId::parse("c").unwrap(),
            name: "c".into(),
            stage: Stage::Published,
            starts_at: now() - Duration::days(1),
            ends_at: now() + Duration::days(1),
            time_zone: DEFAULT_TIME_ZONE,
            slots: vec![],
            categories: vec![Category {
                id: CategoryId::parse("x").unwrap(),
                name: "X".into(),
            }],
            stores: vec![StoreId::parse("s1").unwrap()],
            payment_window_minutes: 15,
            coupons: vec![],
            coupon_rules: Default::default(),
            returns: Default::default(),
            attribution: Default::default(),
            shard_counts: Default::default(),
            early_access: None,
            close: None,
            version: 1,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn listing(sku: &str, shards: u8, limit: u32) -> Listing {
        Listing {
            sku: Sku::parse(sku).unwrap(),
            name: "n".into(),
            category: CategoryId::parse("x").unwrap(),
            sizes: vec![Size::parse("38").unwrap()],
            list_price_fen: Fen::new(30_000).unwrap(),
            clearance_price_fen: Fen::new(20_000).unwrap(),
            slot_prices_fen: BTreeMap::new(),
            group: None,
            per_buyer_limit: limit,
            final_sale: false,
            stock: vec![StoreStock {
                store: StoreId::parse("s1").unwrap(),
                size: Size::parse("38").unwrap(),
                units: Units::new(10).unwrap(),
            }],
            shards,
            attributes: Default::default(),
            image: None,
            updated_at: now(),
        }
    }

    /// A snapshot with `units` of size 38 in each of the listing's shards.
    fn snapshot(l: Listing, units: &[u32]) -> CheckoutSnapshot {
        let mut s = CheckoutSnapshot::default();
        for (i, u) in units.iter().enumerate() {
            s.shards.insert(
                (l.sku.clone(), i as u8),
                BTreeMap::from([(Size::parse("38").unwrap(), *u)]),
            );
        }
        s.listings.insert(l.sku.clone(), l);
        s
    }

    fn request(qty: u32) -> OrderRequest {
        OrderRequest {
            tenant: Tenant::parse("demo", "x").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            buyer: UserId::parse("b").unwrap(),
            lines: vec![CartLine {
                sku: Sku::parse("A").unwrap(),
                size: Size::parse("38").unwrap(),
                quantity: qty,
            }],
            coupons: CouponChoice::Best,
            link: None,
            delivery: Delivery {
                store: None,
                mode: DeliveryMode::Pickup,
                address: None,
                phone: None,
                location: None,
            },
            group: None,
        }
    }

    fn plan(
        req: &OrderRequest,
        snap: &CheckoutSnapshot,
        seed: u64,
    ) -> Result<CheckoutPlan, DomainError> {
        plan_checkout(
            req,
            &campaign(),
            snap,
            now(),
            OrderId::generate(now()),
            seed,
        )
    }

    #[test]
    fn stock_falls_through_sold_out_shards_from_any_start() {
        let snap = snapshot(listing("A", 3, 5), &[0, 2, 1]);
        for seed in 0..3 {
            let p = plan(&request(3), &snap, seed).unwrap();
            let took: u32 = p.order.lines[0].shards.iter().map(|t| t.units).sum();
            assert_eq!(took, 3, "seed {seed}");
            assert!(p.order.lines[0].shards.iter().all(|t| t.shard != 0));
        }
        let err = plan(&request(4), &snap, 0).unwrap_err();
        assert!(matches!(
            err,
            DomainError::Conflict {
                kind: "sold-out",
                ..
            }
        ));
    }

    /// Writes per shard when `orders` buyers of one unit each arrive, their orders taken
    /// in turn from what is left (as the conditional writes serialize them).
    fn rush(stock: &[u32], orders: u32) -> Vec<u32> {
        let mut snap = snapshot(listing("A", stock.len() as u8, 1), stock);
        let mut writes = vec![0u32; stock.len()];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..orders {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let Ok(p) = plan(&request(1), &snap, seed >> 11) else {
                break;
            };
            for t in &p.order.lines[0].shards {
                writes[t.shard as usize] += 1;
                if let Some(u) = snap
                    .shards
                    .get_mut(&(Sku::parse("A").unwrap(), t.shard))
                    .and_then(|m| m.get_mut(&Size::parse("38").unwrap()))
                {
                    *u -= t.units;
                }
            }
        }
        writes
    }

    #[test]
    fn a_rush_spreads_its_writes_evenly_over_the_shards_still_selling() {
        // 32 shards, plenty of stock: no shard takes more than its share + 10 %
        let writes = rush(&[10_000; 32], 32_000);
        let share = 32_000 / 32;
        assert!(writes.iter().all(|w| *w <= share * 11 / 10), "{writes:?}");
        // half the shards nearly sold out: the load moves evenly to the other half, not
        // onto the neighbours of the empty ones
        let mut stock = vec![10_000u32; 32];
        for s in stock.iter_mut().step_by(2) {
            *s = 5;
        }
        let writes = rush(&stock, 16_000);
        let share = (16_000 - 16 * 5) / 16;
        for (i, w) in writes.iter().enumerate() {
            if i % 2 == 1 {
                assert!(
                    *w <= share * 11 / 10,
                    "shard {i}: {w} (share {share}) {writes:?}"
                );
            } else {
                assert!(*w <= 5);
            }
        }
    }

    #[test]
    fn the_purchase_limit_counts_earlier_orders_and_is_written_from_what_was_read() {
        let mut snap = snapshot(listing("A", 1, 2), &[10]);
        let p = plan(&request(2), &snap, 0).unwrap();
        assert_eq!(p.limits[0].before, None);
        assert_eq!(p.limits[0].after, 2);
        snap.bought.insert(Sku::parse("A").unwrap(), 1);
        let err = plan(&request(2), &snap, 0).unwrap_err();
        assert!(matches!(
            err,
            DomainError::Conflict {
                kind: "purchase-limit-exceeded",
                ..
            }
        ));
        let p = plan(&request(1), &snap, 0).unwrap();
        assert_eq!((p.limits[0].before, p.limits[0].after), (Some(1), 2));
    }

    #[test]
    fn the_best_held_coupon_is_applied_and_the_lines_sum_to_the_total() {
        let mut snap = snapshot(listing("A", 1, 5), &[10]);
        let coupon = |id: &str, off: i64, min: i64| BuyerCoupon {
            id: format!("{id}.1"),
            tenant: Tenant::parse("demo", "x").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            template: CouponTemplateId::parse(id).unwrap(),
            name: id.into(),
            off_fen: Fen::new(off).unwrap(),
            min_spend_fen: Fen::new(min).unwrap(),
            status: CouponStatus::Available,
            order: None,
            claimed_at: now(),
        };
        snap.coupons = vec![coupon("c20", 2_000, 0), coupon("c50", 5_000, 50_000)];
        let p = plan(&request(3), &snap, 0).unwrap();
        assert_eq!(p.order.coupons, vec!["c50.1".to_string()]);
        assert_eq!(p.order.total_fen, Fen::new(55_000).unwrap());
        let lines: i64 = p.order.lines.iter().map(|l| l.priced.paid_fen.get()).sum();
        assert_eq!(lines, p.order.total_fen.get());
        let mut req = request(1);
        req.coupons = CouponChoice::These(vec!["c50.1".into()]);
        assert!(matches!(
            plan(&req, &snap, 0).unwrap_err(),
            DomainError::Conflict {
                kind: "coupon-not-applicable",
                ..
            }
        ));
    }

    #[test]
    fn a_share_link_credits_its_guide_only_while_they_are_here_and_fixes_their_store() {
        use crate::domain::attribution::{Reason, ShareClaims};
        let mut snap = snapshot(listing("A", 1, 5), &[10]);
        let mut req = request(1);
        req.link = Some(Ok(ShareClaims {
            tenant: req.tenant.clone(),
            guide: GuideId::parse("g1").unwrap(),
            store: StoreId::parse("s0").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            target: None,
            issued_at: now(),
            expires_at: now() + Duration::days(7),
        }));
        let gone = plan(&req, &snap, 0).unwrap();
        let a = gone.order.attribution.unwrap();
        assert_eq!(
            (a.guide, a.reason),
            (None, Reason::GuideGone),
            "the sale goes ahead, uncredited"
        );
        snap.guide = Some(Guide {
            id: GuideId::parse("g1").unwrap(),
            name: "G".into(),
            store: StoreId::parse("s1").unwrap(),
            user: UserId::parse("gu").unwrap(),
            updated_at: now(),
        });
        let p = plan(&req, &snap, 0).unwrap();
        assert_eq!(
            p.order.guide_store,
            Some(StoreId::parse("s1").unwrap()),
            "the guide's store now, not the link's"
        );
        assert_eq!(p.order.attribution.unwrap().reason, Reason::Link);
    }

    #[test]
    fn carts_are_bounded() {
        assert!(validate_cart(&[]).is_err());
        let mut r = request(100);
        assert!(validate_cart(&r.lines).is_err());
        r.lines[0].quantity = 1;
        r.lines.push(r.lines[0].clone());
        assert!(validate_cart(&r.lines).is_err());
    }
}
