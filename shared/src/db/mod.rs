//! The typed reads and writes of each use case, written once over the [`Table`] port.
//!
//! Each file is one use case's persistence: it reads one snapshot, hands it to a pure
//! decision in `domain`, and writes the plan that comes back (one conditional write or
//! one transaction). A write that loses a race goes round again through [`retry`].

pub mod attribution;
pub mod campaigns;
pub mod catalog;
pub mod close;
pub mod groups;
pub mod listings;
pub mod orders;
pub mod page;
pub mod refunds;
pub mod retry;
pub mod stores;
pub mod timers;

use std::sync::Arc;

use crate::table::Table;

/// The typed persistence facade: every use case's reads and writes over one [`Table`].
#[derive(Clone)]
pub struct Db {
    table: Arc<dyn Table>,
    heads: Arc<catalog::HeadCache>,
}

impl Db {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Db {
            table,
            heads: Arc::new(catalog::HeadCache::default()),
        }
    }

    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }
}
