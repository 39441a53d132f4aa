//! The close's oracle: every figure of a campaign's report recomputed straight from
//! the table's records, one loop each, independently of the close's own fold.

use chrono::Duration;
use clearance::domain::group_buy::{GroupBuy, GroupStatus};
use clearance::domain::order::{Order, OrderStatus};
use clearance::domain::refund::{
    units_amount, Decision, GoodsStatus, MoneyStatus, Refund, RefundKind,
};
use clearance::domain::report::{percentile, Report};
use clearance::table::keys;
use clearance::table::{from_item, string_attr, Item, PK, SK};
use std::collections::{BTreeMap, BTreeSet};

/// A campaign's orders, refunds and groups among a table's items.
pub fn records(items: &[Item], campaign: &str) -> (Vec<Order>, Vec<Refund>, Vec<GroupBuy>) {
    let (mut orders, mut refunds, mut groups) = (vec![], vec![], vec![]);
    for i in items {
        let sk = string_attr(i, SK).unwrap_or_default();
        if sk == keys::ORDER_SK && string_attr(i, "campaign") == Some(campaign) {
            orders.push(from_item::<Order>(i.clone()).unwrap());
        } else if sk.starts_with(keys::REFUND_PREFIX)
            && string_attr(i, "campaign") == Some(campaign)
        {
            refunds.push(from_item::<Refund>(i.clone()).unwrap());
        } else if sk == keys::GROUP_SK && string_attr(i, "campaign") == Some(campaign) {
            groups.push(from_item::<GroupBuy>(i.clone()).unwrap());
        }
    }
    (orders, refunds, groups)
}

/// A refund the campaign owes (approved, its goods not closed), not a payment
/// returned for want of an order.
pub fn owed(r: &Refund) -> bool {
    r.kind != RefundKind::UnappliedPayment
        && r.decision == Decision::Approved
        && r.goods != GoodsStatus::Closed
}

/// Coupons redeemed per template, with their cost, from paid orders: one coupon per
/// order here, so each order's whole discount; an order cancelled before dispatch gave
/// its coupon back.
pub fn coupon_tally(paid: &[&Order]) -> BTreeMap<String, (u64, i64)> {
    let mut coupons: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for o in paid
        .iter()
        .filter(|o| !(o.status == OrderStatus::Cancelled && o.parcels.is_empty()))
    {
        for c in &o.coupons {
            let e = coupons
                .entry(c.split('.').next().unwrap_or_default().to_owned())
                .or_default();
            e.0 += 1;
            e.1 += o.discount_fen.get();
        }
    }
    coupons
}

/// The report's coupon lines as [`coupon_tally`] counts them.
pub fn report_coupons(report: &Report) -> BTreeMap<String, (u64, i64)> {
    report
        .coupons
        .iter()
        .map(|c| (c.template.clone(), (c.redemptions, c.cost_fen)))
        .collect()
}

/// Every figure of the report recomputed straight from the records, one loop each.
pub fn check_report_against_records(report: &Report, items: &[Item], campaign: &str) {
    let (orders, refunds, groups) = records(items, campaign);
    let counted: Vec<&Order> = orders.iter().filter(|o| o.payment_ref.is_some()).collect();
    // orders
    assert_eq!(report.orders_placed, orders.len() as u64);
    assert_eq!(
        report.orders_unpaid_cancelled,
        orders
            .iter()
            .filter(|o| o.payment_ref.is_none()
                && o.status == clearance::domain::order::OrderStatus::Cancelled)
            .count() as u64
    );
    assert_eq!(report.totals.orders, counted.len() as u64);
    let units: u64 = counted
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| u64::from(l.priced.quantity))
        .sum();
    assert_eq!(report.totals.units, units);
    let gross: i64 = counted.iter().map(|o| o.total_fen.get()).sum();
    assert_eq!(report.totals.gross_gmv_fen, gross);
    let refunded: i64 = refunds
        .iter()
        .filter(|r| owed(r))
        .map(|r| r.amount_fen.get())
        .sum();
    assert_eq!(report.totals.refunded_fen, refunded);
    assert_eq!(report.totals.net_gmv_fen, gross - refunded);
    let buyers: BTreeSet<&str> = counted.iter().map(|o| o.buyer.as_str()).collect();
    assert_eq!(report.totals.buyers, buyers.len() as u64);

    // by store: each parcel's units at their allocated paid amount
    let mut by_store: BTreeMap<String, (u64, i64, i64)> = BTreeMap::new();
    for o in &counted {
        for (li, l) in o.lines.iter().enumerate() {
            let mut before = 0;
            for p in &o.parcels {
                for it in p.items.iter().filter(|it| it.line == li) {
                    let e = by_store.entry(p.store.to_string()).or_default();
                    e.0 += u64::from(it.quantity);
                    e.1 += units_amount(l.priced.paid_fen, l.priced.quantity, before, it.quantity)
                        .get();
                    before += it.quantity;
                }
            }
            if before < l.priced.quantity {
                let e = by_store.entry("-".into()).or_default();
                e.0 += u64::from(l.priced.quantity - before);
                e.1 += units_amount(
                    l.priced.paid_fen,
                    l.priced.quantity,
                    before,
                    l.priced.quantity - before,
                )
                .get();
            }
        }
    }
    for r in refunds.iter().filter(|r| owed(r)) {
        // a return, or a parcel cancelled before pickup, comes off its store's sales
        let store = match &r.return_store {
            Some(s) => s.to_string(),
            None => "-".into(),
        };
        by_store.entry(store).or_default().2 += r.amount_fen.get();
    }
    for (store, (u, g, rf)) in &by_store {
        let line = report
            .stores
            .iter()
            .find(|s| &s.store == store)
            .unwrap_or_else(|| panic!("store {store} missing"));
        assert_eq!(
            (
                line.figures.units,
                line.figures.gross_gmv_fen,
                line.figures.refunded_fen
            ),
            (*u, *g, *rf),
            "{store}"
        );
    }
    assert_eq!(
        report
            .stores
            .iter()
            .map(|s| s.figures.gross_gmv_fen)
            .sum::<i64>(),
        gross
    );

    // stock: put in, dispatched less restocked, left
    let mut stock: BTreeMap<(String, String, String), (u64, u64, u64)> = BTreeMap::new();
    let cpk = keys::campaign_pk(
        &clearance_local::seed::tenant().unwrap(),
        &clearance::domain::ids::CampaignId::parse(campaign).unwrap(),
    );
    for i in items {
        if string_attr(i, PK) == Some(&cpk) && string_attr(i, "kind") == Some("listing") {
            let l: clearance::domain::catalog::Listing = from_item(i.clone()).unwrap();
            for s in &l.stock {
                stock
                    .entry((l.sku.to_string(), s.size.to_string(), s.store.to_string()))
                    .or_default()
                    .0 = u64::from(s.units.get());
            }
        }
    }
    let mut dispatched: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for o in &counted {
        for p in &o.parcels {
            for it in &p.items {
                *dispatched
                    .entry((it.sku.to_string(), it.size.to_string(), p.store.to_string()))
                    .or_default() += u64::from(it.quantity);
            }
        }
    }
    for r in refunds.iter().filter(|r| owed(r)) {
        // back in the store's count: a return's resaleable units, a cancelled parcel's
        let back: Vec<(usize, u32)> = match (r.kind, r.parcel) {
            (RefundKind::Return, _) => r
                .inspection
                .iter()
                .map(|x| (x.line, x.resaleable))
                .collect(),
            (RefundKind::Cancellation, Some(_)) => {
                r.lines.iter().map(|l| (l.line, l.quantity)).collect()
            }
            _ => vec![],
        };
        for (line, units) in back {
            let l = r.lines.iter().find(|l| l.line == line).unwrap();
            let key = (
                l.sku.to_string(),
                l.size.to_string(),
                r.return_store.as_ref().unwrap().to_string(),
            );
            *dispatched.entry(key).or_default() -= u64::from(units);
        }
    }
    for ((sku, size, store), (put_in, ..)) in &stock {
        let listing = report.listings.iter().find(|l| &l.sku == sku).unwrap();
        let cell = listing
            .cells
            .iter()
            .find(|c| &c.store == store && &c.size == size)
            .unwrap();
        let sold = dispatched
            .get(&(sku.clone(), size.clone(), store.clone()))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            (cell.stock.stock_units, cell.stock.sold_units),
            (*put_in, sold),
            "{sku} {size} {store}"
        );
    }
    assert_eq!(
        report.stock.stock_units,
        stock.values().map(|v| v.0).sum::<u64>()
    );

    assert_eq!(report_coupons(report), coupon_tally(&counted));

    // groups and their cost
    let status = |s: GroupStatus| groups.iter().filter(|g| g.status == s).count() as u64;
    assert_eq!(report.groups.opened, groups.len() as u64);
    assert_eq!(
        (
            report.groups.formed,
            report.groups.failed,
            report.groups.store_completed,
            report.groups.open
        ),
        (
            status(GroupStatus::Formed),
            status(GroupStatus::Failed),
            status(GroupStatus::StoreCompleted),
            status(GroupStatus::Open)
        )
    );
    let price: BTreeMap<String, i64> = items
        .iter()
        .filter(|i| string_attr(i, PK) == Some(&cpk) && string_attr(i, "kind") == Some("listing"))
        .filter_map(|i| from_item::<clearance::domain::catalog::Listing>(i.clone()).ok())
        .map(|l| (l.sku.to_string(), l.clearance_price_fen.get()))
        .collect();
    let cost = |s: GroupStatus| -> i64 {
        counted
            .iter()
            .filter(|o| {
                o.group
                    .as_ref()
                    .is_some_and(|g| groups.iter().any(|x| &x.id == g && x.status == s))
            })
            .flat_map(|o| &o.lines)
            .map(|l| {
                (price[l.priced.sku.as_str()] - l.priced.unit_price_fen.get())
                    * i64::from(l.priced.quantity)
            })
            .sum()
    };
    assert_eq!(report.groups.formed_cost_fen, cost(GroupStatus::Formed));
    assert_eq!(
        report.groups.store_completed_cost_fen,
        cost(GroupStatus::StoreCompleted)
    );

    // refunds
    let asked: Vec<&Refund> = refunds
        .iter()
        .filter(|r| r.kind != RefundKind::UnappliedPayment)
        .collect();
    assert_eq!(report.refunds.requested, asked.len() as u64);
    let by_rules = refunds
        .iter()
        .filter(|r| {
            r.decision == Decision::Approved && r.decided.as_ref().is_some_and(|d| d.by == "rules")
        })
        .count() as u64;
    let rejected = refunds
        .iter()
        .filter(|r| r.decision == Decision::Rejected)
        .count() as u64;
    let pending = refunds
        .iter()
        .filter(|r| r.decision == Decision::PendingReview)
        .count() as u64;
    assert_eq!(
        (
            report.refunds.approved_by_rule,
            report.refunds.rejected,
            report.refunds.pending_review
        ),
        (by_rules, rejected, pending)
    );
    let decided = refunds.len() as u64 - pending;
    assert_eq!(
        report.refunds.automatic_approval_bp,
        (by_rules * 10_000 / decided) as u32
    );
    let times: Vec<i64> = asked
        .iter()
        .filter_map(|r| {
            r.decided
                .as_ref()
                .map(|d| (d.at - r.created_at).num_seconds())
        })
        .collect();
    assert_eq!(report.refunds.decision_p50_seconds, percentile(&times, 50));
    assert_eq!(report.refunds.decision_p95_seconds, percentile(&times, 95));
    let paid_back: i64 = refunds
        .iter()
        .filter(|r| r.money == MoneyStatus::Succeeded)
        .map(|r| r.amount_fen.get())
        .sum();
    assert_eq!(report.refunds.paid_back_fen, paid_back);
    let reasons: u64 = report.refunds.by_reason.iter().map(|r| r.count).sum();
    assert_eq!(reasons, refunds.len() as u64);

    // what is still open
    assert_eq!(
        report.open.unpaid_orders,
        orders
            .iter()
            .filter(|o| o.status == clearance::domain::order::OrderStatus::AwaitingPayment)
            .count() as u64
    );
    assert_eq!(report.open.refunds_pending_review, pending);
    assert_eq!(
        report.open.returns_in_transit,
        refunds
            .iter()
            .filter(|r| r.decision == Decision::Approved && r.goods == GoodsStatus::AwaitingReturn)
            .count() as u64
    );
    let last = counted
        .iter()
        .filter(|o| o.status != clearance::domain::order::OrderStatus::Cancelled)
        .filter_map(|o| {
            o.received_at()
                .map(|at| at + Duration::days(i64::from(o.returns_policy.window_days)))
        })
        .max();
    assert_eq!(report.open.last_window_closes_at, last);
}
