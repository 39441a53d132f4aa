//! The typed reads and writes of each use case, written once over the [`Table`] port.
//!
//! Each file is one use case's persistence: it reads one snapshot, hands it to a pure
//! decision in `domain`, and writes the plan that comes back (one conditional write or
//! one transaction). A write that loses a race goes round again through [`retry`].

pub mod appointments;
pub mod assists;
pub mod attribution;
pub mod campaigns;
pub mod catalog;
pub mod groups;
pub mod listings;
pub mod members;
pub mod orders;
pub mod outbox;
pub mod page;
pub mod posters;
pub mod refunds;
pub mod retry;
pub mod search;
pub mod store_finder;
pub mod stores;
pub mod timers;
pub mod visits;

use std::collections::HashMap;
use std::sync::Arc;

use crate::table::{Item, Key, Table, TableError};

/// The most keys one BatchGetItem takes.
const BATCH_KEYS: usize = 100;

/// The typed persistence facade: every use case's reads and writes over one [`Table`].
#[derive(Clone)]
pub struct Db {
    table: Arc<dyn Table>,
    heads: Arc<catalog::HeadCache>,
    catalogues: Arc<search::CatalogueCache>,
}

impl Db {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Db {
            table,
            heads: Arc::new(catalog::HeadCache::default()),
            catalogues: Arc::new(search::CatalogueCache::default()),
        }
    }

    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    /// The items of `keys` that exist: 1 BatchGetItem per hundred keys.
    pub(crate) async fn batch_get_all(
        &self,
        keys: &[Key],
        consistent: bool,
    ) -> Result<Vec<Item>, TableError> {
        let mut items = Vec::new();
        for chunk in keys.chunks(BATCH_KEYS) {
            items.extend(self.table.batch_get(chunk, consistent).await?);
        }
        Ok(items)
    }

    /// [`Db::batch_get_all`], each item under its key.
    pub(crate) async fn batch_get_map(
        &self,
        keys: &[Key],
        consistent: bool,
    ) -> Result<HashMap<Key, Item>, TableError> {
        Ok(self
            .batch_get_all(keys, consistent)
            .await?
            .into_iter()
            .filter_map(|item| Key::of(&item).map(|k| (k, item)))
            .collect())
    }
}
