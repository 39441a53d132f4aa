//! Numbers, money, sizes and times as people read them.

use std::cmp::{Ordering, Reverse};

use chrono::{DateTime, Utc};

use super::super::tally::NO_STORE;
use super::super::BoardLine;

// ---------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------

/// Text made safe for HTML content and quoted attributes: names come from operators.
pub(super) fn escape(s: &str) -> String {
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
pub(super) fn thousands(n: u64) -> String {
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
pub(super) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64.
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", thousands(abs / 100), abs % 100)
}

/// Basis points as a percentage with two decimals: `4523` is `45.23%`.
pub(super) fn pct(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// A duration an operator reads at a glance: `45 s`, `3 min 5 s`, `2 h 10 min`, `1 d 4 h`.
pub(super) fn duration(seconds: i64) -> String {
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
pub(super) fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// At most `max` characters, so a long name does not push a chart's bars off the side.
pub(super) fn clip(s: &str, max: usize) -> String {
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
pub(super) fn size_cmp(a: &str, b: &str) -> Ordering {
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
pub(super) fn ranked(lines: &[BoardLine]) -> Vec<&BoardLine> {
    let mut v: Vec<&BoardLine> = lines.iter().collect();
    v.sort_by_key(|b| Reverse(b.net_gmv_fen));
    v
}

pub(super) fn store_label(store: &str) -> &str {
    if store == NO_STORE {
        "not dispatched"
    } else {
        store
    }
}
