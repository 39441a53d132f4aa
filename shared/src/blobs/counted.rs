//! A [`Blobs`] decorator that counts calls (S3: GetObject, the ranged GetObject that asks whether a blob is there, PutObject), so
//! the local server and the benchmark can state how many S3 requests a route makes.
//! Presigning is local work, not a request, and is not counted.

use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{BlobError, Blobs};

#[derive(Debug, Default)]
pub struct BlobCounts {
    pub get: AtomicU64,
    pub head: AtomicU64,
    pub put: AtomicU64,
}

impl BlobCounts {
    /// (reads, existence checks, writes) so far.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.get.load(Ordering::SeqCst),
            self.head.load(Ordering::SeqCst),
            self.put.load(Ordering::SeqCst),
        )
    }
}

pub struct CountedBlobs {
    inner: Arc<dyn Blobs>,
    counts: Arc<BlobCounts>,
}

impl CountedBlobs {
    pub fn new(inner: Arc<dyn Blobs>) -> (Self, Arc<BlobCounts>) {
        let counts = Arc::new(BlobCounts::default());
        (
            CountedBlobs {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

#[async_trait]
impl Blobs for CountedBlobs {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.counts.put.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.counts.get.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        self.counts.head.fetch_add(1, Ordering::SeqCst);
        self.inner.exists(key).await
    }
    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, BlobError> {
        self.inner.presign_get(key, expires_in).await
    }
}
