//! Building AWS clients once, outside the handler, with no network at init.
//!
//! One TLS stack (rustls over ring) is chosen here rather than by SDK default features,
//! which keeps the C build of aws-lc out of every binary. `AWS_ENDPOINT_URL` (honoured by
//! `aws-config`) points every client at a local wire-protocol server such as
//! `moto_server`.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;
use std::sync::Arc;

use crate::blobs::{s3::S3Blobs, Blobs};
use crate::queue::{sqs::SqsQueue, Queue, QueueName};
use crate::store::{dynamo::DynamoTable, Table};

/// Loads the shared SDK configuration (region and credentials from the environment).
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Reads a required environment variable, with a message that says which one.
pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

pub fn table(sdk: &SdkConfig, name: &str) -> Arc<dyn Table> {
    Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), name))
}

/// Queue URLs from `{NAME}_QUEUE_URL` variables; a missing one is only an error when
/// that queue is used.
pub fn queue(sdk: &SdkConfig) -> Arc<dyn Queue> {
    let urls = QueueName::ALL
        .iter()
        .filter_map(|q| std::env::var(q.env_var()).ok().map(|url| (*q, url)))
        .collect();
    Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), urls))
}

pub fn blobs(sdk: &SdkConfig, bucket: &str) -> Arc<dyn Blobs> {
    // Local servers (moto) serve buckets by path, not by virtual host.
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    Arc::new(S3Blobs::new(aws_sdk_s3::Client::from_conf(conf), bucket))
}

/// The state a Lambda function runs with, from its environment: `TABLE_NAME`, the
/// `*_QUEUE_URL`s it uses, `BUCKET_NAME` if it writes blobs. No network at init: the SDK
/// clients connect on first use.
pub async fn app_state_from_env() -> Result<crate::api::AppState, String> {
    let sdk = sdk_config(None).await;
    let table_name = env("TABLE_NAME")?;
    let bucket = std::env::var("BUCKET_NAME").unwrap_or_default();
    // Secrets arrive as environment variables resolved at deploy time; a function that
    // does not use one runs without it (its routes refuse what needs it).
    let secret = |name: &str| std::env::var(name).unwrap_or_default().into_bytes();
    Ok(crate::api::AppState {
        store: crate::store::Store::new(table(&sdk, &table_name)),
        clock: Arc::new(crate::clock::SystemClock),
        queue: queue(&sdk),
        blobs: blobs(&sdk, &bucket),
        payments: Arc::new(crate::payments::WebhookProvider {
            name: std::env::var("PAYMENT_PROVIDER").unwrap_or_else(|_| "wechat-pay".into()),
            secret: secret("PAYMENT_WEBHOOK_SECRET"),
        }),
        secrets: Arc::new(crate::api::Secrets {
            share_link: secret("SHARE_LINK_SECRET"),
        }),
    })
}

/// SDK configuration for a local wire-protocol server (moto_server, DynamoDB Local):
/// fixed dummy credentials and a default region, so no AWS account is involved.
pub async fn local_sdk_config(endpoint_url: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(endpoint_url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "clearance-local",
        ))
        .load()
        .await
}
