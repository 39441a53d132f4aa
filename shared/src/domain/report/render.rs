//! The report as people read it: one self-contained HTML page (inline CSS and three
//! inline SVG charts, no script, nothing fetched, so it opens offline from a mail or a
//! bucket) and a CSV with one figure per row (`section,key,subkey,metric,value`).
//!
//! Both are pure functions of the [`Report`] and deterministic: the same report gives
//! the same bytes. Every figure the page shows also carries its raw integer (fen, basis
//! points, counts, seconds) in a `data-value` attribute, so a test can read it back
//! exactly instead of parsing `¥1,234.50`.

use std::cmp::{Ordering, Reverse};
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::tally::NO_STORE;
use super::{
    basis_points, BoardLine, Edition, Figures, GroupFigures, Keyed, RefundFigures, Report,
    StockFigures,
};

// ---------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------

/// Text made safe for HTML content and quoted attributes: names come from operators.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Fen as yuan: `-1234` is `-¥12.34`, `123456789` is `¥1,234,567.89`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64.
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", thousands(abs / 100), abs % 100)
}

/// Basis points as a percentage with two decimals: `4523` is `45.23%`.
fn pct(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// A duration an operator reads at a glance: `45 s`, `3 min 5 s`, `2 h 10 min`, `1 d 4 h`.
fn duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let a = seconds.unsigned_abs();
    let (d, h, m, s) = (a / 86_400, a % 86_400 / 3_600, a % 3_600 / 60, a % 60);
    if d > 0 {
        format!("{sign}{d} d {h} h")
    } else if h > 0 {
        format!("{sign}{h} h {m} min")
    } else if m > 0 {
        format!("{sign}{m} min {s} s")
    } else {
        format!("{sign}{s} s")
    }
}

/// The report carries no time zone, so times are shown in UTC and say so.
fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// At most `max` characters, so a long name does not push a chart's bars off the side.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Sizes in shelf order: numbers (shoes) by value, then apparel letters from XXS up,
/// then anything else alphabetically; plain string order would put `100` before `38`
/// and `XL` before `S`.
fn size_cmp(a: &str, b: &str) -> Ordering {
    fn rank(size: &str) -> (u8, f64, usize) {
        if let Ok(n) = size.parse::<f64>() {
            if n.is_finite() {
                return (0, n, 0);
            }
        }
        const LETTERS: [&str; 10] = [
            "XXXS", "XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "XXXXL",
        ];
        let up = size.to_ascii_uppercase();
        let up = match up.as_str() {
            "3XS" => "XXXS",
            "2XS" => "XXS",
            "2XL" => "XXL",
            "3XL" => "XXXL",
            "4XL" => "XXXXL",
            other => other,
        };
        match LETTERS.iter().position(|l| *l == up) {
            Some(i) => (1, 0.0, i),
            None => (2, 0.0, 0),
        }
    }
    let (ca, na, ia) = rank(a);
    let (cb, nb, ib) = rank(b);
    ca.cmp(&cb)
        .then(na.total_cmp(&nb))
        .then(ia.cmp(&ib))
        .then_with(|| a.cmp(b))
}

/// A leaderboard by net GMV, highest first; the sort is stable, so ties keep the
/// report's order.
fn ranked(lines: &[BoardLine]) -> Vec<&BoardLine> {
    let mut v: Vec<&BoardLine> = lines.iter().collect();
    v.sort_by_key(|b| Reverse(b.net_gmv_fen));
    v
}

fn store_label(store: &str) -> &str {
    if store == NO_STORE {
        "not dispatched"
    } else {
        store
    }
}

// ---------------------------------------------------------------------------------------
// HTML building blocks
// ---------------------------------------------------------------------------------------

/// One table cell: text is escaped on output, numbers carry their raw value.
enum Cell {
    Text(String),
    /// Markup built here from escaped parts.
    Html(String),
    Num {
        shown: String,
        raw: i128,
    },
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn money(fen: i64) -> Cell {
    Cell::Num {
        shown: yuan(fen),
        raw: fen.into(),
    }
}

fn count(n: u64) -> Cell {
    Cell::Num {
        shown: thousands(n),
        raw: n.into(),
    }
}

fn rate(bp: u32) -> Cell {
    Cell::Num {
        shown: pct(bp),
        raw: bp.into(),
    }
}

fn seconds(s: Option<i64>) -> Cell {
    match s {
        Some(s) => Cell::Num {
            shown: duration(s),
            raw: s.into(),
        },
        None => text("—"),
    }
}

fn code(s: &str) -> Cell {
    Cell::Html(format!("<code>{}</code>", escape(s)))
}

fn cell(out: &mut String, tag: &str, c: &Cell) {
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
fn table(
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
fn pairs(out: &mut String, label: &str, rows: Vec<(&str, Cell)>) {
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

fn empty(out: &mut String, message: &str) {
    let _ = writeln!(out, r#"<p class="empty">{}</p>"#, escape(message));
}

fn section_open(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, r#"<section id="{id}"><h2>{}</h2>"#, escape(title));
}

// ---------------------------------------------------------------------------------------
// Charts (inline SVG)
// ---------------------------------------------------------------------------------------

struct Bar {
    /// The raw key (size, store id, guide id), for `data-label`.
    key: String,
    /// What the reader sees next to the bar.
    label: String,
    /// The raw integer (fen or basis points), for `data-value` and the bar's length.
    value: i64,
    /// The formatted figure shown on the bar.
    shown: String,
    /// A second, smaller line under a column (e.g. `9/15` units).
    note: Option<String>,
}

/// `value` as a length out of `len`, `max` being full length; nothing for zero, negative
/// or an empty scale (no division by zero).
fn scaled(value: i64, max: i64, len: i64) -> i64 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    let l = i128::from(value.min(max)) * i128::from(len) / i128::from(max);
    i64::try_from(l).unwrap_or(len)
}

fn svg_open(out: &mut String, id: &str, title: &str, w: i64, h: i64) {
    // No xmlns: inline SVG in HTML5 needs none, and the page names no URL at all. The
    // chart shows at its own size, shrinks on a narrow screen down to 70% (text stays
    // legible), and scrolls sideways below that.
    let t = escape(title);
    let _ = write!(
        out,
        r#"<div class="chart"><svg id="{id}" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" style="min-width:{min}px"><title>{t}</title>"#,
        min = w * 7 / 10
    );
}

fn svg_close(out: &mut String) {
    out.push_str("</svg></div>\n");
}

fn no_data(out: &mut String, id: &str, title: &str) {
    svg_open(out, id, title, 480, 60);
    out.push_str(r#"<text class="muted" x="240" y="34" text-anchor="middle">No data</text>"#);
    svg_close(out);
}

/// Horizontal bars, one row each, scaled to the largest value.
fn hbar_chart(out: &mut String, id: &str, title: &str, bars: &[Bar]) {
    if bars.is_empty() {
        return no_data(out, id, title);
    }
    const W: i64 = 480;
    const LABEL_W: i64 = 130;
    const AREA: i64 = 240;
    const ROW: i64 = 26;
    const BAR_H: i64 = 18;
    const PAD: i64 = 8;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0);
    let h = PAD * 2 + ROW * bars.len() as i64;
    svg_open(out, id, title, W, h);
    for (i, b) in bars.iter().enumerate() {
        let y = PAD + ROW * i as i64;
        let mid = y + ROW / 2;
        let w = scaled(b.value, max, AREA);
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{mid}" dy=".35em" text-anchor="end">{label}</text><rect class="bar" x="{LABEL_W}" y="{by}" width="{w}" height="{BAR_H}" data-label="{key}" data-value="{v}"></rect><text class="fig" x="{tx}" y="{mid}" dy=".35em">{shown}</text>"#,
            lx = LABEL_W - 8,
            label = escape(&clip(&b.label, 18)),
            by = y + (ROW - BAR_H) / 2,
            key = escape(&b.key),
            v = b.value,
            tx = LABEL_W + w + 6,
            shown = escape(&b.shown),
        );
    }
    svg_close(out);
}

/// Vertical columns scaled to the largest value or `floor`, whichever is larger (a rate
/// chart passes 100% so a size at 30% does not look sold out); a dashed line marks the
/// top of the scale, labelled by `top`.
fn column_chart(
    out: &mut String,
    id: &str,
    title: &str,
    bars: &[Bar],
    floor: i64,
    top: fn(i64) -> String,
) {
    if bars.is_empty() {
        return no_data(out, id, title);
    }
    const SIDE: i64 = 8;
    const TOP: i64 = 36;
    const PLOT: i64 = 170;
    let n = bars.len() as i64;
    // Columns fill 480 units when few, and the chart widens when many, so labels never
    // overlap.
    let slot = ((480 - SIDE * 2) / n).max(56);
    let bw = (slot - 14).min(64);
    let w = SIDE * 2 + slot * n;
    let base = TOP + PLOT;
    let h = base + 40;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(floor);
    svg_open(out, id, title, w, h);
    let _ = write!(
        out,
        r#"<line class="axis" x1="{SIDE}" y1="{base}" x2="{x2}" y2="{base}"></line>"#,
        x2 = w - SIDE
    );
    if max > 0 {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{SIDE}" y1="{TOP}" x2="{x2}" y2="{TOP}"></line><text class="muted" x="{x2}" y="{ty}" text-anchor="end">{t}</text>"#,
            x2 = w - SIDE,
            ty = TOP - 22,
            t = escape(&top(max)),
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let cx = SIDE + slot * i as i64 + slot / 2;
        let bh = scaled(b.value, max, PLOT);
        let _ = write!(
            out,
            r#"<rect class="bar" x="{x}" y="{y}" width="{bw}" height="{bh}" data-label="{key}" data-value="{v}"></rect><text class="fig" x="{cx}" y="{ty}" text-anchor="middle">{shown}</text><text x="{cx}" y="{ly}" text-anchor="middle">{label}</text>"#,
            x = cx - bw / 2,
            y = base - bh,
            key = escape(&b.key),
            v = b.value,
            ty = base - bh - 5,
            shown = escape(&b.shown),
            ly = base + 16,
            label = escape(&clip(&b.label, 8)),
        );
        if let Some(note) = &b.note {
            let _ = write!(
                out,
                r#"<text class="muted small" x="{cx}" y="{ny}" text-anchor="middle">{}</text>"#,
                escape(note),
                ny = base + 31,
            );
        }
    }
    svg_close(out);
}

/// Sell-through per size over every listing: sum sold over sum stock.
fn size_bars(r: &Report) -> Vec<Bar> {
    let mut by: Keyed<(u64, u64)> = Keyed::new();
    for l in &r.listings {
        for s in &l.sizes {
            let e = by.entry(s.size.clone()).or_default();
            e.0 = e.0.saturating_add(s.stock.sold_units);
            e.1 = e.1.saturating_add(s.stock.stock_units);
        }
    }
    let mut sizes: Vec<(String, (u64, u64))> = by.into_iter().collect();
    sizes.sort_by(|a, b| size_cmp(&a.0, &b.0));
    sizes
        .into_iter()
        .map(|(size, (sold, stock))| {
            let bp = basis_points(sold, stock);
            Bar {
                key: size.clone(),
                label: size,
                value: bp.into(),
                shown: pct(bp),
                note: Some(format!("{sold}/{stock}")),
            }
        })
        .collect()
}

fn store_bars(r: &Report) -> Vec<Bar> {
    let mut stores: Vec<_> = r.stores.iter().collect();
    stores.sort_by_key(|s| Reverse(s.figures.net_gmv_fen));
    stores
        .into_iter()
        .map(|s| Bar {
            key: s.store.clone(),
            label: store_label(&s.store).to_owned(),
            value: s.figures.net_gmv_fen,
            shown: yuan(s.figures.net_gmv_fen),
            note: None,
        })
        .collect()
}

fn guide_bars(r: &Report) -> Vec<Bar> {
    ranked(&r.guides)
        .into_iter()
        .take(10)
        .map(|g| Bar {
            key: g.id.clone(),
            label: g.name.clone().unwrap_or_else(|| g.id.clone()),
            value: g.net_gmv_fen,
            shown: yuan(g.net_gmv_fen),
            note: None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------

const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;color:#1d2329;background:#f4f5f7}\
.wrap{max-width:1100px;margin:0 auto;padding:12px}\
h1{font-size:1.5em;margin:.3em 0}\
h2{font-size:1.15em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid #d5d9de}\
nav{font-size:.9em}nav a{margin-right:.8em;color:#2f6f8f}\
.edition{display:inline-block;margin:0;padding:.25em .8em;border-radius:4px;font-weight:700;letter-spacing:.05em;text-transform:uppercase}\
.edition small{font-weight:400;text-transform:none;letter-spacing:0}\
.interim{background:#ffe8b3;color:#6b4500;border:1px solid #e0a800}\
.final{background:#d6f2dd;color:#14532d;border:1px solid #3a9d5d}\
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.6em 0}\
.meta dt{color:#5b6670}.meta dd{margin:0}\
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}\
.fig-box{background:#fff;border:1px solid #dde1e5;border-radius:6px;padding:8px 10px}\
.fig-box .k,.fig-box .note{display:block;color:#5b6670;font-size:.82em}\
.fig-box .v{display:block;font-size:1.35em;font-weight:650;font-variant-numeric:tabular-nums}\
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e5;border-radius:6px;margin:8px 0}\
table{border-collapse:collapse;width:100%;font-size:.92em}\
th,td{padding:5px 8px;border-bottom:1px solid #eceef0;text-align:left;white-space:nowrap}\
thead th{background:#f0f2f4;font-weight:600}.kv th{font-weight:400;color:#5b6670}\
.n{text-align:right;font-variant-numeric:tabular-nums}\
tfoot td{font-weight:600;border-top:2px solid #d5d9de}\
tr.open td{background:#fff4e0}\
.sz{display:inline-block;margin-right:.7em}\
.empty,.muted{color:#5b6670}.empty{font-style:italic}\
.chart{overflow-x:auto;margin:8px 0}svg{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #dde1e5;border-radius:6px}\
svg text{font-size:12px;fill:#1d2329}svg text.muted{fill:#5b6670}svg text.small{font-size:10px}svg text.fig{font-weight:600}\
.bar{fill:#2f6f8f}.axis{stroke:#9aa3ab}.grid{stroke:#c9ced3;stroke-dasharray:4 3}\
footer{margin:2em 0 1em;font-size:.82em;color:#5b6670}";

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

fn headline(out: &mut String, r: &Report) {
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

fn figure_cells(f: &Figures) -> [Cell; 7] {
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

fn stock_cells(s: &StockFigures) -> [Cell; 4] {
    [
        count(s.stock_units),
        count(s.sold_units),
        count(s.leftover_units),
        rate(s.sell_through_bp),
    ]
}

fn stores(out: &mut String, r: &Report) {
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

fn listings(out: &mut String, r: &Report) {
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

fn coupons(out: &mut String, r: &Report) {
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

fn groups(out: &mut String, r: &Report) {
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

fn refunds(out: &mut String, r: &Report) {
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

fn board_table(out: &mut String, label: &str, first: &str, lines: &[&BoardLine], guides: bool) {
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

fn boards(out: &mut String, r: &Report) {
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

fn attention(out: &mut String, r: &Report) {
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

fn open_work(out: &mut String, r: &Report) {
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

/// RFC 4180: CRLF line ends; a field with a comma, quote or line break is quoted, its
/// quotes doubled.
fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

struct Csv(String);

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

fn figure_values(f: &Figures) -> [(&'static str, i128); 7] {
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

fn stock_values(s: &StockFigures) -> [(&'static str, i128); 4] {
    [
        ("stock_units", s.stock_units.into()),
        ("sold_units", s.sold_units.into()),
        ("leftover_units", s.leftover_units.into()),
        ("sell_through_bp", s.sell_through_bp.into()),
    ]
}

fn board_values(b: &BoardLine) -> [(&'static str, i128); 9] {
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
    c.0
}

#[cfg(test)]
mod tests {
    use super::super::{
        AttentionLine, CouponLine, ListingLine, OpenWork, ReasonLine, SizeLine, StoreFigures,
        StoreStockLine,
    };
    use super::*;
    use crate::domain::attribution::Totals;
    use crate::domain::ids::{CampaignId, OrderId};
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, day, hour, 0, 0).unwrap()
    }

    fn stock(stock: u64, sold: u64) -> StockFigures {
        StockFigures {
            stock_units: stock,
            sold_units: sold,
            leftover_units: stock - sold,
            sell_through_bp: basis_points(sold, stock),
        }
    }

    fn store(id: &str, net: i64, stock_units: u64, sold: u64) -> StoreFigures {
        StoreFigures {
            store: id.into(),
            figures: Figures {
                orders: 3,
                units: sold,
                buyers: 3,
                new_buyers: 1,
                gross_gmv_fen: net + 1_000,
                refunded_fen: 1_000,
                net_gmv_fen: net,
            },
            stock_units,
            sold_units: sold,
            leftover_units: stock_units - sold,
            sell_through_bp: basis_points(sold, stock_units),
        }
    }

    fn listing(sku: &str, name: &str, sizes: &[(&str, u64, u64)]) -> ListingLine {
        let (st, so) = sizes.iter().fold((0, 0), |(a, b), s| (a + s.1, b + s.2));
        ListingLine {
            sku: sku.into(),
            name: name.into(),
            units: so,
            gross_gmv_fen: so as i64 * 9_900,
            stock: stock(st, so),
            sizes: sizes
                .iter()
                .map(|(size, st, so)| SizeLine {
                    size: (*size).into(),
                    stock: stock(*st, *so),
                })
                .collect(),
            // The whole size at the first store, for simplicity.
            cells: sizes
                .iter()
                .map(|(size, st, so)| StoreStockLine {
                    store: "sz-01".into(),
                    size: (*size).into(),
                    stock: stock(*st, *so),
                })
                .collect(),
        }
    }

    fn board(id: &str, name: Option<&str>, store: Option<&str>, net: i64) -> BoardLine {
        BoardLine {
            id: id.into(),
            name: name.map(Into::into),
            store: store.map(Into::into),
            net_gmv_fen: net,
            totals: Totals {
                orders: 2,
                units: 3,
                gmv_fen: net + 500,
                refunded_fen: 500,
                commission_pending_fen: net * 3 / 100,
                commission_confirmed_fen: 0,
                commission_reversed_fen: 0,
                new_buyers: 1,
            },
        }
    }

    /// 2 stores, 2 listings (4 sizes in all, one size shared), a coupon, groups,
    /// refunds with 2 reasons, 3 guides, 2 boarded stores, 1 attention line.
    fn sample() -> Report {
        Report {
            tenant: "demo/south-china".into(),
            brand: "demo".into(),
            campaign: CampaignId::parse("summer-clearance").unwrap(),
            name: r#"Summer <script>alert(1)</script> & "friends""#.into(),
            starts_at: at(1, 2),
            ends_at: at(8, 2),
            closed_at: None,
            edition: Edition::Interim,
            generated_at: at(9, 3),
            orders_placed: 9,
            orders_unpaid_cancelled: 2,
            totals: Figures {
                orders: 7,
                units: 15,
                buyers: 6,
                new_buyers: 2,
                gross_gmv_fen: 12_345_678,
                refunded_fen: 45_600,
                net_gmv_fen: 12_300_078,
            },
            stock: stock(29, 15),
            stores: vec![
                store("sz-01", 8_000_000, 20, 10),
                store("gz-02", 4_300_078, 9, 5),
            ],
            listings: vec![
                listing("RUN-1", "Runner, white", &[("38", 10, 4), ("39", 10, 6)]),
                listing("SANDAL-2", "Sandal", &[("38", 5, 5), ("40", 4, 0)]),
            ],
            coupons: vec![CouponLine {
                template: "welcome-20".into(),
                name: "Welcome ¥20".into(),
                redemptions: 4,
                cost_fen: 8_000,
            }],
            groups: GroupFigures {
                opened: 5,
                formed: 3,
                failed: 1,
                store_completed: 1,
                open: 0,
                formed_cost_fen: 6_000,
                store_completed_cost_fen: 1_500,
            },
            refunds: RefundFigures {
                requested: 3,
                approved_by_rule: 2,
                approved_by_person: 0,
                rejected: 1,
                pending_review: 0,
                automatic_approval_bp: 6_666,
                decision_p50_seconds: Some(90),
                decision_p95_seconds: None,
                paid_back_fen: 30_000,
                by_reason: vec![
                    ReasonLine {
                        reason: "wrong_size".into(),
                        count: 2,
                        amount_fen: 30_000,
                    },
                    ReasonLine {
                        reason: "cancellation".into(),
                        count: 1,
                        amount_fen: 15_600,
                    },
                ],
            },
            guides: vec![
                board("li-na", Some("Li Na"), Some("sz-01"), 300_000),
                board("wang-wei", Some("Wang 'Wei'"), Some("gz-02"), 512_345),
                board("zhao-yu", None, Some("sz-01"), 0),
            ],
            store_board: vec![
                board("sz-01", None, None, 300_000),
                board("gz-02", None, None, 512_345),
            ],
            attention: vec![AttentionLine {
                order: OrderId::parse("01JXAMPLE0000000000000000A").unwrap(),
                reason: r#"held, "manual" check"#.into(),
                open: true,
            }],
            open: OpenWork {
                undelivered_orders: 1,
                returns_in_transit: 1,
                commission_pending_fen: 24_370,
                last_window_closes_at: Some(at(16, 2)),
                ..OpenWork::default()
            },
        }
    }

    /// The `<svg>` element with this id.
    fn chart<'a>(html: &'a str, id: &str) -> &'a str {
        let start = html
            .find(&format!(r#"<svg id="{id}""#))
            .expect("chart present");
        let end = html[start..].find("</svg>").expect("chart closed");
        &html[start..start + end]
    }

    #[test]
    fn money_and_rates_read_like_money_and_rates() {
        assert_eq!(yuan(-1234), "-¥12.34");
        assert_eq!(yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(-5), "-¥0.05");
        assert_eq!(yuan(100_000), "¥1,000.00");
        assert_eq!(yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
        assert_eq!(pct(4523), "45.23%");
        assert_eq!(pct(5), "0.05%");
        assert_eq!(pct(10_000), "100.00%");
        assert_eq!(duration(90), "1 min 30 s");
        assert_eq!(duration(2 * 86_400 + 3_600), "2 d 1 h");
        assert_eq!(
            escape(r#"<a href='x'>"&"</a>"#),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn sizes_sort_as_on_a_shelf() {
        let mut v = vec!["XL", "38.5", "M", "100", "38", "S", "one", "2XL"];
        v.sort_by(|a, b| size_cmp(a, b));
        assert_eq!(v, ["38", "38.5", "100", "S", "M", "XL", "2XL", "one"]);
    }

    #[test]
    fn the_page_carries_its_charts_and_exact_figures() {
        let html = to_html(&sample());
        assert!(html.starts_with("<!DOCTYPE html>"));
        for id in [
            "chart-sell-through",
            "chart-gmv-by-store",
            "chart-leaderboard",
        ] {
            let svg = chart(&html, id);
            assert!(svg.contains(r#"role="img""#), "{id}");
            assert!(svg.contains("aria-label="), "{id}");
            assert!(svg.contains("<title>"), "{id}");
        }

        // Size 38 over both listings: (4 + 5) sold of (10 + 5) = 60%.
        let sizes = chart(&html, "chart-sell-through");
        assert!(sizes.contains(r#"data-label="38" data-value="6000""#));
        assert!(sizes.contains(">60.00%<"));
        assert!(sizes.contains(r#"data-label="40" data-value="0""#));
        let order: Vec<usize> = ["\"38\"", "\"39\"", "\"40\""]
            .iter()
            .map(|s| sizes.find(s).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "sizes in order");

        let stores = chart(&html, "chart-gmv-by-store");
        assert!(stores.contains(r#"data-label="gz-02" data-value="4300078""#));
        assert!(stores.contains(">¥43,000.78<"));
        // The largest bar takes the whole width, the other its share.
        assert!(stores.contains(r#"width="240" height="18" data-label="sz-01""#));

        let guides = chart(&html, "chart-leaderboard");
        assert!(guides.contains(r#"data-label="wang-wei" data-value="512345""#));
        assert!(guides.contains("Wang &#39;Wei&#39;"));
        assert!(guides.find("wang-wei").unwrap() < guides.find("li-na").unwrap());

        assert!(html.contains(r#"data-figure="gross_gmv_fen" data-value="12345678">¥123,456.78<"#));
        for f in [
            "gross_gmv_fen",
            "net_gmv_fen",
            "orders",
            "units",
            "buyers",
            "new_buyers",
            "refunded_fen",
            "sell_through_bp",
            "automatic_approval_bp",
        ] {
            assert!(
                html.contains(&format!(r#"data-figure="{f}" data-value=""#)),
                "{f}"
            );
        }
        assert!(html.contains(r#"data-figure="automatic_approval_bp" data-value="6666">66.66%<"#));

        assert!(
            html.contains("Summer &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;")
        );
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(
            html.contains(r#"id="open""#),
            "interim shows what is still open"
        );
        assert!(html.contains("Interim report"));
        assert_eq!(html, to_html(&sample()));
    }

    #[test]
    fn an_empty_final_report_renders_without_data() {
        let mut r = sample();
        r.edition = Edition::Final;
        r.stores.clear();
        r.listings.clear();
        r.coupons.clear();
        r.groups = GroupFigures::default();
        r.refunds = RefundFigures::default();
        r.guides.clear();
        r.store_board.clear();
        r.attention.clear();
        r.stock = StockFigures::default();
        let html = to_html(&r);
        assert_eq!(html.matches(">No data</text>").count(), 3);
        assert!(html.contains("No group buys."));
        assert!(html.contains("No refunds requested."));
        assert!(html.contains("Final report"));
        assert!(!html.contains(r#"id="open""#));

        // Rates of nothing and bars of zero: no division by zero.
        let mut r = sample();
        for s in &mut r.stores {
            s.figures.net_gmv_fen = 0;
        }
        for l in &mut r.listings {
            for s in &mut l.sizes {
                s.stock = StockFigures::default();
            }
        }
        let html = to_html(&r);
        assert!(chart(&html, "chart-gmv-by-store").contains(r#"width="0""#));
        assert!(chart(&html, "chart-sell-through").contains(r#"data-label="38" data-value="0""#));
    }

    #[test]
    fn the_csv_has_one_quoted_row_per_figure() {
        let csv = to_csv(&sample());
        assert!(csv.starts_with("section,key,subkey,metric,value\r\n"));
        assert!(csv.contains("totals,summer-clearance,,gross_gmv_fen,12345678\r\n"));
        assert!(csv.contains("store,gz-02,,net_gmv_fen,4300078\r\n"));
        assert!(csv.contains("listing_size,RUN-1,39,sell_through_bp,6000\r\n"));
        assert!(csv.contains("listing_store_size,SANDAL-2,sz-01/40,stock_units,4\r\n"));
        assert!(csv.contains("refunds,,,decision_p95_seconds,\r\n"));
        assert!(csv.contains("guide,wang-wei,gz-02,net_gmv_fen,512345\r\n"));
        // A field with a comma and quotes is quoted, its quotes doubled.
        assert!(csv.contains(
            "attention,01JXAMPLE0000000000000000A,,\"held, \"\"manual\"\" check\",1\r\n"
        ));
        let mut f = String::new();
        csv_field(&mut f, "a,\"b\"");
        assert_eq!(f, "\"a,\"\"b\"\"\"");

        let expected = 1 // header
            + 3 + 7 + 4 // totals
            + 2 * 11 // stores
            + 2 * 6 // listings
            + 4 * 4 // listing sizes
            + 4 * 4 // listing cells
            + 2 // coupon
            + 7 // groups
            + 2 * 2 // refund reasons
            + 9 // refunds
            + 3 * 9 // guides
            + 2 * 9 // store board
            + 1 // attention
            + 8; // open
        assert_eq!(csv.lines().count(), expected);
        assert!(csv.lines().all(|l| !l.ends_with('\r')));
        assert_eq!(csv, to_csv(&sample()));
    }
}
