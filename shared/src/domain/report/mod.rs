//! The campaign report: what a close counts, and how.
//!
//! The close pages through a campaign's records (its listings and stock, then its orders,
//! refunds and group buys) and folds each page into a [`Tally`] (`tally.rs`), a plain
//! value written between pages so any page can be re-run. [`Tally::finish`] turns it,
//! with the guide and store counters of the attribution ledger, into a [`Report`], which
//! `render.rs` writes as JSON, CSV and one self-contained HTML page.
//!
//! What each figure means (a test recomputes every one of them directly from the
//! records, so these definitions are the contract):
//! - an order **counts** once it was paid (whatever happened after); **gross GMV** is
//!   what counted orders paid; **refunded** is what approved cancellations and returns
//!   give back (not the ones closed unrefunded); **net GMV** is gross less refunded;
//! - **by store**: the units of a dispatched order belong to the store of their parcel,
//!   with their allocated paid amount; a counted order not dispatched (cancelled before,
//!   held for its group, needing attention) is under `-`; a return's refund is under its
//!   return store;
//! - **buyers** are distinct buyers of counted orders; **new buyers** are buyers whose
//!   first paid order in the tenant a guide brought (the attribution ledger's count);
//! - **sell-through** of a listing, size or store is units sold (dispatched, less units
//!   returned to stock) over the units put into the campaign, in basis points; leftover
//!   is what the store's stock count holds now;
//! - a **coupon's cost** is the discount of counted orders that redeemed it (shared by
//!   face value when coupons stack); a **group buy's cost** is the clearance price less
//!   the group price on the paid units of groups that formed or were completed by the
//!   store;
//! - **shipping** (per store, over its shipping parcels): handover time is from the
//!   order's dispatch to the courier taking the parcel, delivery time from dispatch to
//!   the buyer signing (nearest-rank p50/p95 of the parcels that got there); a parcel
//!   **needed attention** when the order's history flagged it; **lost** and **returned
//!   unclaimed** are parcels that ended so; same-city parcels and their riders' fees
//!   (borne by the store);
//! - **assists** (per offer): assists started, completed (a pack granted each),
//!   expired or still open; helpers who were new to the brand; coupons from its packs
//!   (places from 101 of its templates, which no other offer's pack holds) redeemed on
//!   counted orders and their cost (as coupons' cost above); assists started through
//!   each guide's link;
//! - **visits** (per store): pickup bookings kept and their no-shows; try-on visits
//!   booked, cancelled, no-shows (not checked in by the slot's end, released or not),
//!   check-ins, and visits that ended in an order (a counted order credited
//!   `in_store_trial` to that visit), with conversion over check-ins;
//! - **automatic approval rate** is approvals by rule over decided refunds; decision time
//!   is from request to decision (nearest-rank p50/p95); payments an order could not
//!   take are given back but are no figure of the report (they were never the
//!   campaign's money).

mod render;
mod tally;

pub use super::figures::{Edition, Figures, OpenWork};
pub use render::{to_csv, to_html};
pub use tally::Tally;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::attribution::Totals;
use super::ids::{CampaignId, OrderId};

/// One store's line: its sales and its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreFigures {
    /// A store id, or `-` for counted orders no store dispatched.
    pub store: String,
    #[serde(flatten)]
    pub figures: Figures,
    pub stock_units: u64,
    pub sold_units: u64,
    pub leftover_units: u64,
    pub sell_through_bp: u32,
}

/// Stock and sales of one cell (a listing's size at a store), or a sum of cells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StockFigures {
    /// Units put into the campaign.
    pub stock_units: u64,
    /// Units dispatched, less units returned to stock.
    pub sold_units: u64,
    /// Units the store's count holds now.
    pub leftover_units: u64,
    pub sell_through_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SizeLine {
    pub size: String,
    #[serde(flatten)]
    pub stock: StockFigures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreStockLine {
    pub store: String,
    pub size: String,
    #[serde(flatten)]
    pub stock: StockFigures,
}

/// One listing: its sales, and its stock by size and by store and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListingLine {
    pub sku: String,
    pub name: String,
    pub units: u64,
    pub gross_gmv_fen: i64,
    #[serde(flatten)]
    pub stock: StockFigures,
    pub sizes: Vec<SizeLine>,
    pub cells: Vec<StoreStockLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponLine {
    pub template: String,
    pub name: String,
    pub redemptions: u64,
    pub cost_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupFigures {
    pub opened: u64,
    pub formed: u64,
    pub failed: u64,
    pub store_completed: u64,
    /// Still open (only before the close has finished them).
    pub open: u64,
    /// Clearance price less group price on the paid units of formed groups.
    pub formed_cost_fen: i64,
    /// The same for groups the store completed short of seats.
    pub store_completed_cost_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReasonLine {
    /// A return reason (`wrong_size`, ...) or `cancellation`. (Payments an order could
    /// not take are given back too, but were never the campaign's: they are listed for
    /// staff, not counted here.)
    pub reason: String,
    pub count: u64,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefundFigures {
    pub requested: u64,
    pub approved_by_rule: u64,
    pub approved_by_person: u64,
    pub rejected: u64,
    pub pending_review: u64,
    /// Approvals by rule over decided refunds, in basis points.
    pub automatic_approval_bp: u32,
    pub decision_p50_seconds: Option<i64>,
    pub decision_p95_seconds: Option<i64>,
    /// Paid back so far on the buyers' refunds (the provider confirmed).
    pub paid_back_fen: i64,
    pub by_reason: Vec<ReasonLine>,
}

/// One row of a leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoardLine {
    pub id: String,
    pub name: Option<String>,
    pub store: Option<String>,
    pub net_gmv_fen: i64,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Assists started through one guide's link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuideAssists {
    pub guide: String,
    pub started: u64,
}

/// One assist offer: how its assists went, what its packs cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssistLine {
    pub offer: String,
    pub name: String,
    pub started: u64,
    pub completed: u64,
    pub expired: u64,
    /// Open: always 0, since the close fences the offers before it counts, and an assist
    /// still open then can no longer complete (counted in `expired`).
    pub open: u64,
    /// Packs granted (one per completed assist) out of the budget.
    pub packs_granted: u64,
    pub budget: u64,
    /// Helpers new to the brand when they assisted.
    pub recruited: u64,
    /// Coupons from its packs used on counted orders, and their discount.
    pub pack_coupons_redeemed: u64,
    pub pack_coupons_cost_fen: i64,
    /// Assists started through a guide's link, by guide.
    pub by_guide: Vec<GuideAssists>,
}

/// One store's parcels that travel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippingLine {
    pub store: String,
    /// Shipping parcels dispatched to it.
    pub parcels: u64,
    /// Dispatch to handover, of the parcels handed over.
    pub handover_p50_seconds: Option<i64>,
    pub handover_p95_seconds: Option<i64>,
    /// Dispatch to delivery, of the parcels delivered.
    pub delivery_p50_seconds: Option<i64>,
    pub delivery_p95_seconds: Option<i64>,
    pub delivered: u64,
    /// Parcels flagged for a person (not handed over in time, silent, brought back).
    pub needed_attention: u64,
    pub lost: u64,
    pub returned_unclaimed: u64,
    pub same_city: u64,
    pub same_city_fees_fen: i64,
}

/// One store's pickup appointments and try-on visits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitLine {
    pub store: String,
    /// Pickup bookings kept (a moved or cancelled booking is not one).
    pub pickup_bookings: u64,
    /// Pickup bookings not honoured by their slot's end.
    pub pickup_no_shows: u64,
    /// Try-on visits booked.
    pub visits: u64,
    pub visits_cancelled: u64,
    /// Visits nobody came to (checked in by nobody by the slot's end).
    pub visit_no_shows: u64,
    pub check_ins: u64,
    /// Visits that ended in a counted order credited `in_store_trial`.
    pub converted: u64,
    /// Converted over checked in, in basis points.
    pub conversion_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttentionLine {
    pub order: OrderId,
    pub reason: String,
    /// Still waiting for a person (else it needed one and was resolved).
    pub open: bool,
}

/// The campaign report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// `brand/group`.
    pub tenant: String,
    pub brand: String,
    pub campaign: CampaignId,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub edition: Edition,
    pub generated_at: DateTime<Utc>,
    /// Every order placed, counted or not.
    pub orders_placed: u64,
    /// Placed and never paid (cancelled at the deadline or by the close).
    pub orders_unpaid_cancelled: u64,
    /// The whole campaign: the brand's line.
    pub totals: Figures,
    pub stock: StockFigures,
    pub stores: Vec<StoreFigures>,
    pub listings: Vec<ListingLine>,
    pub coupons: Vec<CouponLine>,
    pub groups: GroupFigures,
    pub refunds: RefundFigures,
    pub guides: Vec<BoardLine>,
    pub store_board: Vec<BoardLine>,
    pub attention: Vec<AttentionLine>,
    pub open: OpenWork,
    /// The searches that found nothing, most frequent first (at most 20).
    #[serde(default)]
    pub missed_searches: Vec<crate::domain::search::MissedSearch>,
    /// Parcels that travel, by store (stores that shipped nothing are left out).
    #[serde(default)]
    pub shipping: Vec<ShippingLine>,
    /// Invite-friends-to-assist offers.
    #[serde(default)]
    pub assists: Vec<AssistLine>,
    /// Pickup appointments and try-on visits, by store (stores with neither left out).
    #[serde(default)]
    pub visits: Vec<VisitLine>,
}

/// `part` over `whole` in basis points, rounded down; 0 over nothing.
pub fn basis_points(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((u128::from(part) * 10_000) / u128::from(whole)).min(u128::from(u32::MAX)) as u32
}

/// Nearest-rank percentile `p` (1..=100) of `values`, sorted here.
pub fn percentile(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (u64::from(p) * v.len() as u64).div_ceil(100).max(1) as usize;
    v.get(rank - 1).copied()
}

/// Splits a discount over the coupons that made it, by face value: the shares sum to
/// exactly `discount` (the remainder to the first).
pub fn split_by_face(discount: i64, faces: &[i64]) -> Vec<i64> {
    let total: i64 = faces.iter().sum();
    if faces.is_empty() {
        return vec![];
    }
    if total <= 0 {
        let mut out = vec![0; faces.len()];
        out[0] = discount;
        return out;
    }
    let mut out: Vec<i64> = faces
        .iter()
        .map(|f| ((i128::from(discount) * i128::from(*f)) / i128::from(total)) as i64)
        .collect();
    let rest = discount - out.iter().sum::<i64>();
    out[0] += rest;
    out
}

/// Lines of a CSV or a table, keyed for sorting: BTreeMaps keep every output stable.
pub(crate) type Keyed<T> = BTreeMap<String, T>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=20).collect();
        assert_eq!(percentile(&v, 50), Some(10));
        assert_eq!(percentile(&v, 95), Some(19));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn a_stacked_discount_splits_exactly_by_face_value() {
        assert_eq!(split_by_face(100, &[20, 50]), vec![29, 71]);
        assert_eq!(split_by_face(7, &[1, 1, 1]).iter().sum::<i64>(), 7);
        assert_eq!(basis_points(1, 3), 3333);
        assert_eq!(basis_points(5, 0), 0);
    }
}
