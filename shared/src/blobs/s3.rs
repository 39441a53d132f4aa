//! The S3 adapter.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use std::time::Duration;

use super::{check_key, BlobError, Blobs};

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
        }
    }
}

fn unavailable(e: impl std::error::Error) -> BlobError {
    BlobError::Unavailable(DisplayErrorContext(e).to_string())
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        check_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| BlobError::Unavailable(e.to_string()))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// One GetObject of the first byte rather than a HeadObject: the same operation
    /// every function with a bucket already links (HeadObject's client code would add
    /// tens of KiB to each of them).
    async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        check_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range("bytes=0-0")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("NoSuchKey") => Ok(false),
            // an empty object has no first byte, but it is there
            Err(e) if e.code() == Some("InvalidRange") => Ok(true),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, BlobError> {
        check_key(key)?;
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| BlobError::Unavailable(e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(req.uri().to_string())
    }
}
