//! Listings with their stock (the listing, its sellable shards, each store's units) and
//! coupon templates with their budget counters. Both are promises to buyers, so every
//! write here is conditioned on the campaign still being editable when it lands.

use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;
use std::collections::HashMap;

use super::campaigns::{campaign_item, campaign_key, concurrent, still_editable, KIND};
use super::Db;
use crate::domain::campaign::Campaign;
use crate::domain::catalog::Listing;
use crate::domain::coupon::CouponTemplate;
use crate::domain::ids::{CampaignId, Sku};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, s, string_attr, to_item, AttrPath, Index, Item, Key, Query, SortRange,
    TableError, Update, Write, GSI1PK, GSI1SK, PK, SK,
};

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

/// A campaign's product partition: each listing followed by its stock shards.
pub(crate) fn products_query(t: &Tenant, campaign: &CampaignId) -> Query {
    Query::new(
        Index::Primary,
        keys::campaign_pk(t, campaign),
        SortRange::BeginsWith(keys::PRODUCT_PREFIX.into()),
    )
}

/// Whether an item of that partition is a listing (not a stock shard).
pub(crate) fn is_listing(item: &Item) -> bool {
    string_attr(item, "kind") == Some("listing")
}

impl Db {
    /// Writes a listing and its stock shards, replacing any earlier version, as one
    /// transaction that also checks the campaign is still at the version validated and
    /// still editable at `now`: a write that would land after go-live (and reset the
    /// shards buyers are taking from) is refused.
    /// 1 Query (the old listing and shards) + 1 TransactWriteItems (which also records
    /// the shard count on the campaign and bumps its version).
    pub async fn put_listing(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        listing: &Listing,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let pk = keys::campaign_pk(t, &campaign.id);
        let mut q = Query::new(
            Index::Primary,
            pk.clone(),
            SortRange::BeginsWith(keys::listing_sk(&listing.sku)),
        );
        q.consistent = true;
        let old = self.table.query(q).await?;
        // The campaign records the listing's shard count (what an order reads), on the
        // same condition as before: still at the version read and still editable.
        let mut writes = vec![Write::Update {
            key: campaign_key(t, &campaign.id),
            update: Update {
                set: vec![(
                    AttrPath(vec!["shard_counts".into(), listing.sku.to_string()]),
                    n(i64::from(listing.shards)),
                )],
                add: vec![(AttrPath::top("version"), 1)],
                ..Update::default()
            },
            condition: Some(still_editable(campaign.version, now)),
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
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(self.why_refused(t, &campaign.id, now).await)
            }
            Err(e) => Err(concurrent(e, "campaign")),
        }
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
        let mut q = products_query(t, campaign);
        q.limit = Some(1);
        q.consistent = true;
        Ok(!self.table.query(q).await?.items.is_empty())
    }

    /// Adds or replaces a coupon template on the campaign and resets its budget counter,
    /// on condition the campaign is still editable at `now` (so nothing is claimed yet:
    /// a reset after go-live would hand out the budget twice).
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
                condition: Some(still_editable(campaign.version, now)),
            },
            Write::Put {
                item: counter.into(),
                condition: None,
            },
        ];
        match self.table.transact(writes).await {
            Ok(()) => {}
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                return Err(self.why_refused(t, &campaign.id, now).await)
            }
            Err(e) => return Err(concurrent(e, "campaign")),
        }
        self.heads.forget(t, &campaign.id);
        Ok(next)
    }
}

/// A store stock item's `units.{store}.{size}`, as numbers.
pub(crate) fn store_units(
    item: &Item,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
        Default::default();
    for (store, sizes) in crate::db::orders::map_of(item, "units")
        .into_iter()
        .flatten()
    {
        if let AttributeValue::M(sizes) = sizes {
            let e = out.entry(store.clone()).or_default();
            for (size, v) in sizes {
                e.insert(size.clone(), crate::db::orders::number(Some(v)));
            }
        }
    }
    out
}
