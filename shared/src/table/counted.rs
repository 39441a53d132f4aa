//! A [`Table`] decorator that counts calls, so tests and benchmarks can state (and
//! assert) how many DynamoDB requests a route makes.

use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{Condition, Item, Key, Page, Query, Table, TableError, Write};

#[derive(Debug, Default)]
pub struct Counts {
    pub get: AtomicU64,
    pub batch_get: AtomicU64,
    pub put: AtomicU64,
    pub query: AtomicU64,
    pub transact: AtomicU64,
}

/// A snapshot of [`Counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallCount {
    pub get: u64,
    pub batch_get: u64,
    pub put: u64,
    pub query: u64,
    pub transact: u64,
}

impl CallCount {
    pub fn total(&self) -> u64 {
        self.get + self.batch_get + self.put + self.query + self.transact
    }
}

pub struct Counted {
    inner: Arc<dyn Table>,
    counts: Arc<Counts>,
}

impl Counted {
    pub fn new(inner: Arc<dyn Table>) -> (Self, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        (
            Counted {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

impl Counts {
    pub fn snapshot(&self) -> CallCount {
        CallCount {
            get: self.get.load(Ordering::SeqCst),
            batch_get: self.batch_get.load(Ordering::SeqCst),
            put: self.put.load(Ordering::SeqCst),
            query: self.query.load(Ordering::SeqCst),
            transact: self.transact.load(Ordering::SeqCst),
        }
    }

    /// Calls made since `before`.
    pub fn since(&self, before: CallCount) -> CallCount {
        let now = self.snapshot();
        CallCount {
            get: now.get - before.get,
            batch_get: now.batch_get - before.batch_get,
            put: now.put - before.put,
            query: now.query - before.query,
            transact: now.transact - before.transact,
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl Table for Counted {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        bump(&self.counts.get);
        self.inner.get(key, consistent).await
    }
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        bump(&self.counts.batch_get);
        self.inner.batch_get(keys, consistent).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        bump(&self.counts.put);
        self.inner.put(item, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, TableError> {
        bump(&self.counts.query);
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        bump(&self.counts.transact);
        self.inner.transact(writes).await
    }
}
