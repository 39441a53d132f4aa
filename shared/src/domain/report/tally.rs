//! The running count of a close: each page of records is folded in, and the count is
//! written between pages (it is plain data), so a close can stop after any page and
//! go on from the last count written. Folding is the only arithmetic; `finish` only
//! arranges.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::{
    basis_points, percentile, split_by_face, AttentionLine, BoardLine, CouponLine, Figures,
    GroupFigures, Keyed, ListingLine, OpenWork, ReasonLine, RefundFigures, Report, SizeLine,
    StockFigures, StoreFigures, StoreStockLine,
};
use crate::domain::assist::{Assist, AssistOffer, AssistStatus, PACK_COUPON_FROM};
use crate::domain::campaign::Campaign;
use crate::domain::catalog::Listing;
use crate::domain::coupon::parse_coupon_id;
use crate::domain::group_buy::{GroupBuy, GroupStatus};
use crate::domain::ids::CouponTemplateId;
use crate::domain::ids::OrderId;
use crate::domain::order::{attention_note, Order, OrderStatus, ParcelStatus};
use crate::domain::refund::{
    units_amount as allocated_amount, Decision, GoodsStatus, MoneyStatus, Refund, RefundKind,
};
use crate::domain::shipping::CarrierKind;
use crate::domain::tenancy::Tenant;

/// Counted orders not dispatched by any store.
pub const NO_STORE: &str = "-";

/// Sales of a store (or the campaign), before buyers are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Sales {
    orders: u64,
    units: u64,
    gross_fen: i64,
    refunded_fen: i64,
    buyers: BTreeSet<String>,
}

/// One cell's stock: put in, dispatched, returned to stock, left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cell {
    stock: u64,
    dispatched: u64,
    restocked: u64,
    leftover: u64,
}

impl Cell {
    fn plus(self, o: Cell) -> Cell {
        Cell {
            stock: self.stock + o.stock,
            dispatched: self.dispatched + o.dispatched,
            restocked: self.restocked + o.restocked,
            leftover: self.leftover + o.leftover,
        }
    }

    fn figures(self) -> StockFigures {
        let sold = self.dispatched.saturating_sub(self.restocked);
        StockFigures {
            stock_units: self.stock,
            sold_units: sold,
            leftover_units: self.leftover,
            sell_through_bp: basis_points(sold, self.stock),
        }
    }
}

/// A listing as the report needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyListing {
    pub name: String,
    pub clearance_price_fen: i64,
    pub units: u64,
    pub gross_fen: i64,
    /// `size -> store -> cell`.
    cells: BTreeMap<String, BTreeMap<String, Cell>>,
}

impl TallyListing {
    fn cell(&mut self, size: &str, store: &str) -> &mut Cell {
        self.cells
            .entry(size.to_owned())
            .or_default()
            .entry(store.to_owned())
            .or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Refunds {
    requested: u64,
    approved_by_rule: u64,
    approved_by_person: u64,
    rejected: u64,
    pending_review: u64,
    decision_seconds: Vec<i64>,
    paid_back_fen: i64,
    /// `reason -> (count, amount)`.
    by_reason: BTreeMap<String, (u64, i64)>,
}

/// The running count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    orders_placed: u64,
    orders_unpaid_cancelled: u64,
    total: Sales,
    stores: BTreeMap<String, Sales>,
    listings: BTreeMap<String, TallyListing>,
    /// `template -> (redemptions, cost)`.
    coupons: BTreeMap<String, (u64, i64)>,
    /// Each group's status, and its paid units' discount off the clearance price.
    groups: BTreeMap<String, GroupStatus>,
    group_discount: BTreeMap<String, i64>,
    refunds: Refunds,
    /// `order -> (reason, still open)`.
    attention: BTreeMap<String, (String, bool)>,
    open: OpenWork,
    /// `store -> its shipping parcels' times and ends`.
    #[serde(default)]
    shipping: BTreeMap<String, Shipping>,
    /// `offer -> its assists`.
    #[serde(default)]
    assists: BTreeMap<String, Assists>,
    /// `template -> (pack coupons redeemed, their cost)`.
    #[serde(default)]
    pack_coupons: BTreeMap<String, (u64, i64)>,
    /// `store -> its pickup bookings and try-on visits`.
    #[serde(default)]
    visits: BTreeMap<String, Visits>,
}

/// A store's pickup bookings and try-on visits so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Visits {
    bookings: u64,
    booking_no_shows: u64,
    visits: u64,
    cancelled: u64,
    no_shows: u64,
    check_ins: u64,
    /// Visits a counted order was credited to.
    converted: BTreeSet<String>,
}

/// An offer's assists so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Assists {
    started: u64,
    completed: u64,
    expired: u64,
    open: u64,
    recruited: u64,
    by_guide: BTreeMap<String, u64>,
}

/// A store's shipping parcels so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Shipping {
    parcels: u64,
    handover_seconds: Vec<i64>,
    delivery_seconds: Vec<i64>,
    needed_attention: u64,
    lost: u64,
    returned: u64,
    same_city: u64,
    same_city_fees_fen: i64,
}

fn was_paid(o: &Order) -> bool {
    o.payment_ref.is_some()
}

impl Tally {
    /// A listing and what it put into the campaign (its stock per store and size).
    pub fn fold_listing(&mut self, l: &Listing) {
        let t = self.listings.entry(l.sku.to_string()).or_default();
        t.name = l.name.clone();
        t.clearance_price_fen = l.clearance_price_fen.get();
        for s in &l.stock {
            t.cell(s.size.as_str(), s.store.as_str()).stock = u64::from(s.units.get());
        }
    }

    /// What a listing's store stock count holds now: `store -> size -> units`.
    pub fn fold_leftover(&mut self, sku: &str, units: &BTreeMap<String, BTreeMap<String, i64>>) {
        let t = self.listings.entry(sku.to_owned()).or_default();
        for (store, sizes) in units {
            for (size, n) in sizes {
                t.cell(size, store).leftover = (*n).max(0) as u64;
            }
        }
    }

    pub fn fold_order(&mut self, o: &Order, campaign: &Campaign) {
        self.orders_placed += 1;
        if !was_paid(o) {
            match o.status {
                OrderStatus::AwaitingPayment => self.open.unpaid_orders += 1,
                _ => self.orders_unpaid_cancelled += 1,
            }
            return;
        }
        if let Some(a) = o.attribution.as_ref() {
            if let (Some(v), Some(store)) = (&a.visit, &a.store) {
                let e = self.visits.entry(store.to_string()).or_default();
                e.converted.insert(v.to_string());
            }
        }
        let buyer = o.buyer.to_string();
        let units: u64 = o.lines.iter().map(|l| u64::from(l.priced.quantity)).sum();
        let paid = o.total_fen.get();
        self.total.orders += 1;
        self.total.units += units;
        self.total.gross_fen += paid;
        self.total.buyers.insert(buyer.clone());

        // Each line's units to the stores of their parcels, with their allocated paid
        // amount; what no parcel holds stays under NO_STORE.
        let mut by_store: BTreeMap<String, (u64, i64)> = BTreeMap::new();
        for (i, line) in o.lines.iter().enumerate() {
            let p = &line.priced;
            let listing = self.listings.entry(p.sku.to_string()).or_default();
            listing.units += u64::from(p.quantity);
            listing.gross_fen += p.paid_fen.get();
            let mut taken = 0u32;
            for parcel in &o.parcels {
                for item in parcel.items.iter().filter(|it| it.line == i) {
                    let amount = allocated_amount(p.paid_fen, p.quantity, taken, item.quantity);
                    taken += item.quantity;
                    let e = by_store.entry(parcel.store.to_string()).or_default();
                    e.0 += u64::from(item.quantity);
                    e.1 += amount.get();
                    listing
                        .cell(p.size.as_str(), parcel.store.as_str())
                        .dispatched += u64::from(item.quantity);
                }
            }
            if taken < p.quantity {
                let amount = allocated_amount(p.paid_fen, p.quantity, taken, p.quantity - taken);
                let e = by_store.entry(NO_STORE.to_owned()).or_default();
                e.0 += u64::from(p.quantity - taken);
                e.1 += amount.get();
            }
            // A group seat's saving, counted once the group's fate is known.
            if let Some(g) = &o.group {
                let saving =
                    (listing.clearance_price_fen - p.unit_price_fen.get()) * i64::from(p.quantity);
                *self.group_discount.entry(g.to_string()).or_default() += saving.max(0);
            }
        }
        for (store, (u, amount)) in by_store {
            let s = self.stores.entry(store).or_default();
            s.orders += 1;
            s.units += u;
            s.gross_fen += amount;
            s.buyers.insert(buyer.clone());
        }

        // Coupons: the order's discount, shared by face value when several stacked. An
        // order cancelled before dispatch gave its coupons back (the buyer may use them
        // again): they cost nothing here.
        let gave_back = o.status == OrderStatus::Cancelled && o.parcels.is_empty();
        let used: Vec<(String, i64, bool)> = o
            .coupons
            .iter()
            .filter(|_| !gave_back)
            .filter_map(|id| parse_coupon_id(id))
            .map(|(tpl, n)| {
                let face = campaign
                    .coupons
                    .iter()
                    .find(|c| c.id == tpl)
                    .map_or(0, |c| c.off_fen.get());
                (tpl.to_string(), face, n >= PACK_COUPON_FROM)
            })
            .collect();
        let faces: Vec<i64> = used.iter().map(|(_, f, _)| *f).collect();
        for ((tpl, _, pack), cost) in used.iter().zip(split_by_face(o.discount_fen.get(), &faces)) {
            let c = self.coupons.entry(tpl.clone()).or_default();
            c.0 += 1;
            c.1 += cost;
            if *pack {
                let p = self.pack_coupons.entry(tpl.clone()).or_default();
                p.0 += 1;
                p.1 += cost;
            }
        }

        if o.status == OrderStatus::NeedsAttention {
            let reason = o
                .attention
                .clone()
                .unwrap_or_else(|| "needs attention".into());
            self.attention.insert(o.id.to_string(), (reason, true));
        } else if let Some(h) = o
            .history
            .iter()
            .find(|h| h.status == OrderStatus::NeedsAttention)
        {
            let reason = h.note.clone().unwrap_or_else(|| "needed attention".into());
            self.attention.insert(o.id.to_string(), (reason, false));
        }

        if let Some(dispatched) = o.dispatched_at() {
            for p in o.parcels.iter().filter(|p| p.ships()) {
                let Some(sh) = &p.shipment else { continue };
                let s = self.shipping.entry(p.store.to_string()).or_default();
                s.parcels += 1;
                if let Some(h) = &sh.handed_over {
                    s.handover_seconds.push((h.at - dispatched).num_seconds());
                }
                if let (ParcelStatus::Delivered, Some(at)) = (p.status, sh.delivered_at) {
                    s.delivery_seconds.push((at - dispatched).num_seconds());
                }
                let note = attention_note(p.id);
                if o.history
                    .iter()
                    .any(|h| h.note.as_deref().is_some_and(|n| n.starts_with(&note)))
                {
                    s.needed_attention += 1;
                }
                match p.status {
                    ParcelStatus::Lost => s.lost += 1,
                    ParcelStatus::ReturnedToStore => s.returned += 1,
                    _ => {}
                }
                if sh.kind == Some(CarrierKind::SameCity) {
                    s.same_city += 1;
                    s.same_city_fees_fen += sh.fee_fen.map_or(0, |f| f.get());
                }
            }
        }

        if o.status != OrderStatus::Cancelled {
            match o.received_at() {
                Some(at) => {
                    let closes = at + Duration::days(i64::from(o.returns_policy.window_days));
                    let last = &mut self.open.last_window_closes_at;
                    if last.is_none_or(|l| closes > l) {
                        *last = Some(closes);
                    }
                }
                None => self.open.undelivered_orders += 1,
            }
        }
    }

    /// An assist of one of the campaign's offers.
    pub fn fold_assist(&mut self, a: &Assist) {
        let e = self.assists.entry(a.offer.to_string()).or_default();
        e.started += 1;
        // The close has fenced the offers before it counts: an assist still open can
        // no longer complete, so it is counted as expired (its record expires at its
        // own time, which changes nothing here).
        match a.status {
            AssistStatus::Completed => e.completed += 1,
            AssistStatus::Expired | AssistStatus::Open => e.expired += 1,
        }
        e.recruited += a.helpers.iter().filter(|h| h.new_to_brand).count() as u64;
        if let Some(g) = &a.guide {
            *e.by_guide.entry(g.to_string()).or_default() += 1;
        }
    }

    /// The offers' lines: every offer of the campaign, with its assists and its packs'
    /// coupons (an offer's templates are its own).
    pub fn assist_lines(&self, offers: &[AssistOffer]) -> Vec<super::AssistLine> {
        offers
            .iter()
            .map(|o| {
                let a = self.assists.get(o.id.as_str()).cloned().unwrap_or_default();
                let mut templates: Vec<&CouponTemplateId> = o.pack.iter().collect();
                templates.sort();
                templates.dedup();
                let (redeemed, cost) = templates
                    .iter()
                    .filter_map(|t| self.pack_coupons.get(t.as_str()))
                    .fold((0, 0), |(n, c), (n2, c2)| (n + n2, c + c2));
                super::AssistLine {
                    offer: o.id.to_string(),
                    name: o.name.clone(),
                    started: a.started,
                    completed: a.completed,
                    expired: a.expired,
                    open: a.open,
                    packs_granted: a.completed,
                    budget: u64::from(o.budget),
                    recruited: a.recruited,
                    pack_coupons_redeemed: redeemed,
                    pack_coupons_cost_fen: cost,
                    by_guide: a
                        .by_guide
                        .iter()
                        .map(|(g, n)| super::GuideAssists {
                            guide: g.clone(),
                            started: *n,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// A try-on visit as its store's day keeps it. One still booked at the count is a
    /// no-show: the close comes after the campaign, and every slot ends within it.
    pub fn fold_visit(&mut self, v: &crate::domain::visit::Visit) {
        use crate::domain::visit::VisitStatus;
        let e = self.visits.entry(v.store.to_string()).or_default();
        e.visits += 1;
        match v.status {
            VisitStatus::Cancelled => e.cancelled += 1,
            VisitStatus::NoShow | VisitStatus::Booked => e.no_shows += 1,
            VisitStatus::CheckedIn => e.check_ins += 1,
        }
    }

    /// A pickup booking kept (moved and cancelled ones are deleted).
    pub fn fold_booking(&mut self, store: &str, no_show: bool) {
        let e = self.visits.entry(store.to_owned()).or_default();
        e.bookings += 1;
        e.booking_no_shows += u64::from(no_show);
    }

    pub fn fold_refund(&mut self, r: &Refund) {
        if r.kind == RefundKind::UnappliedPayment {
            // A payment the order could not take was never the campaign's money, nor a
            // refund anyone asked for: no figure of the report, only open work while
            // it is owed (it may arrive, and be given back, after the report is final).
            if r.money != MoneyStatus::Succeeded {
                self.open.refunds_unpaid += 1;
            }
            return;
        }
        let reason = match r.kind {
            RefundKind::Cancellation => "cancellation".to_owned(),
            _ => r
                .reason
                .and_then(|x| serde_json::to_value(x).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "other".into()),
        };
        let f = &mut self.refunds;
        f.requested += 1;
        match (r.decision, &r.decided) {
            (Decision::PendingReview, _) => {
                f.pending_review += 1;
                self.open.refunds_pending_review += 1;
            }
            (Decision::Approved, Some(d)) if d.by == "rules" => f.approved_by_rule += 1,
            (Decision::Approved, _) => f.approved_by_person += 1,
            (Decision::Rejected, _) => f.rejected += 1,
        }
        if let Some(d) = &r.decided {
            f.decision_seconds
                .push((d.at - r.created_at).num_seconds().max(0));
        }
        if r.money == MoneyStatus::Succeeded {
            f.paid_back_fen += r.amount_fen.get();
        }
        let owed = r.decision == Decision::Approved && r.goods != GoodsStatus::Closed;
        let e = f.by_reason.entry(reason).or_default();
        e.0 += 1;
        if owed {
            e.1 += r.amount_fen.get();
        }
        match r.goods {
            GoodsStatus::AwaitingReturn if r.decision == Decision::Approved => {
                self.open.returns_in_transit += 1
            }
            _ if owed && r.money != MoneyStatus::Succeeded => self.open.refunds_unpaid += 1,
            _ => {}
        }
        if !owed || r.kind == RefundKind::UnappliedPayment {
            return;
        }
        // What goes back comes off sales: a return, or a parcel cancelled before
        // pickup, at its store; an order cancelled before dispatch where it was
        // counted (no store dispatched it).
        let store = r
            .return_store
            .as_ref()
            .map_or_else(|| NO_STORE.to_owned(), |s| s.to_string());
        self.total.refunded_fen += r.amount_fen.get();
        self.stores.entry(store.clone()).or_default().refunded_fen += r.amount_fen.get();
        // Units back in the store's count: the resaleable ones of a return, every one
        // of a cancelled parcel.
        let back: Vec<(usize, u32)> = match (r.kind, r.parcel) {
            (RefundKind::Cancellation, Some(_)) => {
                r.lines.iter().map(|l| (l.line, l.quantity)).collect()
            }
            _ => r
                .inspection
                .iter()
                .map(|x| (x.line, x.resaleable))
                .collect(),
        };
        for (line, units) in back {
            if let Some(line) = r.lines.iter().find(|l| l.line == line) {
                let listing = self.listings.entry(line.sku.to_string()).or_default();
                listing.cell(line.size.as_str(), &store).restocked += u64::from(units);
            }
        }
    }

    pub fn fold_group(&mut self, g: &GroupBuy) {
        if g.status == GroupStatus::Open {
            self.open.open_groups += 1;
        }
        self.groups.insert(g.id.to_string(), g.status);
    }

    /// The report, with the attribution ledger's boards (by net GMV, highest first):
    /// final once the campaign is settling and nothing it counts is still open.
    pub fn finish(
        &self,
        tenant: &Tenant,
        campaign: &Campaign,
        guides: Vec<BoardLine>,
        store_board: Vec<BoardLine>,
        now: DateTime<Utc>,
    ) -> Report {
        let new_by_store: Keyed<u64> = store_board
            .iter()
            .map(|b| (b.id.clone(), b.totals.new_buyers.max(0) as u64))
            .collect();
        let stock = self.stock();
        let mut open = self.open.clone();
        open.commission_pending_fen = guides.iter().map(|g| g.totals.commission_pending_fen).sum();
        Report {
            tenant: tenant.to_string(),
            brand: tenant.brand.to_string(),
            campaign: campaign.id.clone(),
            name: campaign.name.clone(),
            starts_at: campaign.starts_at,
            ends_at: campaign.ends_at,
            closed_at: campaign.close.as_ref().map(|r| r.started_at),
            edition: crate::domain::close::edition(&open, campaign.stage, now),
            generated_at: now,
            orders_placed: self.orders_placed,
            orders_unpaid_cancelled: self.orders_unpaid_cancelled,
            totals: sales_figures(&self.total, new_by_store.values().sum()),
            stock: stock.all.figures(),
            stores: self.store_lines(&stock.by_store, &new_by_store),
            listings: stock.listings,
            coupons: self.coupon_lines(campaign),
            groups: self.group_figures(),
            refunds: self.refund_figures(),
            guides,
            store_board,
            attention: self.attention_lines(),
            open,
            missed_searches: Vec::new(),
            shipping: self.shipping_lines(),
            visits: self.visit_lines(),
            // The offers are not the tally's: the close adds their lines.
            assists: Vec::new(),
        }
    }

    /// Stock per listing, size and store, and summed per store and overall.
    fn stock(&self) -> Stock {
        let mut out = Stock::default();
        for (sku, l) in &self.listings {
            let mut total = Cell::default();
            let mut sizes = Vec::new();
            let mut cells = Vec::new();
            for (size, stores) in &l.cells {
                let mut by_size = Cell::default();
                for (store, c) in stores {
                    by_size = by_size.plus(*c);
                    let e = out.by_store.entry(store.clone()).or_default();
                    *e = e.plus(*c);
                    cells.push(StoreStockLine {
                        store: store.clone(),
                        size: size.clone(),
                        stock: c.figures(),
                    });
                }
                total = total.plus(by_size);
                sizes.push(SizeLine {
                    size: size.clone(),
                    stock: by_size.figures(),
                });
            }
            out.all = out.all.plus(total);
            out.listings.push(ListingLine {
                sku: sku.clone(),
                name: l.name.clone(),
                units: l.units,
                gross_gmv_fen: l.gross_fen,
                stock: total.figures(),
                sizes,
                cells,
            });
        }
        out
    }

    /// Every store that sold or held stock, by net GMV (highest first).
    fn store_lines(
        &self,
        store_cells: &BTreeMap<String, Cell>,
        new_by_store: &Keyed<u64>,
    ) -> Vec<StoreFigures> {
        let mut names: BTreeSet<&String> = self.stores.keys().collect();
        names.extend(store_cells.keys());
        let mut stores: Vec<StoreFigures> = names
            .into_iter()
            .map(|id| {
                let sales = self.stores.get(id).cloned().unwrap_or_default();
                let stock = store_cells.get(id).copied().unwrap_or_default().figures();
                StoreFigures {
                    store: id.clone(),
                    figures: sales_figures(&sales, new_by_store.get(id).copied().unwrap_or(0)),
                    stock_units: stock.stock_units,
                    sold_units: stock.sold_units,
                    leftover_units: stock.leftover_units,
                    sell_through_bp: stock.sell_through_bp,
                }
            })
            .collect();
        stores.sort_by(|a, b| {
            b.figures
                .net_gmv_fen
                .cmp(&a.figures.net_gmv_fen)
                .then_with(|| a.store.cmp(&b.store))
        });
        stores
    }

    /// Redemptions and cost per coupon template, named as the campaign names it.
    fn coupon_lines(&self, campaign: &Campaign) -> Vec<CouponLine> {
        self.coupons
            .iter()
            .map(|(tpl, (n, cost))| CouponLine {
                template: tpl.clone(),
                name: campaign
                    .coupons
                    .iter()
                    .find(|c| c.id.as_str() == tpl)
                    .map_or_else(|| tpl.clone(), |c| c.name.clone()),
                redemptions: *n,
                cost_fen: *cost,
            })
            .collect()
    }

    /// Groups by outcome, with what the formed and store-completed ones cost.
    fn group_figures(&self) -> GroupFigures {
        let mut groups = GroupFigures::default();
        for (id, status) in &self.groups {
            groups.opened += 1;
            let cost = self.group_discount.get(id).copied().unwrap_or(0);
            match status {
                GroupStatus::Open => groups.open += 1,
                GroupStatus::Formed => {
                    groups.formed += 1;
                    groups.formed_cost_fen += cost;
                }
                GroupStatus::StoreCompleted => {
                    groups.store_completed += 1;
                    groups.store_completed_cost_fen += cost;
                }
                GroupStatus::Failed => groups.failed += 1,
            }
        }
        groups
    }

    /// Refund decisions: who decided, how fast, what was paid back and why.
    fn refund_figures(&self) -> RefundFigures {
        let f = &self.refunds;
        let decided = f.approved_by_rule + f.approved_by_person + f.rejected;
        RefundFigures {
            requested: f.requested,
            approved_by_rule: f.approved_by_rule,
            approved_by_person: f.approved_by_person,
            rejected: f.rejected,
            pending_review: f.pending_review,
            automatic_approval_bp: basis_points(f.approved_by_rule, decided),
            decision_p50_seconds: percentile(&f.decision_seconds, 50),
            decision_p95_seconds: percentile(&f.decision_seconds, 95),
            paid_back_fen: f.paid_back_fen,
            by_reason: f
                .by_reason
                .iter()
                .map(|(reason, (count, amount))| ReasonLine {
                    reason: reason.clone(),
                    count: *count,
                    amount_fen: *amount,
                })
                .collect(),
        }
    }

    /// The orders that needed a person, and whether they still do.
    fn shipping_lines(&self) -> Vec<super::ShippingLine> {
        self.shipping
            .iter()
            .map(|(store, s)| super::ShippingLine {
                store: store.clone(),
                parcels: s.parcels,
                handover_p50_seconds: percentile(&s.handover_seconds, 50),
                handover_p95_seconds: percentile(&s.handover_seconds, 95),
                delivery_p50_seconds: percentile(&s.delivery_seconds, 50),
                delivery_p95_seconds: percentile(&s.delivery_seconds, 95),
                delivered: s.delivery_seconds.len() as u64,
                needed_attention: s.needed_attention,
                lost: s.lost,
                returned_unclaimed: s.returned,
                same_city: s.same_city,
                same_city_fees_fen: s.same_city_fees_fen,
            })
            .collect()
    }

    fn visit_lines(&self) -> Vec<super::VisitLine> {
        self.visits
            .iter()
            .map(|(store, v)| super::VisitLine {
                store: store.clone(),
                pickup_bookings: v.bookings,
                pickup_no_shows: v.booking_no_shows,
                visits: v.visits,
                visits_cancelled: v.cancelled,
                visit_no_shows: v.no_shows,
                check_ins: v.check_ins,
                converted: v.converted.len() as u64,
                conversion_bp: super::basis_points(v.converted.len() as u64, v.check_ins),
            })
            .collect()
    }

    fn attention_lines(&self) -> Vec<AttentionLine> {
        self.attention
            .iter()
            .filter_map(|(id, (reason, open))| {
                Some(AttentionLine {
                    order: OrderId::parse(id).ok()?,
                    reason: reason.clone(),
                    open: *open,
                })
            })
            .collect()
    }
}

/// The stock part of a report, arranged from the cells.
#[derive(Default)]
struct Stock {
    listings: Vec<ListingLine>,
    by_store: BTreeMap<String, Cell>,
    all: Cell,
}

/// A store's (or the campaign's) headline figures.
fn sales_figures(s: &Sales, new_buyers: u64) -> Figures {
    Figures {
        orders: s.orders,
        units: s.units,
        buyers: s.buyers.len() as u64,
        new_buyers,
        gross_gmv_fen: s.gross_fen,
        refunded_fen: s.refunded_fen,
        net_gmv_fen: s.gross_fen - s.refunded_fen,
    }
}
