//! Claiming coupons (within the buyer's allowance and the template's budget) and a
//! buyer's coupons across tenants.

use chrono::{DateTime, Utc};

use crate::db::page::Paged;
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::db::Db;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::coupon::{BuyerCoupon, CouponStatus};
use crate::domain::ids::{CouponTemplateId, UserId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, string_attr, to_item, AttrPath, Condition, Index, Item, Key, Query, SortRange,
    TableError, Update, Write, GSI1PK, GSI1SK, PK, SK,
};

fn coupon_item(t: &Tenant, c: &BuyerCoupon, user: &UserId, n_th: u32) -> Result<Item, TableError> {
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
    /// Claims a coupon from a live campaign's template: 1 BatchGetItem + 1
    /// TransactWriteItems (the budget counter and the buyer's coupon).
    pub async fn claim_coupon(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        template: &CouponTemplateId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<BuyerCoupon> {
        if campaign.status_at(now) != CampaignStatus::Live {
            return Err(DomainError::conflict(
                "campaign-not-live",
                "coupons are claimed while the campaign is live",
            )
            .into());
        }
        let tpl =
            campaign
                .coupons
                .iter()
                .find(|c| &c.id == template)
                .ok_or(DomainError::NotFound {
                    what: "coupon template",
                })?;
        let cpk = keys::campaign_pk(t, &campaign.id);
        optimistic("this coupon", || async {
            let wanted: Vec<Key> = (1..=tpl.per_buyer)
                .map(|i| Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl.id, user, i)))
                .collect();
            let held = self.table.batch_get(&wanted, true).await?;
            let taken: Vec<&str> = held.iter().filter_map(|i| string_attr(i, SK)).collect();
            let Some(n_th) = (1..=tpl.per_buyer)
                .find(|i| !taken.contains(&keys::buyer_coupon_sk(&tpl.id, user, *i).as_str()))
            else {
                return Err(DomainError::conflict(
                    "coupon-limit-reached",
                    "you already hold as many of these as allowed",
                )
                .into());
            };
            let coupon = BuyerCoupon {
                id: format!("{}.{}", tpl.id, n_th),
                tenant: t.clone(),
                campaign: campaign.id.clone(),
                template: tpl.id.clone(),
                name: tpl.name.clone(),
                off_fen: tpl.off_fen,
                min_spend_fen: tpl.min_spend_fen,
                status: CouponStatus::Available,
                order: None,
                claimed_at: now,
            };
            let budget = AttrPath::top("remaining");
            let writes = vec![
                Write::Update {
                    key: Key::new(cpk.clone(), keys::coupon_template_sk(&tpl.id)),
                    update: Update {
                        add: vec![(budget.clone(), -1)],
                        ..Update::default()
                    },
                    condition: Some(Condition::AtLeast(budget, 1)),
                },
                Write::Put {
                    item: coupon_item(t, &coupon, user, n_th)?,
                    condition: Some(Condition::NotExists),
                },
            ];
            match self.table.transact(writes).await {
                Ok(()) => Ok(Attempt::Done(coupon)),
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                    Err(DomainError::conflict(
                        "coupon-budget-exhausted",
                        "all of these coupons have been claimed",
                    )
                    .into())
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

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
