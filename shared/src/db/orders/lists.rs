//! Lists of orders, a page at a time: a buyer's own across tenants, and a tenant's
//! orders waiting for a person.

use crate::db::page::Paged;
use crate::db::Db;
use crate::domain::ids::UserId;
use crate::domain::order::Order;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, Index, Query, SortRange};

impl Db {
    /// A buyer's orders across tenants, newest first: 1 Query (GSI1).
    pub async fn my_orders(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Order>> {
        let mut q = Query::new(Index::Gsi1, keys::buyer_orders_gsi1pk(user), SortRange::All);
        q.forward = false;
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }

    /// A tenant's paid orders that no store could dispatch, oldest first: 1 Query (GSI2).
    pub async fn orders_needing_attention(
        &self,
        t: &Tenant,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Order>> {
        let q = Query::new(Index::Gsi2, keys::attention_gsi2pk(t), SortRange::All);
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }

    /// A tenant's shipped orders with a parcel flagged for a person, oldest first: 1
    /// Query (GSI2).
    pub async fn parcels_needing_attention(
        &self,
        t: &Tenant,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Order>> {
        let q = Query::new(
            Index::Gsi2,
            keys::parcels_attention_gsi2pk(t),
            SortRange::All,
        );
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }
}
