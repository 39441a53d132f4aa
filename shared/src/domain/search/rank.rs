//! The listings a parsed query finds, best first: price, size (in stock unless asked
//! otherwise) and category narrow; then exact tag and category matches rank first,
//! then name matches of the words left over, in-stock first, cheapest first.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::query::{Parsed, Term};
use super::text::normalize;
use super::vocabulary::colour_base;
use crate::domain::catalog::Listing;
use crate::domain::ids::Size;

/// A listing as search sees it: its stock per size, its price now, and its name and
/// colour as queries are compared (normalized once per catalogue, not per search).
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub listing: &'a Listing,
    pub units: &'a BTreeMap<Size, u32>,
    pub price_fen: i64,
    pub name: &'a str,
    pub colour: &'a str,
}

impl<'a> Item<'a> {
    /// The name and colour as search compares them: what a catalogue keeps per listing.
    pub fn keys(listing: &Listing) -> (String, String) {
        (
            normalize(&listing.name),
            listing
                .attributes
                .colour
                .as_deref()
                .map(colour_base)
                .unwrap_or_default(),
        )
    }
}

/// Indices of the items found, best first, and the words that matched no name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranked {
    pub found: Vec<usize>,
    pub ignored: Vec<String>,
}

fn term_holds(term: &Term, item: &Item<'_>) -> bool {
    let a = &item.listing.attributes;
    match term {
        Term::Tag(t) => a.tags.iter().any(|x| x == t),
        Term::Colour(c) => item.colour == c,
        Term::Material(m) => a.material.as_deref() == Some(m.as_str()),
        Term::Heel(lo, hi) => a.heel_mm.is_some_and(|h| (*lo..=*hi).contains(&h)),
    }
}

/// Ranks `items` for `q`; `sizes` are the sizes wanted (the query's, or the member's own
/// for "my size").
pub fn rank(q: &Parsed, sizes: &[Size], items: &[Item<'_>]) -> Ranked {
    let (known, ignored): (Vec<&String>, Vec<&String>) = q
        .words
        .iter()
        .partition(|w| items.iter().any(|i| i.name.contains(w.as_str())));
    let ignored: Vec<String> = ignored.into_iter().cloned().collect();
    // words only, none understood (`靴子` in a shop without boots): nothing was found,
    // rather than everything
    if q.chips.is_empty() && !q.words.is_empty() && known.is_empty() {
        return Ranked {
            found: Vec::new(),
            ignored,
        };
    }
    let narrows = !q.categories.is_empty() || !q.terms.is_empty() || !known.is_empty();
    let mut scored = Vec::new();
    for (idx, item) in items.iter().enumerate() {
        let l = item.listing;
        if q.price.is_some_and(|p| !p.holds(item.price_fen)) {
            continue;
        }
        let in_category = q.categories.contains(&l.category);
        if !q.categories.is_empty() && !in_category {
            continue;
        }
        let has = |s: &Size| item.units.get(s).copied().unwrap_or(0) > 0;
        let in_stock = if sizes.is_empty() {
            l.sizes.iter().any(has)
        } else {
            if !l.sizes.iter().any(|s| sizes.contains(s)) {
                continue;
            }
            sizes.iter().any(has)
        };
        if !in_stock && !q.include_sold_out {
            continue;
        }
        let exact =
            usize::from(in_category) + q.terms.iter().filter(|t| term_holds(t, item)).count();
        let by_name = known
            .iter()
            .filter(|w| item.name.contains(w.as_str()))
            .count();
        if narrows && exact == 0 && by_name == 0 {
            continue;
        }
        scored.push((
            (
                Reverse(exact),
                Reverse(by_name),
                Reverse(in_stock),
                item.price_fen,
            ),
            idx,
        ));
    }
    // ties keep the catalogue's order (by SKU)
    scored.sort_by_key(|(key, idx)| (*key, *idx));
    Ranked {
        found: scored.into_iter().map(|(_, i)| i).collect(),
        ignored,
    }
}
