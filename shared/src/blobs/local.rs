//! Blobs in a local directory, for the local server and tests.

use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;

use super::{check_key, BlobError, Blobs};

pub struct DirBlobs {
    root: PathBuf,
}

impl DirBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirBlobs { root: root.into() }
    }
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

#[async_trait]
impl Blobs for DirBlobs {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        check_key(key)?;
        let path = self.root.join(key);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // Write then rename, so a reader never sees half a report.
        let tmp = path.with_extension("partial");
        tokio::fs::write(&tmp, body).await.map_err(io)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        check_key(key)?;
        match tokio::fs::read(self.root.join(key)).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn presign_get(&self, key: &str, _expires_in: Duration) -> Result<String, BlobError> {
        check_key(key)?;
        let abs = std::path::absolute(self.root.join(key)).map_err(io)?;
        Ok(format!("file://{}", abs.display()))
    }
}
