//! What buyers browse: live campaigns, product pages with stock, one product.
//!
//! A products page is one Query over the campaign partition (or its category index):
//! each listing comes back followed by its stock shards. The campaign itself (time zone,
//! slots, status) is needed to price the page; it is kept in a short per-process cache,
//! because in a flash sale every buyer reads the same campaign item and one hot item
//! would otherwise cap the whole sale.

use chrono::{DateTime, Duration, Utc};
use serde_dynamo::AttributeValue;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::Db;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::catalog::{Listing, MAX_SHARDS};
use crate::domain::ids::{CampaignId, CategoryId, Size, Sku};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::recent::Recent;
use crate::table::keys;
use crate::table::{from_item, string_attr, Index, Item, Query, SortRange};

/// How long a campaign read for browsing may be reused.
pub const HEAD_TTL_SECONDS: i64 = 5;

pub struct HeadCache(Recent<(String, String), Arc<Campaign>>);

impl Default for HeadCache {
    fn default() -> Self {
        // Bounded: a Lambda serves one tenant's few campaigns.
        HeadCache(Recent::new(Duration::seconds(HEAD_TTL_SECONDS), 1024))
    }
}

impl HeadCache {
    fn key(t: &Tenant, id: &CampaignId) -> (String, String) {
        (keys::tenant_pk(t), id.to_string())
    }

    fn get(&self, t: &Tenant, id: &CampaignId, now: DateTime<Utc>) -> Option<Arc<Campaign>> {
        self.0.get(&Self::key(t, id), now)
    }

    fn put(&self, t: &Tenant, c: Arc<Campaign>, now: DateTime<Utc>) {
        self.0.put(Self::key(t, &c.id), c, now);
    }

    pub fn forget(&self, t: &Tenant, id: &CampaignId) {
        self.0.forget(&Self::key(t, id));
    }
}

/// A listing with its sellable units per size (summed over shards).
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub listing: Listing,
    pub units: BTreeMap<Size, u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductsPage {
    pub products: Vec<Product>,
    /// The last SKU of this page when there may be more.
    pub next_after: Option<Sku>,
}

fn add_shard_units(units: &mut BTreeMap<Size, u32>, item: &Item) {
    if let Some(AttributeValue::M(m)) = item.get("units") {
        for (size, v) in m {
            let (Ok(size), AttributeValue::N(n)) = (Size::parse(size), v) else {
                continue;
            };
            let n: u32 = n.parse::<i64>().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
            *units.entry(size).or_default() += n;
        }
    }
}

/// Turns a run of listing and shard items into products, in order.
pub(crate) fn assemble(items: Vec<Item>) -> Result<Vec<Product>> {
    let mut products: Vec<Product> = Vec::new();
    for item in items {
        match string_attr(&item, "kind") {
            Some("listing") => {
                let listing: Listing = from_item(item)?;
                let units = listing.sizes.iter().map(|s| (s.clone(), 0)).collect();
                products.push(Product { listing, units });
            }
            Some("stock") => {
                let sku = string_attr(&item, "sku");
                if let Some(p) = products
                    .last_mut()
                    .filter(|p| Some(p.listing.sku.as_str()) == sku)
                {
                    add_shard_units(&mut p.units, &item);
                }
            }
            _ => {}
        }
    }
    Ok(products)
}

impl Db {
    /// A campaign as buyers may see it: never a draft, and once closing a
    /// `campaign-closed` problem. 0 or 1 GetItem (cached 5 s).
    pub async fn visible_campaign(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Campaign>> {
        self.ordering_campaign(t, id, now, false).await
    }

    /// The campaign an order is placed in: [`Db::visible_campaign`], except that a
    /// join of an open group buy (`joining`) is taken during a close's grace.
    pub async fn ordering_campaign(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
        joining: bool,
    ) -> Result<Arc<Campaign>> {
        let campaign = self.cached_campaign(t, id, now).await?;
        if campaign.status_at(now) == CampaignStatus::Draft {
            return Err(DomainError::NotFound { what: "campaign" }.into());
        }
        let grace = joining && crate::domain::close::grace_open(&campaign, now);
        if campaign.is_closed() && !grace {
            return Err(crate::domain::checkout::closed().into());
        }
        Ok(campaign)
    }

    /// A campaign as cached per process (about a second), whatever its stage: 1 GetItem
    /// when not cached.
    pub async fn cached_campaign(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Campaign>> {
        Ok(match self.heads.get(t, id, now) {
            Some(c) => c,
            None => {
                let c = Arc::new(self.campaign(t, id, false).await?);
                self.heads.put(t, c.clone(), now);
                c
            }
        })
    }

    /// Whether the campaign sells at `now` (units coming back go on sale then): the
    /// cached campaign read.
    pub async fn selling(&self, t: &Tenant, id: &CampaignId, now: DateTime<Utc>) -> bool {
        match self.visible_campaign(t, id, now).await {
            Ok(c) => c.status_at(now) == CampaignStatus::Live,
            Err(_) => false,
        }
    }

    /// The tenant's campaigns that are live at `now` (or in their early window): 1 Query; a tenant with no
    /// campaign at all is looked for by its stores (+1 Query), and one with neither is
    /// not found, rather than an empty list indistinguishable from a quiet tenant.
    pub async fn live_campaigns(&self, t: &Tenant, now: DateTime<Utc>) -> Result<Vec<Campaign>> {
        let all = self.campaigns(t).await?;
        if all.is_empty() {
            let mut q = Query::new(
                Index::Primary,
                keys::tenant_pk(t),
                SortRange::BeginsWith(keys::STORE_PREFIX.into()),
            );
            q.limit = Some(1);
            if self.table.query(q).await?.items.is_empty() {
                return Err(DomainError::NotFound { what: "tenant" }.into());
            }
        }
        // A campaign whose early window is open is listed too (scheduled, with its
        // early access), so the members it opens to can find it.
        Ok(all
            .into_iter()
            .filter(|c| {
                c.status_at(now) == CampaignStatus::Live
                    || (c.early_window_ahead(now) && now >= c.earliest_open())
            })
            .collect())
    }

    /// One page of products, optionally of one category, after `after`. 1 Query.
    pub async fn products(
        &self,
        t: &Tenant,
        campaign: &CampaignId,
        category: Option<&CategoryId>,
        after: Option<&Sku>,
        limit: u32,
    ) -> Result<ProductsPage> {
        let low = after
            .map(keys::after_product)
            .unwrap_or_else(|| keys::PRODUCT_PREFIX.to_owned());
        let high = format!("{}{}", keys::PRODUCT_PREFIX, keys::HIGH);
        let (index, pk) = match category {
            Some(cat) => (Index::Gsi1, keys::category_gsi1pk(t, campaign, cat)),
            None => (Index::Primary, keys::campaign_pk(t, campaign)),
        };
        let mut q = Query::new(index, pk, SortRange::Between(low, high));
        // Room for `limit` single-shard products plus one fully sharded one.
        q.limit = Some(limit * 2 + u32::from(MAX_SHARDS) + 1);
        let page = self.table.query(q).await?;
        let more = page.last.is_some();
        let mut products = assemble(page.items)?;
        // The last product of a cut page may be missing shards: leave it to the next page.
        if more && products.len() > 1 {
            products.pop();
        }
        let cut = products.len() > limit as usize;
        products.truncate(limit as usize);
        let next_after = if more || cut {
            products.last().map(|p| p.listing.sku.clone())
        } else {
            None
        };
        Ok(ProductsPage {
            products,
            next_after,
        })
    }

    /// One product with its stock. 1 Query.
    pub async fn product(&self, t: &Tenant, campaign: &CampaignId, sku: &Sku) -> Result<Product> {
        let q = Query::new(
            Index::Primary,
            keys::campaign_pk(t, campaign),
            SortRange::BeginsWith(keys::listing_sk(sku)),
        );
        let page = self.table.query(q).await?;
        assemble(page.items)?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::NotFound { what: "product" }.into())
    }
}
