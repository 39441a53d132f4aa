//! The Blobs port: S3 in production ([`s3::S3Blobs`]), a local directory otherwise
//! ([`local::DirBlobs`]). Reports and return authorisations are served by presigned URL.

pub mod counted;
pub mod local;
pub mod s3;

use async_trait::async_trait;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlobError {
    #[error("invalid blob key: {0}")]
    InvalidKey(String),
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// Blob keys are built by us from ids, never taken from a request as they are.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.to_owned()))
    }
}

#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Whether the blob is there, without reading it (S3: one ranged GetObject).
    async fn exists(&self, key: &str) -> Result<bool, BlobError>;
    /// A URL that lets its holder read the blob until it expires.
    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, BlobError>;
}

/// The blob store of a function that stores nothing: every call says so.
pub struct Unconfigured;

#[async_trait]
impl Blobs for Unconfigured {
    async fn put(&self, _key: &str, _body: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        Err(BlobError::Unavailable(
            "no bucket configured for this function".into(),
        ))
    }
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        Err(BlobError::Unavailable(
            "no bucket configured for this function".into(),
        ))
    }
    async fn exists(&self, _key: &str) -> Result<bool, BlobError> {
        Err(BlobError::Unavailable(
            "no bucket configured for this function".into(),
        ))
    }
    async fn presign_get(&self, _key: &str, _expires_in: Duration) -> Result<String, BlobError> {
        Err(BlobError::Unavailable(
            "no bucket configured for this function".into(),
        ))
    }
}
