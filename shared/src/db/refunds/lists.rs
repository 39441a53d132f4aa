//! The lists people work through: refunds waiting for review (escalated first),
//! returns awaiting the goods, refunds the provider refused.

use crate::db::page::Paged;
use crate::db::Db;
use crate::domain::refund::Refund;
use crate::domain::tenancy::{keys, Tenant};
use crate::error::Result;
use crate::table::{from_item, Index, Query, SortRange};

/// The lists there are.
pub const WORK_QUEUES: [&str; 3] = ["pending_review", "awaiting_return", "refund_failed"];

impl Db {
    /// One page of a tenant's refunds on `queue`: 1 Query (GSI2).
    pub async fn refunds_waiting(
        &self,
        t: &Tenant,
        queue: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Refund>> {
        let q = Query::new(Index::Gsi2, keys::refunds_gsi2pk(t, queue), SortRange::All);
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }
}
