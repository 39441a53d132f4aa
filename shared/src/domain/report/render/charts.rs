//! The page's three charts, as inline SVG.

use std::cmp::Reverse;
use std::fmt::Write;

use super::super::{basis_points, Keyed, Report};
use super::format::*;

// ---------------------------------------------------------------------------------------
// Charts (inline SVG)
// ---------------------------------------------------------------------------------------

pub(super) struct Bar {
    /// The raw key (size, store id, guide id), for `data-label`.
    pub(super) key: String,
    /// What the reader sees next to the bar.
    pub(super) label: String,
    /// The raw integer (fen or basis points), for `data-value` and the bar's length.
    pub(super) value: i64,
    /// The formatted figure shown on the bar.
    pub(super) shown: String,
    /// A second, smaller line under a column (e.g. `9/15` units).
    pub(super) note: Option<String>,
}

/// `value` as a length out of `len`, `max` being full length; nothing for zero, negative
/// or an empty scale (no division by zero).
pub(super) fn scaled(value: i64, max: i64, len: i64) -> i64 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    let l = i128::from(value.min(max)) * i128::from(len) / i128::from(max);
    i64::try_from(l).unwrap_or(len)
}

pub(super) fn svg_open(out: &mut String, id: &str, title: &str, w: i64, h: i64) {
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

pub(super) fn svg_close(out: &mut String) {
    out.push_str("</svg></div>\n");
}

pub(super) fn no_data(out: &mut String, id: &str, title: &str) {
    svg_open(out, id, title, 480, 60);
    out.push_str(r#"<text class="muted" x="240" y="34" text-anchor="middle">No data</text>"#);
    svg_close(out);
}

/// Horizontal bars, one row each, scaled to the largest value.
pub(super) fn hbar_chart(out: &mut String, id: &str, title: &str, bars: &[Bar]) {
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
pub(super) fn column_chart(
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
pub(super) fn size_bars(r: &Report) -> Vec<Bar> {
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

pub(super) fn store_bars(r: &Report) -> Vec<Bar> {
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

pub(super) fn guide_bars(r: &Report) -> Vec<Bar> {
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
