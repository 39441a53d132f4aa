//! The report as people read it: one self-contained HTML page (inline CSS and three
//! inline SVG charts, no script, nothing fetched, so it opens offline from a mail or a
//! bucket) and a CSV with one figure per row (`section,key,subkey,metric,value`).
//!
//! Both are pure functions of the [`Report`] and deterministic: the same report gives
//! the same bytes. Every figure the page shows also carries its raw integer (fen, basis
//! points, counts, seconds) in a `data-value` attribute, so a test can read it back
//! exactly instead of parsing `¥1,234.50`.

//!
//! By what it renders: [`format`] (numbers, money, sizes, times as people read them),
//! [`html`] (the page and its tables), [`charts`] (the inline SVG charts), [`style`]
//! (the page's CSS), [`csv`] (the CSV rows).

mod charts;
mod csv;
mod format;
mod html;
mod style;

pub use csv::to_csv;
pub use html::to_html;

#[cfg(test)]
mod tests;
