//! Claiming a coupon of a live campaign: within the buyer's allowance and the
//! template's budget, and for a member coupon within the level it asks and for the
//! points it costs. One read, one transaction: the budget counter, the buyer's coupon,
//! and for a member coupon the member's account (on condition of its version, so the
//! level and balance read still hold) with the ledger entry of the points spent.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::members::{account_write, entry_write, level_keys, MemberAsRead};
use crate::db::orders::coupons::coupon_item;
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::coupon::{BuyerCoupon, CouponStatus, CouponTemplate};
use crate::domain::ids::{CouponTemplateId, UserId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{AttrPath, Condition, Key, TableError, Update, Write};

impl AppState {
    /// Claims a coupon: 1 BatchGetItem (the buyer's coupons of the template; for a
    /// member coupon their account, profile and the brand's terms) + 1
    /// TransactWriteItems (the budget, the coupon; the account and the points entry).
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
        let tpl: &CouponTemplate =
            campaign
                .coupons
                .iter()
                .find(|c| &c.id == template)
                .ok_or(DomainError::NotFound {
                    what: "coupon template",
                })?;
        let member_coupon = tpl.points_price > 0 || tpl.min_level > 0;
        let cpk = keys::campaign_pk(t, &campaign.id);
        optimistic("this coupon", || async {
            let mut wanted: Vec<Key> = (1..=tpl.per_buyer)
                .map(|i| Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl.id, user, i)))
                .collect();
            if member_coupon {
                wanted.extend(level_keys(user, &t.brand));
            }
            let found = self.db.batch_get_map(&wanted, true).await?;
            let Some(n_th) = (1..=tpl.per_buyer).find(|i| {
                !found.contains_key(&Key::new(
                    cpk.clone(),
                    keys::buyer_coupon_sk(&tpl.id, user, *i),
                ))
            }) else {
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
            let mut writes = vec![
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
            if member_coupon {
                let mut m = MemberAsRead::of(&found, user, &t.brand, now)?;
                if m.level < tpl.min_level {
                    return Err(DomainError::conflict(
                        "member-level-too-low",
                        format!(
                            "this coupon is for members of level {} and above",
                            tpl.min_level
                        ),
                    )
                    .into());
                }
                // Spent once per coupon claimed (its id names the n-th of the template).
                let key = format!("coupon-{}-{}", campaign.id, coupon.id);
                let entry = if tpl.points_price > 0 {
                    m.account
                        .redeem(&key, i64::from(tpl.points_price), &tpl.name, now)?
                } else {
                    None
                };
                if let Some(entry) = entry {
                    m.account.version = m.version.map_or(1, |v| v + 1);
                    writes.push(account_write(user, &t.brand, &m.account, m.version)?);
                    writes.push(entry_write(user, &t.brand, &entry)?);
                } else {
                    // Free for the level (no points asked): the level as read must hold.
                    writes.push(m.unchanged(user, &t.brand));
                }
            }
            match self.db.table().transact(writes).await {
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
}
