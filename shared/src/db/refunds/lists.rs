//! The lists people work through: refunds waiting for review (escalated first),
//! returns awaiting the goods, refunds the provider refused, payments an order could
//! not take; and every refund of one order.

use crate::db::page::Paged;
use crate::db::Db;
use crate::domain::ids::OrderId;
use crate::domain::refund::Refund;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, Index, Query, SortRange};

/// The lists there are.
pub const WORK_QUEUES: [&str; 4] = [
    "pending_review",
    "awaiting_return",
    "refund_failed",
    "unapplied_payment",
];

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

impl Db {
    /// Every refund of an order, in the order they were made (requests, then
    /// payments it could not take): 1 Query of its partition.
    pub async fn order_refunds(&self, t: &Tenant, order: &OrderId) -> Result<Vec<Refund>> {
        let q = Query::new(
            Index::Primary,
            keys::order_pk(t, order),
            SortRange::BeginsWith(keys::REFUND_PREFIX.into()),
        );
        let items = self.query_all(q).await?;
        Ok(items.into_iter().map(from_item).collect::<Result<_, _>>()?)
    }
}
