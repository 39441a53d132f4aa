//! Which stores dispatch a paid order: decided per order, from what each store holds.
//!
//! Stock shards pool every store's units, so an order can be sold that no single store
//! can cover. The rule, in order of preference:
//!
//! 1. one parcel from one store that covers every unit: the guide's store if it can,
//!    else the one holding the most of what was ordered (it has the most to clear),
//!    then the earliest in the campaign's store list (the operator's ranking);
//! 2. otherwise parcels, chosen greedily: each time the guide's store if it holds any
//!    of what is left, else the store covering the most of what is left (ties to the
//!    better ranked), until everything is covered: a line may be split across stores;
//! 3. what no store holds is a [`Shortfall`]: the order is held for a person, never
//!    left to retry forever.

use std::collections::BTreeMap;

use super::ids::{Size, Sku, StoreId};
use super::order::{Order, ParcelItem};

/// Units each store still holds, per SKU and size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings(pub BTreeMap<StoreId, BTreeMap<(Sku, Size), u32>>);

impl Holdings {
    pub fn add(&mut self, store: StoreId, sku: Sku, size: Size, units: u32) {
        *self
            .0
            .entry(store)
            .or_default()
            .entry((sku, size))
            .or_default() += units;
    }

    fn held(&self, store: &StoreId, sku: &Sku, size: &Size) -> u32 {
        self.0
            .get(store)
            .and_then(|m| m.get(&(sku.clone(), size.clone())))
            .copied()
            .unwrap_or(0)
    }
}

/// Units of an order that no store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall(pub Vec<(Sku, Size, u32)>);

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(sku, size, n)| format!("{sku} size {size}: {n} unit(s) held by no store"))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// One store's parcel.
pub type ParcelPlan = (StoreId, Vec<ParcelItem>);

/// The buyer's chosen pickup store, when it holds every unit: one parcel there. When
/// it does not, why (for the order's history), and the usual rule decides.
pub fn chosen_store(order: &Order, holdings: &Holdings) -> Option<Result<Vec<ParcelPlan>, String>> {
    let store = order.delivery.store.as_ref()?;
    let short: Vec<String> = order
        .lines
        .iter()
        .filter(|l| holdings.held(store, &l.priced.sku, &l.priced.size) < l.priced.quantity)
        .map(|l| format!("{} size {}", l.priced.sku, l.priced.size))
        .collect();
    if !short.is_empty() {
        return Some(Err(format!(
            "the chosen store {store} does not hold {}: dispatched by the usual rule",
            short.join(", ")
        )));
    }
    let items = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| ParcelItem {
            line: i,
            sku: l.priced.sku.clone(),
            size: l.priced.size.clone(),
            quantity: l.priced.quantity,
            returned: 0,
        })
        .collect();
    Some(Ok(vec![(store.clone(), items)]))
}

/// The parcels that dispatch `order`, or what no store can cover.
/// `preferred` is the guide's store; `ranking` the campaign's stores in the operator's
/// order (stores not in it rank last, by id).
pub fn plan_parcels(
    order: &Order,
    holdings: &Holdings,
    preferred: Option<&StoreId>,
    ranking: &[StoreId],
) -> Result<Vec<ParcelPlan>, Shortfall> {
    // What is still to place, per order line.
    let mut need: Vec<u32> = order.lines.iter().map(|l| l.priced.quantity).collect();
    let rank = |s: &StoreId| ranking.iter().position(|r| r == s).unwrap_or(usize::MAX);
    let stock_of_order = |s: &StoreId| -> u32 {
        order
            .lines
            .iter()
            .map(|l| holdings.held(s, &l.priced.sku, &l.priced.size))
            .sum()
    };
    let mut candidates: Vec<&StoreId> = holdings.0.keys().collect();
    // Best first: the guide's store, the most stock of these items, the operator's
    // ranking, the id.
    candidates.sort_by_key(|s| {
        (
            Some(*s) != preferred,
            std::cmp::Reverse(stock_of_order(s)),
            rank(s),
            (*s).clone(),
        )
    });

    let covers = |s: &StoreId, need: &[u32]| -> u32 {
        order
            .lines
            .iter()
            .zip(need)
            .map(|(l, n)| (*n).min(holdings.held(s, &l.priced.sku, &l.priced.size)))
            .sum()
    };
    let total: u32 = need.iter().sum();

    let mut parcels: Vec<ParcelPlan> = Vec::new();
    // One store for everything, if any can.
    let whole = candidates
        .iter()
        .find(|s| covers(s, &need) == total)
        .copied();
    let mut order_of_choice: Vec<&StoreId> = match whole {
        Some(s) => vec![s],
        None => Vec::new(),
    };
    if whole.is_none() {
        // Greedy split: the guide's store first if it helps, then the biggest cover.
        let mut left = candidates.clone();
        let mut pending = need.clone();
        while pending.iter().any(|n| *n > 0) {
            let pick = left
                .iter()
                .enumerate()
                .filter(|(_, s)| covers(s, &pending) > 0)
                .max_by_key(|(i, s)| {
                    (
                        Some(**s) == preferred,
                        covers(s, &pending),
                        std::cmp::Reverse(*i),
                    )
                })
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            let s = left.remove(i);
            for (l, n) in order.lines.iter().zip(pending.iter_mut()) {
                *n -= (*n).min(holdings.held(s, &l.priced.sku, &l.priced.size));
            }
            order_of_choice.push(s);
        }
    }
    for s in order_of_choice {
        let mut items = Vec::new();
        for (i, (l, n)) in order.lines.iter().zip(need.iter_mut()).enumerate() {
            let take = (*n).min(holdings.held(s, &l.priced.sku, &l.priced.size));
            if take > 0 {
                *n -= take;
                items.push(ParcelItem {
                    line: i,
                    sku: l.priced.sku.clone(),
                    size: l.priced.size.clone(),
                    quantity: take,
                    returned: 0,
                });
            }
        }
        if !items.is_empty() {
            parcels.push((s.clone(), items));
        }
    }
    let missing: Vec<(Sku, Size, u32)> = order
        .lines
        .iter()
        .zip(&need)
        .filter(|(_, n)| **n > 0)
        .map(|(l, n)| (l.priced.sku.clone(), l.priced.size.clone(), *n))
        .collect();
    if missing.is_empty() {
        Ok(parcels)
    } else {
        Err(Shortfall(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CampaignId, OrderId, UserId};
    use crate::domain::money::Fen;
    use crate::domain::order::{Delivery, DeliveryMode, OrderLine, OrderStatus};
    use crate::domain::pricing::PricedLine;
    use crate::domain::tenancy::Tenant;
    use chrono::Utc;

    fn st(s: &str) -> StoreId {
        StoreId::parse(s).unwrap()
    }

    /// An order of (sku, size, quantity) lines.
    fn order(lines: &[(&str, &str, u32)]) -> Order {
        let now = Utc::now();
        Order {
            id: OrderId::generate(now),
            tenant: Tenant::parse("demo", "x").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            buyer: UserId::parse("b").unwrap(),
            lines: lines
                .iter()
                .map(|(sku, size, q)| OrderLine {
                    priced: PricedLine {
                        sku: Sku::parse(sku).unwrap(),
                        size: Size::parse(size).unwrap(),
                        quantity: *q,
                        unit_price_fen: Fen::ZERO,
                        slot: None,
                        subtotal_fen: Fen::ZERO,
                        discount_fen: Fen::ZERO,
                        paid_fen: Fen::ZERO,
                        category: None,
                    },
                    shards: vec![],
                    final_sale: false,
                })
                .collect(),
            subtotal_fen: Fen::ZERO,
            discount_fen: Fen::ZERO,
            total_fen: Fen::ZERO,
            coupons: vec![],
            delivery: Delivery {
                store: None,
                mode: DeliveryMode::Pickup,
                address: None,
                phone: None,
                location: None,
            },
            guide: None,
            guide_store: None,
            attribution: None,
            status: OrderStatus::Paid,
            history: vec![],
            payment_deadline: now,
            payment_ref: None,
            parcels: vec![],
            attention: None,
            returned: vec![],
            refunded_fen: Fen::ZERO,
            refunded_lines: vec![],
            refund_requests: 0,
            group: None,
            first_in_tenant: false,
            returns_policy: Default::default(),
            created_at: now,
            version: 1,
        }
    }

    fn holdings(rows: &[(&str, &str, &str, u32)]) -> Holdings {
        let mut h = Holdings::default();
        for (store, sku, size, n) in rows {
            h.add(
                st(store),
                Sku::parse(sku).unwrap(),
                Size::parse(size).unwrap(),
                *n,
            );
        }
        h
    }

    /// (store, [(line, quantity)]) per parcel, for compact assertions.
    fn shape(p: &[ParcelPlan]) -> Vec<(String, Vec<(usize, u32)>)> {
        p.iter()
            .map(|(s, items)| {
                (
                    s.to_string(),
                    items.iter().map(|i| (i.line, i.quantity)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn one_store_covering_everything_gets_the_whole_order_guides_store_first() {
        let o = order(&[("SD-1", "35", 1), ("SD-1", "37", 1)]);
        let h = holdings(&[
            ("gz", "SD-1", "35", 1),
            ("sz", "SD-1", "35", 3),
            ("sz", "SD-1", "37", 3),
            ("fs", "SD-1", "35", 1),
            ("fs", "SD-1", "37", 1),
        ]);
        let ranking = [st("fs"), st("sz")];
        // sz covers it all and holds the most of it
        assert_eq!(
            shape(&plan_parcels(&o, &h, None, &ranking).unwrap()),
            vec![("sz".into(), vec![(0, 1), (1, 1)])]
        );
        // the guide's store wins when it covers everything too
        assert_eq!(
            shape(&plan_parcels(&o, &h, Some(&st("fs")), &ranking).unwrap()),
            vec![("fs".into(), vec![(0, 1), (1, 1)])]
        );
        // ...but not when it covers only part: the whole order still goes to one store
        assert_eq!(
            shape(&plan_parcels(&o, &h, Some(&st("gz")), &ranking).unwrap()),
            vec![("sz".into(), vec![(0, 1), (1, 1)])]
        );
    }

    #[test]
    fn among_equal_stores_the_operators_ranking_decides() {
        let o = order(&[("A", "1", 1)]);
        let h = holdings(&[("gz", "A", "1", 2), ("sz", "A", "1", 2)]);
        let p = plan_parcels(&o, &h, None, &[st("sz"), st("gz")]).unwrap();
        assert_eq!(shape(&p), vec![("sz".into(), vec![(0, 1)])]);
        let p = plan_parcels(&o, &h, None, &[]).unwrap();
        assert_eq!(shape(&p), vec![("gz".into(), vec![(0, 1)])], "then by id");
    }

    #[test]
    fn lines_no_single_store_covers_are_split_into_parcels() {
        // the demo's case: sizes 35 and 37 sit in different stores
        let o = order(&[("SD-1001", "35", 1), ("SD-1001", "37", 1)]);
        let h = holdings(&[("gz", "SD-1001", "35", 4), ("sz", "SD-1001", "37", 4)]);
        let p = plan_parcels(&o, &h, None, &[st("gz"), st("sz")]).unwrap();
        assert_eq!(
            shape(&p),
            vec![("gz".into(), vec![(0, 1)]), ("sz".into(), vec![(1, 1)])]
        );
        // one line of 2 units held 1 + 1: its units are split
        let o = order(&[("SD-1", "38", 2)]);
        let h = holdings(&[("gz", "SD-1", "38", 1), ("sz", "SD-1", "38", 1)]);
        let p = plan_parcels(&o, &h, None, &[]).unwrap();
        assert_eq!(
            shape(&p),
            vec![("gz".into(), vec![(0, 1)]), ("sz".into(), vec![(0, 1)])]
        );
    }

    #[test]
    fn the_split_prefers_the_guides_store_then_the_biggest_cover() {
        let o = order(&[("A", "1", 3), ("B", "1", 1)]);
        let h = holdings(&[
            ("gz", "A", "1", 1),
            ("sz", "A", "1", 2),
            ("sz", "B", "1", 0),
            ("fs", "B", "1", 1),
        ]);
        let p = plan_parcels(&o, &h, Some(&st("gz")), &[]).unwrap();
        assert_eq!(
            shape(&p),
            vec![
                ("gz".into(), vec![(0, 1)]),
                ("sz".into(), vec![(0, 2)]),
                ("fs".into(), vec![(1, 1)])
            ]
        );
    }

    #[test]
    fn units_no_store_holds_are_a_shortfall_naming_them() {
        let o = order(&[("A", "1", 2), ("B", "2", 1)]);
        let h = holdings(&[("gz", "A", "1", 1)]);
        let err = plan_parcels(&o, &h, None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "A size 1: 1 unit(s) held by no store; B size 2: 1 unit(s) held by no store"
        );
    }

    #[test]
    fn parcels_always_add_up_to_the_order() {
        // every line's units are placed exactly once, whatever the holdings
        for seed in 0u32..200 {
            let q = |k: u32| (seed >> k) % 4;
            let o = order(&[("A", "1", 1 + q(0)), ("B", "1", 1 + q(2))]);
            let h = holdings(&[
                ("s1", "A", "1", q(4)),
                ("s2", "A", "1", q(6)),
                ("s2", "B", "1", q(8)),
                ("s3", "B", "1", q(10) + 1),
                ("s3", "A", "1", q(12)),
            ]);
            if let Ok(p) = plan_parcels(&o, &h, Some(&st("s2")), &[]) {
                for (i, line) in o.lines.iter().enumerate() {
                    let placed: u32 = p
                        .iter()
                        .flat_map(|(_, items)| items)
                        .filter(|it| it.line == i)
                        .map(|it| it.quantity)
                        .sum();
                    assert_eq!(placed, line.priced.quantity, "seed {seed}");
                }
                for (s, items) in &p {
                    for it in items {
                        assert!(it.quantity <= h.held(s, &it.sku, &it.size), "seed {seed}");
                    }
                }
            }
        }
    }
}
