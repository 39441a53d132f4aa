//! The campaign's stores and one SKU's units per store, for the store finder, in one
//! batch.

use std::collections::BTreeMap;

use serde_dynamo::AttributeValue;

use super::orders::{map_of, number};
use super::Db;
use crate::domain::catalog::Store;
use crate::domain::ids::{CampaignId, Size, Sku, StoreId};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, Item, Key};

impl Db {
    /// The stores (those that exist), and when `sku` is given each store's units of
    /// it by size. 1 BatchGetItem.
    pub async fn stores_with_units(
        &self,
        t: &Tenant,
        campaign: &CampaignId,
        stores: &[StoreId],
        sku: Option<&Sku>,
    ) -> Result<(Vec<Store>, BTreeMap<StoreId, BTreeMap<Size, u32>>)> {
        let mut wanted: Vec<Key> = stores
            .iter()
            .map(|s| Key::new(keys::tenant_pk(t), keys::store_sk(s)))
            .collect();
        let stock_key =
            sku.map(|s| Key::new(keys::campaign_pk(t, campaign), keys::store_stock_sk(s)));
        wanted.extend(stock_key.clone());
        let found = self.batch_get_map(&wanted, false).await?;
        let mut out = Vec::new();
        for s in stores {
            if let Some(item) = found.get(&Key::new(keys::tenant_pk(t), keys::store_sk(s))) {
                out.push(from_item::<Store>(item.clone())?);
            }
        }
        let units = stock_key
            .and_then(|k| found.get(&k))
            .map(units_by_store)
            .unwrap_or_default();
        Ok((out, units))
    }
}

/// A SKU's store-units item (`W#{sku}`) read as units per store and size.
pub(crate) fn units_by_store(item: &Item) -> BTreeMap<StoreId, BTreeMap<Size, u32>> {
    let mut units: BTreeMap<StoreId, BTreeMap<Size, u32>> = BTreeMap::new();
    for (store, sizes) in map_of(item, "units").into_iter().flatten() {
        let (Ok(store), AttributeValue::M(sizes)) = (StoreId::parse(store), sizes) else {
            continue;
        };
        for (size, n) in sizes {
            if let Ok(size) = Size::parse(size) {
                let n = number(Some(n)).clamp(0, i64::from(u32::MAX)) as u32;
                units.entry(store.clone()).or_default().insert(size, n);
            }
        }
    }
    units
}
