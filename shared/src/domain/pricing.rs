//! Pricing a cart: slot prices, coupons, the campaign's discount cap, and the allocation
//! of the discount over the lines so that the lines always sum to the amount paid.
//!
//! Pure and exhaustive: the property tests below check that totals are never negative,
//! allocations always sum to the discount, and the best coupon choice is never worse
//! than any other permitted choice.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{CategoryId, CouponTemplateId, Size, Sku, SlotId};
use super::money::Fen;
use super::DomainError;

/// A coupon the buyer holds, as pricing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCoupon {
    /// The buyer's coupon (an instance of a template).
    pub id: String,
    pub template: CouponTemplateId,
    pub off: Fen,
    /// 0 for no threshold.
    pub min_spend: Fen,
}

/// The campaign's coupon rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponRules {
    /// How many coupons one order may use (1 = no stacking).
    pub max_per_order: u8,
    /// No order gets more than this off in coupons, whatever it holds.
    pub max_discount_fen: Option<Fen>,
}

impl Default for CouponRules {
    fn default() -> Self {
        CouponRules {
            max_per_order: 1,
            max_discount_fen: None,
        }
    }
}

/// Why a chosen set of coupons cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponRefusal {
    TooMany,
    SameTemplateTwice,
    BelowThreshold(String),
}

/// The discount a set of coupons gives on `subtotal`, or why it cannot be used.
pub fn coupons_discount(
    subtotal: Fen,
    chosen: &[&HeldCoupon],
    rules: CouponRules,
) -> Result<Fen, CouponRefusal> {
    if chosen.len() > usize::from(rules.max_per_order) {
        return Err(CouponRefusal::TooMany);
    }
    for (i, c) in chosen.iter().enumerate() {
        if chosen[..i].iter().any(|o| o.template == c.template) {
            return Err(CouponRefusal::SameTemplateTwice);
        }
        if subtotal < c.min_spend {
            return Err(CouponRefusal::BelowThreshold(c.id.clone()));
        }
    }
    let sum: i64 = chosen.iter().map(|c| c.off.get()).sum();
    let mut d = sum.min(subtotal.get());
    if let Some(cap) = rules.max_discount_fen {
        d = d.min(cap.get());
    }
    Ok(Fen::new(d).unwrap_or(Fen::ZERO))
}

/// The best permitted set of held coupons for `subtotal`: the largest discount, and
/// among equals the fewest coupons (so the buyer keeps the rest). Held lists are small
/// (a few per campaign), so every combination is tried.
pub fn best_coupons(subtotal: Fen, held: &[HeldCoupon], rules: CouponRules) -> (Vec<usize>, Fen) {
    let mut best: (Vec<usize>, Fen) = (Vec::new(), Fen::ZERO);
    let n = held.len().min(16);
    let max = usize::from(rules.max_per_order);
    for mask in 1u32..(1 << n) {
        if mask.count_ones() as usize > max {
            continue;
        }
        let idx: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        let chosen: Vec<&HeldCoupon> = idx.iter().map(|&i| &held[i]).collect();
        if let Ok(d) = coupons_discount(subtotal, &chosen, rules) {
            if d > best.1 || (d == best.1 && d > Fen::ZERO && idx.len() < best.0.len()) {
                best = (idx, d);
            }
        }
    }
    best
}

/// Splits `total` over `weights` in proportion (largest remainder): the parts always
/// sum to `total` and no part exceeds its weight when `total <= sum(weights)`.
pub fn allocate(total: Fen, weights: &[Fen]) -> Vec<Fen> {
    let sum: i128 = weights.iter().map(|w| i128::from(w.get())).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum == 0 {
        // Nothing to weigh by: everything on the first line (only reachable with total 0).
        let mut parts = vec![Fen::ZERO; weights.len()];
        parts[0] = total;
        return parts;
    }
    let t = i128::from(total.get());
    let mut parts: Vec<i128> = weights
        .iter()
        .map(|w| t * i128::from(w.get()) / sum)
        .collect();
    let mut remainders: Vec<(i128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| ((t * i128::from(w.get())) % sum, i))
        .collect();
    // Largest remainder first; ties to the earlier line, so the result is deterministic.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = t - parts.iter().sum::<i128>();
    for (_, i) in remainders.into_iter().take(left as usize) {
        parts[i] += 1;
    }
    parts
        .into_iter()
        .map(|p| Fen::new(p as i64).unwrap_or(Fen::ZERO))
        .collect()
}

/// One line as priced: what it costs, its share of the discount, what is paid for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PricedLine {
    pub sku: Sku,
    pub size: Size,
    pub quantity: u32,
    pub unit_price_fen: Fen,
    /// The slot whose price applied, if any.
    pub slot: Option<SlotId>,
    pub subtotal_fen: Fen,
    pub discount_fen: Fen,
    pub paid_fen: Fen,
    /// The listing's category when it was bought (what size advice groups by).
    #[serde(default)]
    pub category: Option<CategoryId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    pub subtotal_fen: Fen,
    pub discount_fen: Fen,
    pub total_fen: Fen,
    /// The buyer's coupons used.
    pub coupons: Vec<String>,
}

/// A line before pricing: its unit price already chosen (slot or clearance price).
#[derive(Debug, Clone)]
pub struct LineToPrice {
    pub sku: Sku,
    pub size: Size,
    pub quantity: u32,
    pub unit_price: Fen,
    pub slot: Option<SlotId>,
    pub category: Option<CategoryId>,
}

/// Prices lines with the given coupons (already chosen and checked).
pub fn price(
    lines: Vec<LineToPrice>,
    coupons: &[&HeldCoupon],
    rules: CouponRules,
) -> Result<PricedCart, DomainError> {
    let mut subtotals = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let s = l.unit_price.checked_mul(l.quantity).ok_or_else(|| {
            DomainError::invalid(format!("lines[{i}].quantity"), "order too large")
        })?;
        subtotals.push(s);
    }
    let subtotal = subtotals
        .iter()
        .try_fold(Fen::ZERO, |acc, s| acc.checked_add(*s))
        .ok_or_else(|| DomainError::invalid("lines", "order too large"))?;
    let discount = coupons_discount(subtotal, coupons, rules).map_err(|r| match r {
        CouponRefusal::TooMany => {
            DomainError::conflict("coupon-not-applicable", "too many coupons for one order")
        }
        CouponRefusal::SameTemplateTwice => DomainError::conflict(
            "coupon-not-applicable",
            "two coupons of the same kind cannot be combined",
        ),
        CouponRefusal::BelowThreshold(id) => DomainError::conflict(
            "coupon-not-applicable",
            format!("coupon {id} needs a larger order"),
        ),
    })?;
    let shares = allocate(discount, &subtotals);
    let priced: Vec<PricedLine> = lines
        .into_iter()
        .zip(subtotals.iter().zip(shares))
        .map(|(l, (&sub, share))| PricedLine {
            sku: l.sku,
            size: l.size,
            quantity: l.quantity,
            unit_price_fen: l.unit_price,
            slot: l.slot,
            category: l.category,
            subtotal_fen: sub,
            discount_fen: share,
            paid_fen: sub.saturating_sub(share),
        })
        .collect();
    Ok(PricedCart {
        lines: priced,
        subtotal_fen: subtotal,
        discount_fen: discount,
        total_fen: subtotal.saturating_sub(discount),
        coupons: coupons.iter().map(|c| c.id.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    fn coupon(id: &str, off: i64, min: i64) -> HeldCoupon {
        HeldCoupon {
            id: id.into(),
            template: CouponTemplateId::parse(id).unwrap(),
            off: fen(off),
            min_spend: fen(min),
        }
    }

    fn demo_tiers() -> Vec<HeldCoupon> {
        vec![
            coupon("c20", 2_000, 0),
            coupon("c50", 5_000, 50_000),
            coupon("c100", 10_000, 88_800),
        ]
    }

    #[test]
    fn the_best_tier_is_the_one_the_cart_reaches() {
        let rules = CouponRules::default();
        assert_eq!(
            best_coupons(fen(30_000), &demo_tiers(), rules),
            (vec![0], fen(2_000))
        );
        assert_eq!(
            best_coupons(fen(50_000), &demo_tiers(), rules),
            (vec![1], fen(5_000))
        );
        assert_eq!(
            best_coupons(fen(88_799), &demo_tiers(), rules),
            (vec![1], fen(5_000))
        );
        assert_eq!(
            best_coupons(fen(88_800), &demo_tiers(), rules),
            (vec![2], fen(10_000))
        );
        // stacking two: each threshold is met by the cart, so the two largest
        let stack = CouponRules {
            max_per_order: 2,
            max_discount_fen: None,
        };
        assert_eq!(
            best_coupons(fen(90_000), &demo_tiers(), stack),
            (vec![1, 2], fen(15_000))
        );
        // the campaign cap wins over any coupon
        let capped = CouponRules {
            max_per_order: 2,
            max_discount_fen: Some(fen(6_000)),
        };
        assert_eq!(
            best_coupons(fen(90_000), &demo_tiers(), capped).1,
            fen(6_000)
        );
    }

    #[test]
    fn a_no_threshold_coupon_never_takes_more_than_the_cart() {
        let d = coupons_discount(
            fen(1_500),
            &[&coupon("c20", 2_000, 0)],
            CouponRules::default(),
        )
        .unwrap();
        assert_eq!(d, fen(1_500));
    }

    #[test]
    fn an_unreached_threshold_is_refused() {
        let c = coupon("c50", 5_000, 50_000);
        assert_eq!(
            coupons_discount(fen(49_999), &[&c], CouponRules::default()),
            Err(CouponRefusal::BelowThreshold("c50".into()))
        );
    }

    #[test]
    fn allocation_is_exact_to_the_fen() {
        // 20.00 off three lines of 99.00, 99.00 and 1.00: parts sum to exactly 20.00
        let parts = allocate(fen(2_000), &[fen(9_900), fen(9_900), fen(100)]);
        assert_eq!(parts.iter().map(|p| p.get()).sum::<i64>(), 2_000);
        assert_eq!(parts, vec![fen(995), fen(995), fen(10)]);
        let parts = allocate(fen(1), &[fen(1), fen(1), fen(1)]);
        assert_eq!(parts, vec![fen(1), fen(0), fen(0)]);
    }

    #[test]
    fn a_priced_cart_sums_line_by_line_to_the_total() {
        let l = |sku: &str, q: u32, p: i64| LineToPrice {
            sku: Sku::parse(sku).unwrap(),
            size: Size::parse("38").unwrap(),
            quantity: q,
            unit_price: fen(p),
            slot: None,
            category: None,
        };
        let tiers = demo_tiers();
        let cart = price(
            vec![l("A", 2, 29_900), l("B", 1, 33_333)],
            &[&tiers[1]],
            CouponRules::default(),
        )
        .unwrap();
        assert_eq!(cart.subtotal_fen, fen(93_133));
        assert_eq!(cart.discount_fen, fen(5_000));
        assert_eq!(cart.total_fen, fen(88_133));
        assert_eq!(
            cart.lines.iter().map(|l| l.paid_fen.get()).sum::<i64>(),
            88_133
        );
        assert_eq!(
            cart.lines.iter().map(|l| l.discount_fen.get()).sum::<i64>(),
            5_000
        );
    }

    proptest! {
        #[test]
        fn allocations_always_sum_to_the_discount_and_never_exceed_a_line(
            weights in proptest::collection::vec(0i64..5_000_000, 1..12),
            frac in 0u32..=1000,
        ) {
            let weights: Vec<Fen> = weights.into_iter().map(fen).collect();
            let sum: i64 = weights.iter().map(|w| w.get()).sum();
            let total = fen(sum * i64::from(frac) / 1000);
            let parts = allocate(total, &weights);
            prop_assert_eq!(parts.iter().map(|p| p.get()).sum::<i64>(), total.get());
            if sum > 0 {
                for (p, w) in parts.iter().zip(&weights) {
                    prop_assert!(p <= w);
                }
            }
        }

        #[test]
        fn totals_are_never_negative_and_lines_sum_to_the_total(
            prices in proptest::collection::vec((1i64..2_000_000, 1u32..5), 1..6),
            offs in proptest::collection::vec((1i64..200_000, 0i64..1_000_000), 0..5),
            max in 1u8..3,
            cap in proptest::option::of(0i64..100_000),
        ) {
            let rules = CouponRules { max_per_order: max, max_discount_fen: cap.map(fen) };
            let held: Vec<HeldCoupon> = offs.iter().enumerate()
                .map(|(i, (off, min))| coupon(&format!("c{i}"), *off, *min)).collect();
            let lines: Vec<LineToPrice> = prices.iter().enumerate().map(|(i, (p, q))| LineToPrice {
                sku: Sku::parse(&format!("S{i}")).unwrap(), size: Size::parse("38").unwrap(),
                quantity: *q, unit_price: fen(*p), slot: None, category: None }).collect();
            let subtotal = fen(prices.iter().map(|(p, q)| p * i64::from(*q)).sum());
            let (idx, _) = best_coupons(subtotal, &held, rules);
            let chosen: Vec<&HeldCoupon> = idx.iter().map(|&i| &held[i]).collect();
            let cart = price(lines, &chosen, rules).unwrap();
            prop_assert!(cart.total_fen.get() >= 0);
            prop_assert_eq!(cart.subtotal_fen.get() - cart.discount_fen.get(), cart.total_fen.get());
            prop_assert_eq!(cart.lines.iter().map(|l| l.paid_fen.get()).sum::<i64>(), cart.total_fen.get());
            prop_assert!(cart.lines.iter().all(|l| l.paid_fen.get() >= 0 && l.discount_fen <= l.subtotal_fen));
        }

        #[test]
        fn the_best_choice_is_never_worse_than_any_other_permitted_choice(
            subtotal in 0i64..2_000_000,
            offs in proptest::collection::vec((1i64..200_000, 0i64..1_000_000), 0..6),
            max in 1u8..4,
        ) {
            let rules = CouponRules { max_per_order: max, max_discount_fen: None };
            let held: Vec<HeldCoupon> = offs.iter().enumerate()
                .map(|(i, (off, min))| coupon(&format!("c{i}"), *off, *min)).collect();
            let (_, best) = best_coupons(fen(subtotal), &held, rules);
            for mask in 0u32..(1 << held.len()) {
                let chosen: Vec<&HeldCoupon> = (0..held.len()).filter(|i| mask & (1 << i) != 0).map(|i| &held[i]).collect();
                if let Ok(d) = coupons_discount(fen(subtotal), &chosen, rules) {
                    prop_assert!(d <= best, "{:?} beats best {:?}", d, best);
                }
            }
        }
    }
}
