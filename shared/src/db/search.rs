//! Search's reads and writes: a campaign's whole catalogue with the tenant's search
//! words, kept for a second per process (search costs no DynamoDB call of its own
//! beyond that refresh); the tenant's synonyms; searches that found nothing.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::catalog::{assemble, Product};
use super::orders::number;
use super::Db;
use crate::domain::campaign::Campaign;
use crate::domain::ids::CampaignId;
use crate::domain::search::{Item, MissedSearch, SearchTerms, Vocabulary};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::recent::Recent;
use crate::table::keys;
use crate::table::{
    from_item, s, string_attr, to_item, AttrPath, Index, Key, Query, SortRange, Update, Write, PK,
    SK,
};

/// How long a catalogue snapshot is reused: the products page's own refresh.
pub const CATALOGUE_TTL_SECONDS: i64 = 1;
/// Shards of the missed-search counters.
pub const MISS_SHARDS: u8 = 4;
/// Missed queries are kept by their first characters.
pub const MISSED_QUERY_CHARS: usize = 40;

/// One campaign's listings with their stock, and the words its search understands.
#[derive(Debug)]
pub struct Catalogue {
    pub products: Vec<Product>,
    pub vocabulary: Vocabulary,
    /// Each product's name and colour as search compares them.
    pub keys: Vec<(String, String)>,
}

impl Catalogue {
    /// The products as search sees them, priced at `now`.
    pub fn items(&self, campaign: &Campaign, now: DateTime<Utc>) -> Vec<Item<'_>> {
        self.products
            .iter()
            .zip(&self.keys)
            .map(|(p, (name, colour))| Item {
                listing: &p.listing,
                units: &p.units,
                price_fen: p.listing.price_at(campaign, now).0.get(),
                name,
                colour,
            })
            .collect()
    }
}

pub struct CatalogueCache(Recent<(String, String), Arc<Catalogue>>);

impl Default for CatalogueCache {
    fn default() -> Self {
        CatalogueCache(Recent::new(Duration::seconds(CATALOGUE_TTL_SECONDS), 64))
    }
}

impl Db {
    /// `campaign`'s catalogue: from this process's snapshot when it is under a second
    /// old, else 1 Query (followed to its last page) + 1 GetItem (the search words).
    pub async fn catalogue(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        now: DateTime<Utc>,
    ) -> Result<Arc<Catalogue>> {
        let key = (keys::tenant_pk(t), campaign.id.to_string());
        if let Some(c) = self.catalogues.0.get(&key, now) {
            return Ok(c);
        }
        let q = Query::new(
            Index::Primary,
            keys::campaign_pk(t, &campaign.id),
            SortRange::BeginsWith(keys::PRODUCT_PREFIX.to_owned()),
        );
        let products = assemble(self.query_all(q).await?)?;
        let terms = self.search_terms(t).await?;
        let vocabulary = Vocabulary::new(
            &terms.synonyms,
            &campaign.categories,
            products.iter().map(|p| &p.listing),
        );
        let keys = products.iter().map(|p| Item::keys(&p.listing)).collect();
        let c = Arc::new(Catalogue {
            products,
            vocabulary,
            keys,
        });
        self.catalogues.0.put(key, c.clone(), now);
        Ok(c)
    }

    /// The tenant's search words (none set: none). 1 GetItem.
    pub async fn search_terms(&self, t: &Tenant) -> Result<SearchTerms> {
        let key = Key::new(keys::tenant_pk(t), keys::SEARCH_TERMS_SK);
        Ok(match self.table.get(&key, false).await? {
            Some(mut item) => {
                // the words refuse unknown fields (a request's typo); the keys are ours
                item.remove(PK);
                item.remove(SK);
                from_item(item)?
            }
            None => SearchTerms::default(),
        })
    }

    /// Replaces the tenant's search words. 1 PutItem.
    pub async fn put_search_terms(&self, t: &Tenant, terms: &SearchTerms) -> Result<()> {
        let item = to_item(
            terms,
            &[
                (PK, keys::tenant_pk(t)),
                (SK, keys::SEARCH_TERMS_SK.to_owned()),
            ],
        )?;
        self.table.put(item, None).await?;
        Ok(())
    }

    /// Counts one search of `campaign` that found nothing. 1 TransactWriteItems (one
    /// update), on a shard chosen by the clock so one repeated query spreads.
    pub async fn count_missed_search(
        &self,
        t: &Tenant,
        campaign: &CampaignId,
        query: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let query: String = query.chars().take(MISSED_QUERY_CHARS).collect();
        let shard = (now.timestamp_subsec_nanos() / 1000 % u32::from(MISS_SHARDS)) as u8;
        let write = Write::Update {
            key: Key::new(
                keys::missed_searches_pk(t, campaign, shard),
                keys::missed_search_sk(&query),
            ),
            update: Update {
                set: vec![(AttrPath::top("query"), s(query.clone()))],
                add: vec![(AttrPath::top("count"), 1)],
                ..Default::default()
            },
            condition: None,
        };
        self.table.transact(vec![write]).await?;
        Ok(())
    }

    /// The campaign's searches that found nothing, most frequent first. 1 Query per
    /// shard (4).
    pub async fn missed_searches(&self, t: &Tenant, c: &CampaignId) -> Result<Vec<MissedSearch>> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for shard in 0..MISS_SHARDS {
            let q = Query::new(
                Index::Primary,
                keys::missed_searches_pk(t, c, shard),
                SortRange::All,
            );
            for item in self.query_all(q).await? {
                let count = number(item.get("count"));
                if let Some(query) = string_attr(&item, "query") {
                    *counts.entry(query.to_owned()).or_default() += count;
                }
            }
        }
        let mut out: Vec<MissedSearch> = counts
            .into_iter()
            .map(|(query, count)| MissedSearch { query, count })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.query.cmp(&b.query)));
        Ok(out)
    }
}
