//! A guide's performance, a campaign's leaderboard, a guide's credited sales.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::{counter_key, Counted, SaleRecord, STAT_SHARDS};
use crate::db::listings::{is_listing, products_query};
use crate::db::orders::number;
use crate::db::page::Paged;
use crate::db::Db;
use crate::domain::attribution::Totals;
use crate::domain::catalog::{Guide, Listing};
use crate::domain::ids::{CampaignId, GuideId, StoreId};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, string_attr, Index, Item, Query, SortRange, SK};

fn totals_of(item: &Item) -> Totals {
    let num = |f: &str| number(item.get(f));
    Totals {
        orders: num("orders"),
        units: num("units"),
        gmv_fen: num("gmv_fen"),
        refunded_fen: num("refunded_fen"),
        commission_pending_fen: num("commission_pending_fen"),
        commission_confirmed_fen: num("commission_confirmed_fen"),
        commission_reversed_fen: num("commission_reversed_fen"),
        new_buyers: num("new_buyers"),
        new_members: num("new_members"),
    }
}

/// By net GMV, highest first (then by id).
fn by_net(a: &Standing, b: &Standing) -> std::cmp::Ordering {
    b.net_gmv_fen.cmp(&a.net_gmv_fen).then(a.id.cmp(&b.id))
}

/// One row of a leaderboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Standing {
    pub id: String,
    /// The guide's name (guides only).
    pub name: Option<String>,
    /// The guide's store (guides only).
    pub store: Option<StoreId>,
    pub net_gmv_fen: i64,
    #[serde(flatten)]
    pub totals: Totals,
    /// Units the store shipped (net of units back in its count) over units it put into
    /// the campaign (stores only).
    pub sell_through: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Leaderboard {
    pub campaign: CampaignId,
    /// By net GMV, highest first.
    pub guides: Vec<Standing>,
    pub stores: Vec<Standing>,
}

impl Db {
    /// A guide's figures in a campaign: every shard of their counter.
    /// 1 BatchGetItem (16 keys).
    pub async fn guide_totals(&self, t: &Tenant, c: &CampaignId, g: &GuideId) -> Result<Totals> {
        Ok(self.guide_board(t, c, g).await?.0)
    }

    /// A guide's totals and the assists started through their link: 1 BatchGetItem
    /// (the counter shards, the assist count).
    pub async fn guide_board(
        &self,
        t: &Tenant,
        c: &CampaignId,
        g: &GuideId,
    ) -> Result<(Totals, u64)> {
        let mut keys: Vec<_> = (0..STAT_SHARDS)
            .map(|s| counter_key(t, c, s, &Counted::Guide(g.clone())))
            .collect();
        let assists = crate::table::Key::new(
            crate::table::keys::campaign_pk(t, c),
            crate::table::keys::guide_assists_sk(g),
        );
        keys.push(assists.clone());
        let mut total = Totals::default();
        let mut started = 0;
        for item in self.table.batch_get(&keys, false).await? {
            if crate::table::Key::of(&item).as_ref() == Some(&assists) {
                started = crate::db::orders::number(item.get("started")).max(0) as u64;
            } else {
                total = total.plus(&totals_of(&item));
            }
        }
        Ok((total, started))
    }

    /// Every guide's and store's figures of a campaign, by net GMV, with each store's
    /// sell-through: the units it shipped (what it put in, less what it holds now:
    /// units back from returns and cancelled parcels count as unsold) over what it put
    /// in, whoever the sales were credited to. Every store of the campaign is listed.
    /// [`Db::standings`], then 1 Query of the listings and 1 Query of the stores' stock
    /// counts (each to its last page).
    pub async fn leaderboard(&self, t: &Tenant, c: &CampaignId) -> Result<Leaderboard> {
        let mut board = self.standings(t, c).await?;
        // What each store put into the campaign, from the listings.
        let mut stocked: BTreeMap<String, i64> = BTreeMap::new();
        for item in self.query_all(products_query(t, c)).await? {
            if is_listing(&item) {
                let l: Listing = from_item(item)?;
                for s in &l.stock {
                    *stocked.entry(s.store.to_string()).or_default() += i64::from(s.units.get());
                }
            }
        }
        // What each store holds now.
        let mut holds: BTreeMap<String, i64> = BTreeMap::new();
        let counts = Query::new(
            Index::Primary,
            keys::campaign_pk(t, c),
            SortRange::BeginsWith(keys::STORE_STOCK_PREFIX.into()),
        );
        for item in self.query_all(counts).await? {
            for (store, sizes) in crate::db::listings::store_units(&item) {
                *holds.entry(store).or_default() += sizes.values().sum::<i64>();
            }
        }
        for store in stocked.keys() {
            if !board.stores.iter().any(|s| &s.id == store) {
                board.stores.push(Standing {
                    id: store.clone(),
                    name: None,
                    store: None,
                    net_gmv_fen: 0,
                    totals: Totals::default(),
                    sell_through: None,
                });
            }
        }
        for s in &mut board.stores {
            let put_in = stocked.get(&s.id).copied().unwrap_or(0);
            let shipped = (put_in - holds.get(&s.id).copied().unwrap_or(0)).max(0);
            s.sell_through = (put_in > 0).then(|| shipped as f64 / put_in as f64);
        }
        board.stores.sort_by(by_net);
        Ok(board)
    }

    /// Every guide's and store's figures of a campaign, by net GMV, without the stores'
    /// sell-through: 1 Query per counter shard (16), 1 Query of the guides (each
    /// followed to its last page).
    pub async fn standings(&self, t: &Tenant, c: &CampaignId) -> Result<Leaderboard> {
        let mut sums: BTreeMap<String, Totals> = BTreeMap::new();
        for shard in 0..STAT_SHARDS {
            let q = Query::new(Index::Primary, keys::stats_pk(t, c, shard), SortRange::All);
            for item in self.query_all(q).await? {
                if let Some(sk) = string_attr(&item, SK) {
                    let entry = sums.entry(sk.to_owned()).or_default();
                    *entry = entry.plus(&totals_of(&item));
                }
            }
        }
        let guides: BTreeMap<String, Guide> = self
            .guides(t)
            .await?
            .into_iter()
            .map(|g| (g.id.to_string(), g))
            .collect();
        let mut board = Leaderboard {
            campaign: c.clone(),
            guides: Vec::new(),
            stores: Vec::new(),
        };
        for (sk, totals) in sums {
            if let Some(id) = sk.strip_prefix("G#") {
                let g = guides.get(id);
                board.guides.push(Standing {
                    id: id.to_owned(),
                    name: g.map(|g| g.name.clone()),
                    store: g.map(|g| g.store.clone()),
                    net_gmv_fen: totals.net_gmv_fen(),
                    totals,
                    sell_through: None,
                });
            } else if let Some(id) = sk.strip_prefix("S#") {
                board.stores.push(Standing {
                    id: id.to_owned(),
                    name: None,
                    store: None,
                    net_gmv_fen: totals.net_gmv_fen(),
                    totals,
                    sell_through: None,
                });
            }
        }
        board.guides.sort_by(by_net);
        board.stores.sort_by(by_net);
        Ok(board)
    }

    /// A guide's credited sales, newest first: 1 Query (GSI1).
    pub async fn guide_sales(
        &self,
        t: &Tenant,
        g: &GuideId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<SaleRecord>> {
        let mut q = Query::new(Index::Gsi1, keys::guide_sales_gsi1pk(t, g), SortRange::All);
        q.forward = false;
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }
}
