//! The operators' writes: campaigns, stores, guides, listings with their stock shards,
//! coupon templates, publish. Each states its DynamoDB calls.

use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;
use std::collections::HashMap;

use super::Db;
use crate::domain::campaign::{Campaign, StoredStatus};
use crate::domain::catalog::{Guide, Listing, Store as Shop};
use crate::domain::coupon::CouponTemplate;
use crate::domain::ids::{CampaignId, Sku};
use crate::domain::tenancy::{keys, Tenant};
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::{
    from_item, n, s, string_attr, to_item, AttrPath, Condition, Index, Item, Key, Query, SortRange,
    TableError, Write, GSI1PK, GSI1SK, PK, SK,
};

const KIND: &str = "kind";

pub(crate) fn campaign_key(t: &Tenant, id: &CampaignId) -> Key {
    Key::new(keys::tenant_pk(t), keys::campaign_sk(id))
}

pub(crate) fn campaign_item(t: &Tenant, c: &Campaign) -> Result<Item, TableError> {
    to_item(
        c,
        &[
            (PK, keys::tenant_pk(t)),
            (SK, keys::campaign_sk(&c.id)),
            (KIND, "campaign".into()),
        ],
    )
}

fn listing_item(t: &Tenant, campaign: &CampaignId, l: &Listing) -> Result<Item, TableError> {
    let sk = keys::listing_sk(&l.sku);
    to_item(
        l,
        &[
            (PK, keys::campaign_pk(t, campaign)),
            (SK, sk.clone()),
            (GSI1PK, keys::category_gsi1pk(t, campaign, &l.category)),
            (GSI1SK, sk),
            (KIND, "listing".into()),
        ],
    )
}

/// A stock shard: `units` maps each size to the units this shard may still sell.
fn shard_item(
    t: &Tenant,
    campaign: &CampaignId,
    l: &Listing,
    shard: u8,
    units: &std::collections::BTreeMap<crate::domain::ids::Size, u32>,
) -> Item {
    let sk = keys::stock_sk(&l.sku, shard);
    let units: HashMap<String, AttributeValue> = units
        .iter()
        .map(|(size, u)| (size.as_str().to_owned(), n(i64::from(*u))))
        .collect();
    let item: HashMap<String, AttributeValue> = HashMap::from([
        (PK.to_owned(), s(keys::campaign_pk(t, campaign))),
        (SK.to_owned(), s(sk.clone())),
        (
            GSI1PK.to_owned(),
            s(keys::category_gsi1pk(t, campaign, &l.category)),
        ),
        (GSI1SK.to_owned(), s(sk)),
        (KIND.to_owned(), s("stock")),
        ("sku".to_owned(), s(l.sku.as_str())),
        ("shard".to_owned(), n(i64::from(shard))),
        ("units".to_owned(), AttributeValue::M(units)),
    ]);
    item.into()
}

/// Each store's contribution as fulfillment draws on it: `units.{store}.{size}`.
fn store_stock_item(t: &Tenant, campaign: &CampaignId, l: &Listing) -> Item {
    let mut by_store: HashMap<String, HashMap<String, AttributeValue>> = HashMap::new();
    for s in &l.stock {
        by_store
            .entry(s.store.to_string())
            .or_default()
            .insert(s.size.to_string(), n(i64::from(s.units.get())));
    }
    let units = by_store
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::M(v)))
        .collect();
    let item: HashMap<String, AttributeValue> = HashMap::from([
        (PK.to_owned(), s(keys::campaign_pk(t, campaign))),
        (SK.to_owned(), s(keys::store_stock_sk(&l.sku))),
        (KIND.to_owned(), s("store_stock")),
        ("units".to_owned(), AttributeValue::M(units)),
    ]);
    item.into()
}

impl Db {
    /// 1 GetItem.
    pub async fn campaign(
        &self,
        t: &Tenant,
        id: &CampaignId,
        consistent: bool,
    ) -> Result<Campaign> {
        let item = self.table.get(&campaign_key(t, id), consistent).await?;
        let item = item.ok_or(DomainError::NotFound { what: "campaign" })?;
        Ok(from_item(item)?)
    }

    /// 1 conditional PutItem.
    pub async fn create_campaign(&self, t: &Tenant, c: &Campaign) -> Result<()> {
        match self
            .table
            .put(campaign_item(t, c)?, Some(Condition::NotExists))
            .await
        {
            Err(TableError::ConditionFailed) => {
                Err(DomainError::AlreadyExists { what: "campaign" }.into())
            }
            other => Ok(other?),
        }
    }

    /// Writes `next` if the stored campaign is still at `expected_version`.
    /// 1 conditional PutItem.
    pub async fn replace_campaign(
        &self,
        t: &Tenant,
        next: &Campaign,
        expected_version: u64,
    ) -> Result<()> {
        let cond = Condition::Equals(AttrPath::top("version"), n(expected_version as i64));
        self.table
            .put(campaign_item(t, next)?, Some(cond))
            .await
            .map_err(|e| concurrent(e, "campaign"))?;
        self.heads.forget(t, &next.id);
        Ok(())
    }

    /// Lists the tenant's campaigns. 1 Query per 1 MB page (one in practice).
    pub async fn campaigns(&self, t: &Tenant) -> Result<Vec<Campaign>> {
        let items = self
            .query_all(Query::new(
                Index::Primary,
                keys::tenant_pk(t),
                SortRange::BeginsWith(keys::CAMPAIGN_PREFIX.into()),
            ))
            .await?;
        items
            .into_iter()
            .map(|i| from_item(i).map_err(Into::into))
            .collect()
    }

    /// 1 PutItem.
    pub async fn put_store(&self, t: &Tenant, shop: &Shop) -> Result<()> {
        let item = to_item(
            shop,
            &[
                (PK, keys::tenant_pk(t)),
                (SK, keys::store_sk(&shop.id)),
                (KIND, "store".into()),
            ],
        )?;
        Ok(self.table.put(item, None).await?)
    }

    /// 1 GetItem.
    pub async fn store(&self, t: &Tenant, id: &crate::domain::ids::StoreId) -> Result<Shop> {
        let item = self
            .table
            .get(&Key::new(keys::tenant_pk(t), keys::store_sk(id)), false)
            .await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "store" })?,
        )?)
    }

    /// 1 Query per 1 MB page.
    pub async fn stores(&self, t: &Tenant) -> Result<Vec<Shop>> {
        let items = self
            .query_all(Query::new(
                Index::Primary,
                keys::tenant_pk(t),
                SortRange::BeginsWith(keys::STORE_PREFIX.into()),
            ))
            .await?;
        items
            .into_iter()
            .map(|i| from_item(i).map_err(Into::into))
            .collect()
    }

    /// The guide's store must exist: 1 transaction (a condition check on the store and
    /// the put), so a guide can never point at a store that is not there.
    pub async fn put_guide(&self, t: &Tenant, guide: &Guide) -> Result<()> {
        let item = to_item(
            guide,
            &[
                (PK, keys::tenant_pk(t)),
                (SK, keys::guide_sk(&guide.id)),
                (KIND, "guide".into()),
            ],
        )?;
        let writes = vec![
            Write::Check {
                key: Key::new(keys::tenant_pk(t), keys::store_sk(&guide.store)),
                condition: Condition::Exists,
            },
            Write::Put {
                item,
                condition: None,
            },
        ];
        match self.table.transact(writes).await {
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(DomainError::invalid("store", "no such store in this tenant").into())
            }
            other => Ok(other?),
        }
    }

    /// 1 Query per 1 MB page.
    pub async fn guides(&self, t: &Tenant) -> Result<Vec<Guide>> {
        let items = self
            .query_all(Query::new(
                Index::Primary,
                keys::tenant_pk(t),
                SortRange::BeginsWith(keys::GUIDE_PREFIX.into()),
            ))
            .await?;
        items
            .into_iter()
            .map(|i| from_item(i).map_err(Into::into))
            .collect()
    }

    /// Writes a listing and its stock shards, replacing any earlier version, as one
    /// transaction that also checks the campaign is still at the version validated.
    /// 1 Query (the old listing and shards) + 1 TransactWriteItems.
    pub async fn put_listing(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        listing: &Listing,
    ) -> Result<()> {
        let pk = keys::campaign_pk(t, &campaign.id);
        let mut q = Query::new(
            Index::Primary,
            pk.clone(),
            SortRange::BeginsWith(keys::listing_sk(&listing.sku)),
        );
        q.consistent = true;
        let old = self.table.query(q).await?;
        let mut writes = vec![Write::Check {
            key: campaign_key(t, &campaign.id),
            condition: Condition::Equals(AttrPath::top("version"), n(campaign.version as i64)),
        }];
        writes.push(Write::Put {
            item: listing_item(t, &campaign.id, listing)?,
            condition: None,
        });
        for (i, units) in listing.shard_units().iter().enumerate() {
            writes.push(Write::Put {
                item: shard_item(t, &campaign.id, listing, i as u8, units),
                condition: None,
            });
        }
        writes.push(Write::Put {
            item: store_stock_item(t, &campaign.id, listing),
            condition: None,
        });
        // Shards beyond the new count go, so no stale stock stays sellable.
        for item in &old.items {
            if let Some(sk) = string_attr(item, SK) {
                let is_shard = sk != keys::listing_sk(&listing.sku);
                let kept = (0..listing.shards).any(|i| keys::stock_sk(&listing.sku, i) == sk);
                if is_shard && !kept {
                    writes.push(Write::Delete {
                        key: Key::new(pk.clone(), sk),
                        condition: None,
                    });
                }
            }
        }
        self.table
            .transact(writes)
            .await
            .map_err(|e| concurrent(e, "campaign"))
    }

    /// A listing as the operator wrote it. 1 GetItem.
    pub async fn listing(&self, t: &Tenant, campaign: &CampaignId, sku: &Sku) -> Result<Listing> {
        let item = self
            .table
            .get(
                &Key::new(keys::campaign_pk(t, campaign), keys::listing_sk(sku)),
                false,
            )
            .await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "listing" })?,
        )?)
    }

    /// Whether the campaign has any listing. 1 Query (limit 1).
    pub async fn has_listings(&self, t: &Tenant, campaign: &CampaignId) -> Result<bool> {
        let mut q = Query::new(
            Index::Primary,
            keys::campaign_pk(t, campaign),
            SortRange::BeginsWith(keys::PRODUCT_PREFIX.into()),
        );
        q.limit = Some(1);
        q.consistent = true;
        Ok(!self.table.query(q).await?.items.is_empty())
    }

    /// Adds or replaces a coupon template on the campaign and resets its budget counter
    /// (templates change only before the campaign is live, so nothing is claimed yet).
    /// 1 TransactWriteItems (the campaign, version-checked, and the counter).
    pub async fn put_coupon_template(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        tpl: &CouponTemplate,
        now: DateTime<Utc>,
    ) -> Result<Campaign> {
        let mut next = campaign.clone();
        match next.coupons.iter_mut().find(|c| c.id == tpl.id) {
            Some(existing) => *existing = tpl.clone(),
            None => next.coupons.push(tpl.clone()),
        }
        next.version += 1;
        next.updated_at = now;
        let counter: HashMap<String, AttributeValue> = HashMap::from([
            (PK.to_owned(), s(keys::campaign_pk(t, &campaign.id))),
            (SK.to_owned(), s(keys::coupon_template_sk(&tpl.id))),
            (KIND.to_owned(), s("coupon_budget")),
            ("remaining".to_owned(), n(i64::from(tpl.budget))),
        ]);
        let writes = vec![
            Write::Put {
                item: campaign_item(t, &next)?,
                condition: Some(Condition::Equals(
                    AttrPath::top("version"),
                    n(campaign.version as i64),
                )),
            },
            Write::Put {
                item: counter.into(),
                condition: None,
            },
        ];
        self.table
            .transact(writes)
            .await
            .map_err(|e| concurrent(e, "campaign"))?;
        self.heads.forget(t, &campaign.id);
        Ok(next)
    }

    /// Publishes a complete draft: 1 GetItem + 1 Query + 1 conditional PutItem.
    pub async fn publish(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Campaign> {
        let current = self.campaign(t, id, true).await?;
        let has_listings = self.has_listings(t, id).await?;
        current.ensure_publishable(now, usize::from(has_listings))?;
        let next = Campaign {
            status: StoredStatus::Scheduled,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        self.replace_campaign(t, &next, current.version).await?;
        self.heads.forget(t, id);
        Ok(next)
    }

    /// Follows pages to the end. For partitions that hold a few hundred items at most.
    async fn query_all(&self, mut q: Query) -> Result<Vec<Item>, TableError> {
        let mut all = Vec::new();
        loop {
            let page = self.table.query(q.clone()).await?;
            all.extend(page.items);
            match page.last {
                Some(last) => q.start_after = Some(last),
                None => return Ok(all),
            }
        }
    }
}

/// A failed version check means someone else changed the campaign first.
fn concurrent(e: TableError, what: &'static str) -> crate::Error {
    match e {
        TableError::ConditionFailed | TableError::TransactionCancelled { .. } => {
            DomainError::conflict(
                "concurrent-update",
                format!("the {what} was changed by someone else; read it again and retry"),
            )
            .into()
        }
        other => other.into(),
    }
}
