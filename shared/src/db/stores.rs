//! The tenant's stores and guides.

use super::campaigns::KIND;
use super::page::Paged;
use serde::Deserialize;

use super::Db;
use crate::domain::catalog::{Guide, Store};
use crate::domain::ids::{StoreId, UserId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, to_item, Condition, Index, Key, Query, SortRange, TableError, Write, PK, SK,
};

/// What most functions need of a store: who clerks it and where returns go. Read
/// instead of the whole [`Store`], so the functions that only check a clerk or address a
/// return do not carry the code that reads its hours, slots and rider (every function
/// has a 4 MiB budget).
#[derive(Deserialize)]
pub struct StoreCounter {
    pub id: StoreId,
    #[serde(default)]
    pub clerks: Vec<UserId>,
    pub address: crate::domain::catalog::Address,
}

impl Db {
    /// The stores among `ids` whose clerks include `user`. 1 BatchGetItem per 100
    /// stores (one in practice: an order has a parcel or two).
    pub async fn stores_clerked_by(
        &self,
        t: &Tenant,
        ids: &[StoreId],
        user: &UserId,
    ) -> Result<Vec<StoreId>> {
        let mut wanted: Vec<Key> = ids
            .iter()
            .map(|s| Key::new(keys::tenant_pk(t), keys::store_sk(s)))
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut mine = Vec::new();
        for item in self.batch_get_all(&wanted, false).await? {
            let store: StoreCounter = from_item(item)?;
            if store.clerks.contains(user) {
                mine.push(store.id);
            }
        }
        mine.sort();
        Ok(mine)
    }

    /// 1 GetItem.
    pub async fn guide(&self, t: &Tenant, id: &crate::domain::ids::GuideId) -> Result<Guide> {
        let item = self
            .table
            .get(&Key::new(keys::tenant_pk(t), keys::guide_sk(id)), false)
            .await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "guide" })?,
        )?)
    }

    /// The store, and its store group registered with its brand (for members who follow
    /// the whole brand). 1 TransactWriteItems.
    pub async fn put_store(&self, t: &Tenant, shop: &Store) -> Result<()> {
        let item = to_item(
            shop,
            &[
                (PK, keys::tenant_pk(t)),
                (SK, keys::store_sk(&shop.id)),
                (KIND, "store".into()),
            ],
        )?;
        let group = to_item(
            &serde_json::json!({"brand": t.brand.as_str(), "group": t.group.as_str()}),
            &[
                (PK, keys::brand_pk(&t.brand)),
                (SK, keys::brand_group_sk(&t.group)),
            ],
        )?;
        Ok(self
            .table
            .transact(vec![
                crate::table::Write::Put {
                    item,
                    condition: None,
                },
                crate::table::Write::Put {
                    item: group,
                    condition: None,
                },
            ])
            .await?)
    }

    /// 1 GetItem.
    pub async fn store(&self, t: &Tenant, id: &StoreId) -> Result<Store> {
        let item = self
            .table
            .get(&Key::new(keys::tenant_pk(t), keys::store_sk(id)), false)
            .await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "store" })?,
        )?)
    }

    /// A page of the tenant's stores, by id. 1 Query.
    pub async fn stores_page(
        &self,
        t: &Tenant,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Store>> {
        let q = Query::new(
            Index::Primary,
            keys::tenant_pk(t),
            SortRange::BeginsWith(keys::STORE_PREFIX.into()),
        );
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }

    /// Every store of the tenant. 1 Query per 1 MB page.
    pub async fn stores(&self, t: &Tenant) -> Result<Vec<Store>> {
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

    /// A page of the tenant's guides, by id. 1 Query.
    pub async fn guides_page(
        &self,
        t: &Tenant,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Guide>> {
        let q = Query::new(
            Index::Primary,
            keys::tenant_pk(t),
            SortRange::BeginsWith(keys::GUIDE_PREFIX.into()),
        );
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }

    /// Every guide of the tenant. 1 Query per 1 MB page.
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
}
