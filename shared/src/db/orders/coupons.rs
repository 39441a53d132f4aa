//! Buyers' coupons as items, and a buyer's coupons across tenants (claiming one is a
//! use case, in `cases::coupons`).

use crate::db::page::Paged;
use crate::db::Db;
use crate::domain::coupon::BuyerCoupon;
use crate::domain::ids::UserId;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, to_item, Index, Item, Query, SortRange, TableError, GSI1PK, GSI1SK, PK, SK,
};

pub(crate) fn coupon_item(
    t: &Tenant,
    c: &BuyerCoupon,
    user: &UserId,
    n_th: u32,
) -> Result<Item, TableError> {
    to_item(
        c,
        &[
            (PK, keys::campaign_pk(t, &c.campaign)),
            (SK, keys::buyer_coupon_sk(&c.template, user, n_th)),
            (GSI1PK, keys::buyer_coupons_gsi1pk(user)),
            (
                GSI1SK,
                format!(
                    "{}#{}#{}",
                    keys::instant(c.claimed_at),
                    keys::campaign_pk(t, &c.campaign),
                    c.id
                ),
            ),
            ("kind", "coupon".into()),
        ],
    )
}

impl Db {
    /// A buyer's coupons across tenants, newest first, a page at a time: 1 Query (GSI1).
    pub async fn my_coupons(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<BuyerCoupon>> {
        let mut q = Query::new(
            Index::Gsi1,
            keys::buyer_coupons_gsi1pk(user),
            SortRange::All,
        );
        q.forward = false;
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }
}
