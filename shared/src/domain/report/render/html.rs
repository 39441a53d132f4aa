//! The page: its tables and sections, one self-contained HTML document.

use std::fmt::Write;

use super::super::tally::NO_STORE;
use super::super::{
    BoardLine, Edition, Figures, GroupFigures, RefundFigures, Report, StockFigures,
};
use super::charts::*;
use super::format::*;
use super::style::*;

// ---------------------------------------------------------------------------------------
// HTML building blocks
// ---------------------------------------------------------------------------------------

/// One table cell: text is escaped on output, numbers carry their raw value.
pub(super) enum Cell {
    Text(String),
    /// Markup built here from escaped parts.
    Html(String),
    Num {
        shown: String,
        raw: i128,
    },
}

pub(super) fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

pub(super) fn money(fen: i64) -> Cell {
    Cell::Num {
        shown: yuan(fen),
        raw: fen.into(),
    }
}

pub(super) fn count(n: u64) -> Cell {
    Cell::Num {
        shown: thousands(n),
        raw: n.into(),
    }
}

pub(super) fn rate(bp: u32) -> Cell {
    Cell::Num {
        shown: pct(bp),
        raw: bp.into(),
    }
}

pub(super) fn seconds(s: Option<i64>) -> Cell {
    match s {
        Some(s) => Cell::Num {
            shown: duration(s),
            raw: s.into(),
        },
        None => text("—"),
    }
}

pub(super) fn code(s: &str) -> Cell {
    Cell::Html(format!("<code>{}</code>", escape(s)))
}

pub(super) fn cell(out: &mut String, tag: &str, c: &Cell) {
    let _ = match c {
        Cell::Text(s) => write!(out, "<{tag}>{}</{tag}>", escape(s)),
        Cell::Html(h) => write!(out, "<{tag}>{h}</{tag}>"),
        Cell::Num { shown, raw } => write!(
            out,
            r#"<{tag} class="n" data-value="{raw}">{}</{tag}>"#,
            escape(shown)
        ),
    };
}

/// A table in a box that scrolls sideways on a phone; `head` flags numeric columns.
pub(super) fn table(
    out: &mut String,
    label: &str,
    head: &[(&str, bool)],
    rows: &[Vec<Cell>],
    foot: Option<&[Cell]>,
) {
    let _ = write!(
        out,
        r#"<div class="scroll"><table aria-label="{}"><thead><tr>"#,
        escape(label)
    );
    for (name, numeric) in head {
        let class = if *numeric { r#" class="n""# } else { "" };
        let _ = write!(out, r#"<th scope="col"{class}>{}</th>"#, escape(name));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            cell(out, "td", c);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody>");
    if let Some(foot) = foot {
        out.push_str("<tfoot><tr>");
        for c in foot {
            cell(out, "td", c);
        }
        out.push_str("</tr></tfoot>");
    }
    out.push_str("</table></div>\n");
}

/// A two-column table of named figures.
pub(super) fn pairs(out: &mut String, label: &str, rows: Vec<(&str, Cell)>) {
    let _ = write!(
        out,
        r#"<div class="scroll"><table class="kv" aria-label="{}"><tbody>"#,
        escape(label)
    );
    for (name, c) in &rows {
        let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, escape(name));
        cell(out, "td", c);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

pub(super) fn empty(out: &mut String, message: &str) {
    let _ = writeln!(out, r#"<p class="empty">{}</p>"#, escape(message));
}

pub(super) fn section_open(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, r#"<section id="{id}"><h2>{}</h2>"#, escape(title));
}

/// One self-contained HTML page of the report: figures at the top, a section per part,
/// three inline SVG charts; nothing is fetched and no script runs.
pub fn to_html(r: &Report) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let (edition_class, edition_name, edition_note) = match r.edition {
        Edition::Interim => (
            "interim",
            "Interim",
            "figures can still change: returns, refunds or commissions are open",
        ),
        Edition::Final => ("final", "Final", "nothing is left open"),
    };
    let name = escape(&r.name);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{name} · {edition_name} clearance report</title><style>{CSS}</style></head>
<body><main class="wrap">
<header><p class="edition {edition_class}" data-edition="{edition_class}">{edition_name} report <small>— {edition_note}</small></p><h1>{name}</h1><dl class="meta">"#
    );
    let closed = r
        .closed_at
        .as_ref()
        .map_or_else(|| "not closed".to_owned(), when);
    for (k, v) in [
        ("Campaign", r.campaign.as_str().to_owned()),
        ("Tenant", r.tenant.clone()),
        ("Brand", r.brand.clone()),
        (
            "Window",
            format!("{} – {}", when(&r.starts_at), when(&r.ends_at)),
        ),
        ("Closed", closed),
        ("Generated", when(&r.generated_at)),
    ] {
        let _ = write!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n<nav>");
    let mut links = vec![
        ("stores", "Stores"),
        ("listings", "Listings"),
        ("coupons", "Coupons"),
        ("groups", "Group buys"),
        ("refunds", "Refunds"),
        ("guides", "Guides"),
        ("store-board", "Store board"),
        ("attention", "Attention"),
        ("searches", "Searches"),
        ("shipping", "Shipping"),
        ("visits", "Store visits"),
        ("assists", "Assists"),
    ];
    if r.edition == Edition::Interim {
        links.push(("open", "Still open"));
    }
    for (id, title) in links {
        let _ = write!(out, r##"<a href="#{id}">{title}</a>"##);
    }
    out.push_str("</nav></header>\n");

    headline(&mut out, r);
    stores(&mut out, r);
    listings(&mut out, r);
    coupons(&mut out, r);
    groups(&mut out, r);
    refunds(&mut out, r);
    boards(&mut out, r);
    attention(&mut out, r);
    missed_searches(&mut out, r);
    shipping(&mut out, r);
    visits(&mut out, r);
    assists(&mut out, r);
    if r.edition == Edition::Interim {
        open_work(&mut out, r);
    }
    out.push_str(
        "<footer>Money in yuan (¥), counted in fen; rates from basis points, rounded down; \
         times in UTC. Every figure's exact value is in its <code>data-value</code>.</footer>\n\
         </main></body></html>\n",
    );
    out
}

pub(super) fn headline(out: &mut String, r: &Report) {
    let t = &r.totals;
    let s = &r.stock;
    let figs: [(&str, &str, Cell, String); 10] = [
        (
            "Gross GMV",
            "gross_gmv_fen",
            money(t.gross_gmv_fen),
            "paid by counted orders".into(),
        ),
        (
            "Net GMV",
            "net_gmv_fen",
            money(t.net_gmv_fen),
            "gross less refunded".into(),
        ),
        (
            "Orders",
            "orders",
            count(t.orders),
            format!("of {} placed", thousands(r.orders_placed)),
        ),
        ("Units", "units", count(t.units), String::new()),
        ("Buyers", "buyers", count(t.buyers), String::new()),
        (
            "New buyers",
            "new_buyers",
            count(t.new_buyers),
            "brought by a guide".into(),
        ),
        (
            "Sell-through",
            "sell_through_bp",
            rate(s.sell_through_bp),
            format!(
                "{} of {} units",
                thousands(s.sold_units),
                thousands(s.stock_units)
            ),
        ),
        (
            "Refunded",
            "refunded_fen",
            money(t.refunded_fen),
            "approved refunds".into(),
        ),
        (
            "Paid back",
            "paid_back_fen",
            money(r.refunds.paid_back_fen),
            "confirmed by the provider".into(),
        ),
        (
            "Automatic approval",
            "automatic_approval_bp",
            rate(r.refunds.automatic_approval_bp),
            "of decided refunds".into(),
        ),
    ];
    out.push_str(r#"<section id="headline" aria-label="Headline figures"><div class="figs">"#);
    for (label, key, c, note) in &figs {
        let (shown, raw) = match c {
            Cell::Num { shown, raw } => (shown.as_str(), raw.to_string()),
            Cell::Text(s) | Cell::Html(s) => (s.as_str(), String::new()),
        };
        let _ = write!(
            out,
            r#"<div class="fig-box"><span class="k">{}</span><span class="v" data-figure="{key}" data-value="{raw}">{}</span>"#,
            escape(label),
            escape(shown)
        );
        if !note.is_empty() {
            let _ = write!(out, r#"<span class="note">{}</span>"#, escape(note));
        }
        out.push_str("</div>");
    }
    out.push_str("</div></section>\n");
}

pub(super) fn figure_cells(f: &Figures) -> [Cell; 7] {
    [
        count(f.orders),
        count(f.units),
        count(f.buyers),
        count(f.new_buyers),
        money(f.gross_gmv_fen),
        money(f.refunded_fen),
        money(f.net_gmv_fen),
    ]
}

pub(super) fn stock_cells(s: &StockFigures) -> [Cell; 4] {
    [
        count(s.stock_units),
        count(s.sold_units),
        count(s.leftover_units),
        rate(s.sell_through_bp),
    ]
}

pub(super) fn stores(out: &mut String, r: &Report) {
    section_open(out, "stores", "Stores");
    if r.stores.is_empty() {
        empty(out, "No store sales.");
    } else {
        let head = [
            ("Store", false),
            ("Orders", true),
            ("Units", true),
            ("Buyers", true),
            ("New buyers", true),
            ("Gross GMV", true),
            ("Refunded", true),
            ("Net GMV", true),
            ("Stock", true),
            ("Sold", true),
            ("Leftover", true),
            ("Sell-through", true),
        ];
        let rows: Vec<Vec<Cell>> = r
            .stores
            .iter()
            .map(|s| {
                let mut row = vec![if s.store == NO_STORE {
                    text("— not dispatched")
                } else {
                    code(&s.store)
                }];
                row.extend(figure_cells(&s.figures));
                row.extend(stock_cells(&StockFigures {
                    stock_units: s.stock_units,
                    sold_units: s.sold_units,
                    leftover_units: s.leftover_units,
                    sell_through_bp: s.sell_through_bp,
                }));
                row
            })
            .collect();
        let mut foot = vec![text("Campaign")];
        foot.extend(figure_cells(&r.totals));
        foot.extend(stock_cells(&r.stock));
        table(out, "Stores", &head, &rows, Some(&foot));
    }
    hbar_chart(
        out,
        "chart-gmv-by-store",
        "Net GMV by store",
        &store_bars(r),
    );
    out.push_str("</section>\n");
}

pub(super) fn listings(out: &mut String, r: &Report) {
    section_open(out, "listings", "Listings");
    column_chart(
        out,
        "chart-sell-through",
        "Sell-through by size, all listings",
        &size_bars(r),
        10_000,
        |v| pct(u32::try_from(v).unwrap_or(u32::MAX)),
    );
    if r.listings.is_empty() {
        empty(out, "No listings.");
        out.push_str("</section>\n");
        return;
    }
    let head = [
        ("SKU", false),
        ("Name", false),
        ("Units", true),
        ("Gross GMV", true),
        ("Stock", true),
        ("Sold", true),
        ("Leftover", true),
        ("Sell-through", true),
        ("By size", false),
    ];
    let rows: Vec<Vec<Cell>> = r
        .listings
        .iter()
        .map(|l| {
            let mut sizes = String::new();
            for s in &l.sizes {
                let _ = write!(
                    sizes,
                    r#"<span class="sz">{} <b>{}</b></span>"#,
                    escape(&s.size),
                    pct(s.stock.sell_through_bp)
                );
            }
            let mut row = vec![
                code(&l.sku),
                text(&l.name),
                count(l.units),
                money(l.gross_gmv_fen),
            ];
            row.extend(stock_cells(&l.stock));
            row.push(Cell::Html(sizes));
            row
        })
        .collect();
    table(out, "Listings", &head, &rows, None);

    let cells: Vec<Vec<Cell>> = r
        .listings
        .iter()
        .flat_map(|l| {
            l.cells.iter().map(move |c| {
                let mut row = vec![code(&l.sku), text(store_label(&c.store)), text(&c.size)];
                row.extend(stock_cells(&c.stock));
                row
            })
        })
        .collect();
    if !cells.is_empty() {
        let _ = write!(
            out,
            "<details><summary>By store and size ({} cells)</summary>",
            thousands(cells.len() as u64)
        );
        let head = [
            ("SKU", false),
            ("Store", false),
            ("Size", false),
            ("Stock", true),
            ("Sold", true),
            ("Leftover", true),
            ("Sell-through", true),
        ];
        table(out, "Listings by store and size", &head, &cells, None);
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

pub(super) fn coupons(out: &mut String, r: &Report) {
    section_open(out, "coupons", "Coupon cost");
    if r.coupons.is_empty() {
        empty(out, "No coupons redeemed.");
    } else {
        let head = [
            ("Template", false),
            ("Name", false),
            ("Redemptions", true),
            ("Cost", true),
        ];
        let rows: Vec<Vec<Cell>> = r
            .coupons
            .iter()
            .map(|c| {
                vec![
                    code(&c.template),
                    text(&c.name),
                    count(c.redemptions),
                    money(c.cost_fen),
                ]
            })
            .collect();
        let redemptions = r
            .coupons
            .iter()
            .map(|c| c.redemptions)
            .fold(0u64, u64::saturating_add);
        let cost = r
            .coupons
            .iter()
            .map(|c| c.cost_fen)
            .fold(0i64, i64::saturating_add);
        let foot = [text("All"), text(""), count(redemptions), money(cost)];
        table(out, "Coupon cost per template", &head, &rows, Some(&foot));
    }
    out.push_str("</section>\n");
}

pub(super) fn groups(out: &mut String, r: &Report) {
    section_open(out, "groups", "Group buys");
    let g = &r.groups;
    if *g == GroupFigures::default() {
        empty(out, "No group buys.");
    } else {
        pairs(
            out,
            "Group buys",
            vec![
                ("Opened", count(g.opened)),
                ("Formed", count(g.formed)),
                ("Failed", count(g.failed)),
                ("Completed by the store", count(g.store_completed)),
                ("Still open", count(g.open)),
                ("Cost of formed groups", money(g.formed_cost_fen)),
                (
                    "Cost of store-completed groups",
                    money(g.store_completed_cost_fen),
                ),
                (
                    "Total cost",
                    money(g.formed_cost_fen.saturating_add(g.store_completed_cost_fen)),
                ),
            ],
        );
    }
    out.push_str("</section>\n");
}

pub(super) fn refunds(out: &mut String, r: &Report) {
    section_open(out, "refunds", "Refunds");
    let f = &r.refunds;
    if *f == RefundFigures::default() {
        empty(out, "No refunds requested.");
        out.push_str("</section>\n");
        return;
    }
    pairs(
        out,
        "Refund decisions",
        vec![
            ("Requested", count(f.requested)),
            ("Approved by rule", count(f.approved_by_rule)),
            ("Approved by a person", count(f.approved_by_person)),
            ("Rejected", count(f.rejected)),
            ("Waiting for review", count(f.pending_review)),
            ("Automatic approval rate", rate(f.automatic_approval_bp)),
            (
                "Decision time, median (p50)",
                seconds(f.decision_p50_seconds),
            ),
            ("Decision time, p95", seconds(f.decision_p95_seconds)),
            ("Paid back", money(f.paid_back_fen)),
        ],
    );
    if f.by_reason.is_empty() {
        empty(out, "No refunds by reason.");
    } else {
        let head = [("Reason", false), ("Refunds", true), ("Amount", true)];
        let rows: Vec<Vec<Cell>> = f
            .by_reason
            .iter()
            .map(|l| {
                vec![
                    text(&l.reason.replace('_', " ")),
                    count(l.count),
                    money(l.amount_fen),
                ]
            })
            .collect();
        table(out, "Refunds by reason", &head, &rows, None);
    }
    out.push_str("</section>\n");
}

pub(super) fn board_table(
    out: &mut String,
    label: &str,
    first: &str,
    lines: &[&BoardLine],
    guides: bool,
) {
    let mut head = vec![("#", true), (first, false), ("Name", false)];
    if guides {
        head.push(("Store", false));
    }
    head.extend([
        ("Net GMV", true),
        ("Orders", true),
        ("Units", true),
        ("Gross GMV", true),
        ("Refunded", true),
        ("New buyers", true),
        ("Commission pending", true),
        ("Confirmed", true),
        ("Clawed back", true),
    ]);
    let rows: Vec<Vec<Cell>> = lines
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let t = &b.totals;
            let mut row = vec![
                count(i as u64 + 1),
                code(&b.id),
                text(b.name.as_deref().unwrap_or("")),
            ];
            if guides {
                row.push(text(b.store.as_deref().unwrap_or("")));
            }
            // Totals counts are signed (they are sums of signed deltas).
            let n = |v: i64| Cell::Num {
                shown: if v < 0 {
                    format!("-{}", thousands(v.unsigned_abs()))
                } else {
                    thousands(v.unsigned_abs())
                },
                raw: v.into(),
            };
            row.extend([
                money(b.net_gmv_fen),
                n(t.orders),
                n(t.units),
                money(t.gmv_fen),
                money(t.refunded_fen),
                n(t.new_buyers),
                money(t.commission_pending_fen),
                money(t.commission_confirmed_fen),
                money(t.commission_reversed_fen),
            ]);
            row
        })
        .collect();
    table(out, label, &head, &rows, None);
}

pub(super) fn boards(out: &mut String, r: &Report) {
    section_open(out, "guides", "Guide leaderboard");
    hbar_chart(
        out,
        "chart-leaderboard",
        "Net GMV of the top 10 guides",
        &guide_bars(r),
    );
    if r.guides.is_empty() {
        empty(out, "No sales credited to a guide.");
    } else {
        board_table(out, "Guide leaderboard", "Guide", &ranked(&r.guides), true);
    }
    out.push_str("</section>\n");

    section_open(out, "store-board", "Store leaderboard");
    if r.store_board.is_empty() {
        empty(out, "No sales credited to a store through its guides.");
    } else {
        board_table(
            out,
            "Store leaderboard",
            "Store",
            &ranked(&r.store_board),
            false,
        );
    }
    out.push_str("</section>\n");
}

pub(super) fn attention(out: &mut String, r: &Report) {
    section_open(out, "attention", "Orders that needed attention");
    if r.attention.is_empty() {
        empty(out, "No order needed a person.");
        out.push_str("</section>\n");
        return;
    }
    let open = r.attention.iter().filter(|a| a.open).count() as u64;
    let _ = writeln!(
        out,
        "<p>{} still waiting for a person, {} resolved.</p>",
        thousands(open),
        thousands(r.attention.len() as u64 - open)
    );
    let _ = write!(
        out,
        r#"<div class="scroll"><table aria-label="Orders that needed attention"><thead><tr><th scope="col">Order</th><th scope="col">Reason</th><th scope="col">Status</th></tr></thead><tbody>"#
    );
    for a in &r.attention {
        let (class, status) = if a.open {
            (r#" class="open""#, "Open")
        } else {
            ("", "Resolved")
        };
        let _ = write!(
            out,
            "<tr{class}><td><code>{}</code></td><td>{}</td><td>{status}</td></tr>",
            escape(a.order.as_str()),
            escape(&a.reason.replace('_', " "))
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// What buyers asked for and did not find: the catalogue's gaps, in their words.
pub(super) fn missed_searches(out: &mut String, r: &Report) {
    section_open(out, "searches", "Searches that found nothing");
    if r.missed_searches.is_empty() {
        empty(out, "Every search found something.");
    } else {
        let rows: Vec<Vec<Cell>> = r
            .missed_searches
            .iter()
            .map(|m| vec![text(&m.query), count(m.count.max(0) as u64)])
            .collect();
        table(
            out,
            "Searches that found nothing",
            &[("Query", false), ("Times", true)],
            &rows,
            None,
        );
    }
    out.push_str("</section>\n");
}

/// Parcels that travel, by store: how long to the courier and to the door, and what
/// went wrong.
pub(super) fn shipping(out: &mut String, r: &Report) {
    section_open(out, "shipping", "Shipping");
    if r.shipping.is_empty() {
        empty(out, "No parcel was shipped.");
    } else {
        let hours = |s: Option<i64>| match s {
            Some(s) => Cell::Num {
                shown: format!("{:.1} h", s as f64 / 3600.0),
                raw: s.into(),
            },
            None => text("—"),
        };
        let rows: Vec<Vec<Cell>> = r
            .shipping
            .iter()
            .map(|s| {
                vec![
                    text(&s.store),
                    count(s.parcels),
                    hours(s.handover_p50_seconds),
                    hours(s.handover_p95_seconds),
                    hours(s.delivery_p50_seconds),
                    hours(s.delivery_p95_seconds),
                    count(s.needed_attention),
                    count(s.lost),
                    count(s.returned_unclaimed),
                    count(s.same_city),
                    money(s.same_city_fees_fen),
                ]
            })
            .collect();
        table(
            out,
            "Shipping by store",
            &[
                ("Store", false),
                ("Parcels", true),
                ("To courier p50", true),
                ("p95", true),
                ("To the door p50", true),
                ("p95", true),
                ("Needed a person", true),
                ("Lost", true),
                ("Returned unclaimed", true),
                ("Same-city", true),
                ("Rider fees", true),
            ],
            &rows,
            None,
        );
    }
    out.push_str("</section>\n");
}

/// Pickup appointments and try-on visits, by store: who came, and what the visits sold.
pub(super) fn visits(out: &mut String, r: &Report) {
    section_open(out, "visits", "Store visits");
    if r.visits.is_empty() {
        empty(out, "No pickup appointment or try-on visit.");
    } else {
        let rows: Vec<Vec<Cell>> = r
            .visits
            .iter()
            .map(|v| {
                vec![
                    text(&v.store),
                    count(v.pickup_bookings),
                    count(v.pickup_no_shows),
                    count(v.visits),
                    count(v.visits_cancelled),
                    count(v.visit_no_shows),
                    count(v.check_ins),
                    count(v.converted),
                    rate(v.conversion_bp),
                ]
            })
            .collect();
        table(
            out,
            "Pickup appointments and try-on visits by store",
            &[
                ("Store", false),
                ("Pickup bookings", true),
                ("No-shows", true),
                ("Try-on visits", true),
                ("Cancelled", true),
                ("No-shows", true),
                ("Checked in", true),
                ("Ended in an order", true),
                ("Conversion", true),
            ],
            &rows,
            None,
        );
    }
    out.push_str(
        "</section>
",
    );
}

/// Invite friends to assist: each offer's assists, packs and what they cost.
pub(super) fn assists(out: &mut String, r: &Report) {
    section_open(out, "assists", "Assists");
    if r.assists.is_empty() {
        empty(out, "No assist offer.");
    } else {
        let rows: Vec<Vec<Cell>> = r
            .assists
            .iter()
            .map(|a| {
                let guides = a
                    .by_guide
                    .iter()
                    .map(|g| format!("{} {}", g.guide, g.started))
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![
                    text(&a.name),
                    count(a.started),
                    count(a.completed),
                    count(a.expired),
                    count(a.packs_granted),
                    count(a.budget),
                    count(a.recruited),
                    count(a.pack_coupons_redeemed),
                    money(a.pack_coupons_cost_fen),
                    text(&guides),
                ]
            })
            .collect();
        table(
            out,
            "Assists by offer",
            &[
                ("Offer", false),
                ("Started", true),
                ("Completed", true),
                ("Expired", true),
                ("Packs", true),
                ("Budget", true),
                ("New to the brand", true),
                ("Pack coupons used", true),
                ("Their cost", true),
                ("Through guides", false),
            ],
            &rows,
            None,
        );
    }
    out.push_str("</section>\n");
}

pub(super) fn open_work(out: &mut String, r: &Report) {
    section_open(out, "open", "Still open");
    let o = &r.open;
    let last = match &o.last_window_closes_at {
        Some(t) => Cell::Num {
            shown: when(t),
            raw: t.timestamp().into(),
        },
        None => text("—"),
    };
    pairs(
        out,
        "Still open",
        vec![
            ("Unpaid orders", count(o.unpaid_orders)),
            ("Paid, not yet delivered", count(o.undelivered_orders)),
            (
                "Refunds waiting for review",
                count(o.refunds_pending_review),
            ),
            ("Approved refunds not yet paid", count(o.refunds_unpaid)),
            ("Returns in transit", count(o.returns_in_transit)),
            ("Open group buys", count(o.open_groups)),
            ("Commission pending", money(o.commission_pending_fen)),
            ("Last return window closes", last),
        ],
    );
    out.push_str("</section>\n");
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------
