//! The CSV: one figure per row (`section,key,subkey,metric,value`).

use super::super::{BoardLine, Edition, Figures, Report, StockFigures};

/// RFC 4180: CRLF line ends; a field with a comma, quote or line break is quoted, its
/// quotes doubled.
pub(super) fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

pub(super) struct Csv(String);

impl Csv {
    fn line(&mut self, fields: [&str; 5]) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            csv_field(&mut self.0, f);
        }
        self.0.push_str("\r\n");
    }

    fn row(&mut self, section: &str, key: &str, subkey: &str, metric: &str, value: i128) {
        self.line([section, key, subkey, metric, &value.to_string()]);
    }

    /// A figure that may not exist yet (a decision time with no decision): the row is
    /// kept, with an empty value, so every report has the same rows.
    fn row_opt(
        &mut self,
        section: &str,
        key: &str,
        subkey: &str,
        metric: &str,
        value: Option<i128>,
    ) {
        let v = value.map(|v| v.to_string()).unwrap_or_default();
        self.line([section, key, subkey, metric, &v]);
    }

    fn rows(&mut self, section: &str, key: &str, subkey: &str, figures: &[(&str, i128)]) {
        for (metric, value) in figures {
            self.row(section, key, subkey, metric, *value);
        }
    }
}

pub(super) fn figure_values(f: &Figures) -> [(&'static str, i128); 7] {
    [
        ("orders", f.orders.into()),
        ("units", f.units.into()),
        ("buyers", f.buyers.into()),
        ("new_buyers", f.new_buyers.into()),
        ("gross_gmv_fen", f.gross_gmv_fen.into()),
        ("refunded_fen", f.refunded_fen.into()),
        ("net_gmv_fen", f.net_gmv_fen.into()),
    ]
}

pub(super) fn stock_values(s: &StockFigures) -> [(&'static str, i128); 4] {
    [
        ("stock_units", s.stock_units.into()),
        ("sold_units", s.sold_units.into()),
        ("leftover_units", s.leftover_units.into()),
        ("sell_through_bp", s.sell_through_bp.into()),
    ]
}

pub(super) fn board_values(b: &BoardLine) -> [(&'static str, i128); 9] {
    let t = &b.totals;
    [
        ("net_gmv_fen", b.net_gmv_fen.into()),
        ("orders", t.orders.into()),
        ("units", t.units.into()),
        ("gmv_fen", t.gmv_fen.into()),
        ("refunded_fen", t.refunded_fen.into()),
        ("new_buyers", t.new_buyers.into()),
        ("commission_pending_fen", t.commission_pending_fen.into()),
        (
            "commission_confirmed_fen",
            t.commission_confirmed_fen.into(),
        ),
        ("commission_reversed_fen", t.commission_reversed_fen.into()),
    ]
}

/// Every figure of the report as CSV, one per row: `section,key,subkey,metric,value`,
/// values being raw integers (fen, basis points, counts, seconds). Rows follow the
/// report's order, so the same report gives the same bytes.
pub fn to_csv(r: &Report) -> String {
    let mut c = Csv(String::with_capacity(16 * 1024));
    c.line(["section", "key", "subkey", "metric", "value"]);

    totals(&mut c, r);
    stores(&mut c, r);
    listings(&mut c, r);
    coupons(&mut c, r);
    groups(&mut c, r);
    refunds(&mut c, r);
    boards(&mut c, r);
    attention(&mut c, r);
    shipping(&mut c, r);
    visits(&mut c, r);
    assists(&mut c, r);
    open(&mut c, r);
    c.0
}

/// Assist offers: one row per figure, and assists started per guide.
fn assists(c: &mut Csv, r: &Report) {
    for a in &r.assists {
        c.rows(
            "assists",
            &a.offer,
            "",
            &[
                ("started", a.started.into()),
                ("completed", a.completed.into()),
                ("expired", a.expired.into()),
                ("open", a.open.into()),
                ("packs_granted", a.packs_granted.into()),
                ("budget", a.budget.into()),
                ("recruited", a.recruited.into()),
                ("pack_coupons_redeemed", a.pack_coupons_redeemed.into()),
                ("pack_coupons_cost_fen", a.pack_coupons_cost_fen.into()),
            ],
        );
        for g in &a.by_guide {
            c.row(
                "assists",
                &a.offer,
                &g.guide,
                "started_through_guide",
                g.started.into(),
            );
        }
    }
}

/// Pickup appointments and try-on visits, by store.
fn visits(c: &mut Csv, r: &Report) {
    for v in &r.visits {
        c.rows(
            "visits",
            &v.store,
            "",
            &[
                ("pickup_bookings", v.pickup_bookings.into()),
                ("pickup_no_shows", v.pickup_no_shows.into()),
                ("visits", v.visits.into()),
                ("visits_cancelled", v.visits_cancelled.into()),
                ("visit_no_shows", v.visit_no_shows.into()),
                ("check_ins", v.check_ins.into()),
                ("converted", v.converted.into()),
                ("conversion_bp", v.conversion_bp.into()),
            ],
        );
    }
}

/// Parcels that travel, by store.
fn shipping(c: &mut Csv, r: &Report) {
    for s in &r.shipping {
        c.rows(
            "shipping",
            &s.store,
            "",
            &[
                ("parcels", s.parcels.into()),
                ("delivered", s.delivered.into()),
                ("needed_attention", s.needed_attention.into()),
                ("lost", s.lost.into()),
                ("returned_unclaimed", s.returned_unclaimed.into()),
                ("same_city", s.same_city.into()),
                ("same_city_fees_fen", s.same_city_fees_fen.into()),
            ],
        );
        for (metric, v) in [
            ("handover_p50_seconds", s.handover_p50_seconds),
            ("handover_p95_seconds", s.handover_p95_seconds),
            ("delivery_p50_seconds", s.delivery_p50_seconds),
            ("delivery_p95_seconds", s.delivery_p95_seconds),
        ] {
            c.row_opt("shipping", &s.store, "", metric, v.map(i128::from));
        }
    }
}

/// The campaign's headline figures, and whether they can still move.
fn totals(c: &mut Csv, r: &Report) {
    let id = r.campaign.as_str();
    // A spreadsheet has no banner: say in the data whether these figures can still move.
    c.row(
        "totals",
        id,
        "",
        "is_final",
        i128::from(r.edition == Edition::Final),
    );
    c.row("totals", id, "", "orders_placed", r.orders_placed.into());
    c.row(
        "totals",
        id,
        "",
        "orders_unpaid_cancelled",
        r.orders_unpaid_cancelled.into(),
    );
    c.rows("totals", id, "", &figure_values(&r.totals));
    c.rows("totals", id, "", &stock_values(&r.stock));
}

/// Each store's sales and stock.
fn stores(c: &mut Csv, r: &Report) {
    for s in &r.stores {
        c.rows("store", &s.store, "", &figure_values(&s.figures));
        c.rows(
            "store",
            &s.store,
            "",
            &stock_values(&StockFigures {
                stock_units: s.stock_units,
                sold_units: s.sold_units,
                leftover_units: s.leftover_units,
                sell_through_bp: s.sell_through_bp,
            }),
        );
    }
}

/// Each listing, then by size, then by store and size.
fn listings(c: &mut Csv, r: &Report) {
    for l in &r.listings {
        c.row("listing", &l.sku, "", "units", l.units.into());
        c.row(
            "listing",
            &l.sku,
            "",
            "gross_gmv_fen",
            l.gross_gmv_fen.into(),
        );
        c.rows("listing", &l.sku, "", &stock_values(&l.stock));
    }
    for l in &r.listings {
        for s in &l.sizes {
            c.rows("listing_size", &l.sku, &s.size, &stock_values(&s.stock));
        }
    }
    for l in &r.listings {
        for cell in &l.cells {
            let sub = format!("{}/{}", cell.store, cell.size);
            c.rows(
                "listing_store_size",
                &l.sku,
                &sub,
                &stock_values(&cell.stock),
            );
        }
    }
}

/// Each coupon template's redemptions and cost.
fn coupons(c: &mut Csv, r: &Report) {
    for cp in &r.coupons {
        c.row(
            "coupon",
            &cp.template,
            "",
            "redemptions",
            cp.redemptions.into(),
        );
        c.row("coupon", &cp.template, "", "cost_fen", cp.cost_fen.into());
    }
}

/// Group buys by outcome.
fn groups(c: &mut Csv, r: &Report) {
    let g = &r.groups;
    c.rows(
        "groups",
        "",
        "",
        &[
            ("opened", g.opened.into()),
            ("formed", g.formed.into()),
            ("failed", g.failed.into()),
            ("store_completed", g.store_completed.into()),
            ("open", g.open.into()),
            ("formed_cost_fen", g.formed_cost_fen.into()),
            (
                "store_completed_cost_fen",
                g.store_completed_cost_fen.into(),
            ),
        ],
    );
}

/// Refunds by reason, decisions and what was paid back.
fn refunds(c: &mut Csv, r: &Report) {
    let f = &r.refunds;
    for line in &f.by_reason {
        c.row(
            "refund_reason",
            &line.reason,
            "",
            "count",
            line.count.into(),
        );
        c.row(
            "refund_reason",
            &line.reason,
            "",
            "amount_fen",
            line.amount_fen.into(),
        );
    }
    c.rows(
        "refunds",
        "",
        "",
        &[
            ("requested", f.requested.into()),
            ("approved_by_rule", f.approved_by_rule.into()),
            ("approved_by_person", f.approved_by_person.into()),
            ("rejected", f.rejected.into()),
            ("pending_review", f.pending_review.into()),
            ("automatic_approval_bp", f.automatic_approval_bp.into()),
        ],
    );
    c.row_opt(
        "refunds",
        "",
        "",
        "decision_p50_seconds",
        f.decision_p50_seconds.map(i128::from),
    );
    c.row_opt(
        "refunds",
        "",
        "",
        "decision_p95_seconds",
        f.decision_p95_seconds.map(i128::from),
    );
    c.row("refunds", "", "", "paid_back_fen", f.paid_back_fen.into());
}

/// The guides' and stores' boards.
fn boards(c: &mut Csv, r: &Report) {
    for b in &r.guides {
        // The guide's store as subkey, so a sheet can pivot guides by store.
        c.rows(
            "guide",
            &b.id,
            b.store.as_deref().unwrap_or(""),
            &board_values(b),
        );
    }
    for b in &r.store_board {
        c.rows("store_board", &b.id, "", &board_values(b));
    }
}

/// The orders that needed a person.
fn attention(c: &mut Csv, r: &Report) {
    for a in &r.attention {
        // The reason as metric, 1 while a person still has to act, 0 once resolved.
        c.row(
            "attention",
            a.order.as_str(),
            "",
            &a.reason,
            i128::from(a.open),
        );
    }
}

/// What is still open.
fn open(c: &mut Csv, r: &Report) {
    let o = &r.open;
    c.rows(
        "open",
        "",
        "",
        &[
            ("unpaid_orders", o.unpaid_orders.into()),
            ("undelivered_orders", o.undelivered_orders.into()),
            ("refunds_pending_review", o.refunds_pending_review.into()),
            ("refunds_unpaid", o.refunds_unpaid.into()),
            ("returns_in_transit", o.returns_in_transit.into()),
            ("open_groups", o.open_groups.into()),
            ("commission_pending_fen", o.commission_pending_fen.into()),
        ],
    );
    c.row_opt(
        "open",
        "",
        "",
        "last_window_closes_at_unix_s",
        o.last_window_closes_at.map(|t| t.timestamp().into()),
    );
}
