//! Building AWS clients once, outside the handler, with no network and no probing at
//! init.
//!
//! The SDK configuration is assembled by hand rather than by `aws_config::load()`: a
//! Lambda function always has its region and credentials in the environment, so the
//! default provider chain (profiles, SSO, STS web identity, IMDS) would only add cold
//! start work and megabytes. One TLS stack (rustls over ring, in [`connector`]) keeps aws-lc's
//! C build out of every binary. `AWS_ENDPOINT_URL` points every client at a
//! local wire-protocol server such as `moto_server`. Each function's `main.rs` asks only
//! for the clients it uses, so a function that never touches S3 links no S3 code.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use std::sync::Arc;

pub mod connector;
use connector::{Http1Client, Roots};

use crate::app::{AppState, Secrets};
use crate::blobs::{s3::S3Blobs, Blobs};
use crate::db::Db;
use crate::queue::{sqs::SqsQueue, Queue, QueueName};
use crate::table::{dynamo::DynamoTable, Table};

/// The roots AWS endpoints chain to. Parsing five certificates instead of the system's
/// whole CA store (about 150 files) takes most of the work out of a cold start.
const AWS_ROOTS: &[u8] = include_bytes!("../../certs/aws-roots.pem");

fn build(
    region: String,
    credentials: SharedCredentialsProvider,
    endpoint_url: Option<String>,
) -> SdkConfig {
    // A custom https endpoint (a proxy, a test server) may use any CA: trust the
    // system's. AWS itself, and plain-http local servers, need only the AWS roots.
    let custom_tls = endpoint_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let http = Http1Client::new(if custom_tls {
        Roots::System
    } else {
        Roots::Pem(AWS_ROOTS)
    });
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(credentials)
        .http_client(http)
        .sleep_impl(TokioSleep::new())
        .time_source(SystemTimeSource::new())
        .retry_config(RetryConfig::standard());
    if let Some(url) = endpoint_url {
        b = b.endpoint_url(url);
    }
    b.build()
}

/// The SDK configuration of a Lambda function: `AWS_REGION` and the credentials the
/// runtime puts in the environment, `AWS_ENDPOINT_URL` if set.
pub fn sdk_config_from_env() -> SdkConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let credentials = SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new());
    build(
        region,
        credentials,
        std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    )
}

/// SDK configuration for a local wire-protocol server (moto_server, DynamoDB Local):
/// fixed dummy credentials and a default region, so no AWS account is involved.
pub fn local_sdk_config(endpoint_url: &str) -> SdkConfig {
    let credentials = SharedCredentialsProvider::new(Credentials::new(
        "local",
        "local",
        None,
        None,
        "clearance-local",
    ));
    build(
        "us-east-1".into(),
        credentials,
        Some(endpoint_url.to_owned()),
    )
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
    sqs_queue(sdk)
}

/// The SQS adapter itself, which can also receive (for a local server's consumers).
pub fn sqs_queue(sdk: &SdkConfig) -> Arc<SqsQueue> {
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

/// The state every function starts from: the table (`TABLE_NAME`), the clock, the
/// payment provider and secrets from the environment. Queues and blobs start
/// unconfigured; a function that needs them adds them with [`with_queue`] /
/// [`with_blobs`].
pub fn app_state(sdk: &SdkConfig) -> Result<AppState, String> {
    let table_name = env("TABLE_NAME")?;
    // Secrets arrive as environment variables resolved at deploy time. An unset one
    // verifies nothing (see `domain::signing`), so it fails closed.
    let secret = |name: &str| std::env::var(name).unwrap_or_default().into_bytes();
    Ok(AppState {
        db: Db::new(table(sdk, &table_name)),
        clock: Arc::new(crate::clock::SystemClock),
        queue: Arc::new(crate::queue::Unconfigured),
        blobs: Arc::new(crate::blobs::Unconfigured),
        payments: Arc::new(crate::payments::WebhookProvider {
            name: std::env::var("PAYMENT_PROVIDER").unwrap_or_else(|_| "wechat-pay".into()),
            secret: secret("PAYMENT_WEBHOOK_SECRET"),
            refunds: None,
        }),
        secrets: Arc::new(Secrets {
            share_link: secret("SHARE_LINK_SECRET"),
            share_base: std::env::var("SHARE_LINK_BASE")
                .unwrap_or_else(|_| "https://m.clearance.example".into()),
        }),
        membership: Arc::new(crate::membership::Unconfigured),
        couriers: Arc::new(crate::couriers::Unconfigured),
        phones: Arc::new(crate::phones::PhoneVault::new(&secret("MEMBER_PHONE_KEY"))),
        pages: Default::default(),
    })
}

/// The group's CRM (`CRM_API_URL`, requests signed with `CRM_API_SECRET`) and a phone
/// key that must be set (`MEMBER_PHONE_KEY`, the stack's secret): for member-center,
/// the one function that binds phones. Builds no connection until the first binding.
pub fn with_membership(state: AppState) -> Result<AppState, String> {
    let key = env("MEMBER_PHONE_KEY")?;
    if key.len() < 32 {
        return Err("MEMBER_PHONE_KEY is shorter than 32 characters".into());
    }
    let api = crate::membership::http::HttpMembership::new(
        env("CRM_API_URL")?,
        std::env::var("CRM_API_SECRET")
            .unwrap_or_default()
            .into_bytes(),
    );
    Ok(AppState {
        membership: Arc::new(api),
        phones: Arc::new(crate::phones::PhoneVault::new(key.as_bytes())),
        ..state
    })
}

/// The courier aggregator (`COURIER_API_URL`, requests signed with
/// `COURIER_API_SECRET`, pushes verified with `COURIER_PUSH_SECRET`, delivered to
/// `COURIER_CALLBACK_URL`): for the functions that hand parcels over, follow them and
/// receive their tracks. Builds no connection until the first call.
pub fn with_couriers(state: AppState) -> Result<AppState, String> {
    let secret = |name: &str| std::env::var(name).unwrap_or_default().into_bytes();
    let api = crate::couriers::http::HttpCouriers::new(
        env("COURIER_API_URL")?,
        secret("COURIER_API_SECRET"),
        secret("COURIER_PUSH_SECRET"),
        std::env::var("COURIER_CALLBACK_URL").unwrap_or_default(),
    );
    Ok(AppState {
        couriers: Arc::new(api),
        ..state
    })
}

pub fn with_queue(state: AppState, sdk: &SdkConfig) -> AppState {
    AppState {
        queue: queue(sdk),
        ..state
    }
}

/// The payment provider with its refund API (`PAYMENT_API_URL`, requests signed with
/// `PAYMENT_API_SECRET`): for the refund worker, the one function that asks for money
/// back. Builds no connection until the first refund.
pub fn with_refund_api(state: AppState) -> Result<AppState, String> {
    let secret = |name: &str| std::env::var(name).unwrap_or_default().into_bytes();
    let api = crate::payments::http::HttpRefundApi::new(
        env("PAYMENT_API_URL")?,
        secret("PAYMENT_API_SECRET"),
    );
    Ok(AppState {
        payments: Arc::new(crate::payments::WebhookProvider {
            name: std::env::var("PAYMENT_PROVIDER").unwrap_or_else(|_| "wechat-pay".into()),
            secret: secret("PAYMENT_WEBHOOK_SECRET"),
            refunds: Some(Arc::new(api)),
        }),
        ..state
    })
}

pub fn with_blobs(state: AppState, sdk: &SdkConfig) -> Result<AppState, String> {
    Ok(AppState {
        blobs: blobs(sdk, &env("BUCKET_NAME")?),
        ..state
    })
}
