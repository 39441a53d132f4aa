//! Blobs in a local directory, for the local server and tests.

use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;

use super::{check_key, BlobError, Blobs};

pub struct DirBlobs {
    root: PathBuf,
    /// Where a server serves this directory, and the key its links are signed with.
    served: Option<(String, Vec<u8>)>,
}

impl DirBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirBlobs {
            root: root.into(),
            served: None,
        }
    }

    /// Presigned links point at `{base}/{key}?expires=..&signature=..` (the local
    /// server's `/dev/blobs`), signed with `secret` the way S3 signs its own.
    pub fn served_at(mut self, base: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.served = Some((base.into(), secret.into()));
        self
    }

    /// Checks a link this store signed: the right key, not expired.
    pub fn verify_link(&self, key: &str, expires: i64, signature: &str, now: i64) -> bool {
        match &self.served {
            Some((_, secret)) => {
                now <= expires
                    && crate::domain::signing::verify_body(
                        secret,
                        format!("{key}|{expires}").as_bytes(),
                        Some(signature),
                    )
                    .is_ok()
            }
            None => false,
        }
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
        // Write then rename, so a reader never sees half a report; the temporary name is
        // unique, so two writers of one key (a step run twice at once) never collide.
        let tmp = path.with_extension(format!("partial-{}", ulid::Ulid::new()));
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

    async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        check_key(key)?;
        tokio::fs::try_exists(self.root.join(key)).await.map_err(io)
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, BlobError> {
        check_key(key)?;
        match &self.served {
            Some((base, secret)) => {
                let expires = chrono::Utc::now().timestamp() + expires_in.as_secs() as i64;
                let signature = crate::domain::signing::sign_body(
                    secret,
                    format!("{key}|{expires}").as_bytes(),
                );
                let signature = signature.trim_start_matches("sha256=");
                Ok(format!(
                    "{base}/{key}?expires={expires}&signature=sha256%3D{signature}"
                ))
            }
            None => {
                let abs = std::path::absolute(self.root.join(key)).map_err(io)?;
                Ok(format!("file://{}", abs.display()))
            }
        }
    }
}
