//! The figures a published report carries on its campaign (its edition, headline and
//! what is still open): a leaf, so a campaign's close run can name them without the
//! report's counting, which depends on campaigns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether more can still change: interim while returns, refunds or commissions are
/// open; final once nothing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Edition {
    Interim,
    Final,
}

/// Sales figures for the campaign, a store or a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub orders: u64,
    pub units: u64,
    pub buyers: u64,
    pub new_buyers: u64,
    pub gross_gmv_fen: i64,
    pub refunded_fen: i64,
    pub net_gmv_fen: i64,
}

/// What keeps the campaign from closing for good.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenWork {
    pub unpaid_orders: u64,
    /// Paid and not yet with the buyer: held for a group, needing attention, waiting
    /// at a store.
    pub undelivered_orders: u64,
    pub refunds_pending_review: u64,
    /// Approved refunds whose money is not yet confirmed paid.
    pub refunds_unpaid: u64,
    pub returns_in_transit: u64,
    pub open_groups: u64,
    pub commission_pending_fen: i64,
    /// When the last return window closes.
    pub last_window_closes_at: Option<DateTime<Utc>>,
}

impl OpenWork {
    /// Nothing left to settle at `now`.
    pub fn settled(&self, now: DateTime<Utc>) -> bool {
        self.unpaid_orders == 0
            && self.undelivered_orders == 0
            && self.refunds_pending_review == 0
            && self.refunds_unpaid == 0
            && self.returns_in_transit == 0
            && self.open_groups == 0
            && self.commission_pending_fen == 0
            && self.last_window_closes_at.is_none_or(|at| now >= at)
    }
}
