//! The HTTP client every AWS SDK client sends through: HTTP/1.1 over rustls (ring),
//! pooled by hyper, the stack the refund API client already links.
//!
//! The SDK's own client (`aws-smithy-http-client`) brings an HTTP/2 stack and a pool of
//! its own that DynamoDB, SQS and S3 never use from a Lambda: about 300 KiB of every
//! binary. This is the SDK's documented extension point ([`HttpClient`]); requests,
//! signing, retries and timeouts stay the SDK's. The TLS configuration is built on the
//! first request, so a cold start parses no certificate.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::{connect::HttpConnector as Tcp, Client};
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::{pem::PemObject, CertificateDer};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Https = hyper_rustls::HttpsConnector<Tcp>;
type Pool = Client<Https, SdkBody>;

/// The SDK's default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// Which certificate authorities the client trusts.
#[derive(Clone, Copy, Debug)]
pub enum Roots {
    /// Only these PEM certificates (the roots AWS endpoints chain to).
    Pem(&'static [u8]),
    /// The system's store: for a custom https endpoint (a proxy, a test server).
    System,
}

/// An [`HttpClient`] for the SDK: one connection pool shared by every client built
/// from the same configuration.
#[derive(Clone, Debug)]
pub struct Http1Client {
    roots: Roots,
    pool: Arc<OnceLock<Result<Pool, String>>>,
}

impl Http1Client {
    pub fn new(roots: Roots) -> Self {
        Http1Client {
            roots,
            pool: Arc::new(OnceLock::new()),
        }
    }

    fn pool(&self) -> Result<Pool, ConnectorError> {
        self.pool
            .get_or_init(|| build_pool(self.roots))
            .clone()
            .map_err(|e| ConnectorError::other(e.into(), None))
    }
}

fn build_pool(roots: Roots) -> Result<Pool, String> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match roots {
        Roots::System => builder
            .with_native_roots()
            .map_err(|e| format!("no CA roots in the system store: {e}"))?,
        Roots::Pem(pem) => {
            let mut store = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("embedded CA roots unreadable: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("embedded CA root refused: {e}"))?;
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(store)
            .with_no_client_auth();
            builder.with_tls_config(config)
        }
    };
    let mut tcp = Tcp::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = builder.https_or_http().enable_http1().wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl HttpClient for Http1Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Http1Connector {
            client: self.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Http1Connector {
    client: Http1Client,
    /// Time allowed for the response head once the request is sent.
    read_timeout: Option<Duration>,
}

impl HttpConnector for Http1Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let pool = self.client.pool();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let pool = pool?;
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let sent = pool.request(request);
            let response = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, sent).await.map_err(|_| {
                    ConnectorError::timeout(format!("no response within {limit:?}").into())
                })?,
                None => sent.await,
            }
            .map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// Tells the SDK's retry strategy which failures are worth another attempt: a refused
/// or dropped connection is; a malformed request is not.
fn classify(e: hyper_util::client::legacy::Error) -> ConnectorError {
    if e.is_connect() {
        return ConnectorError::io(e.into());
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return ConnectorError::timeout(e.into());
            }
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return ConnectorError::io(e.into());
            }
            if h.is_user() {
                return ConnectorError::user(e.into());
            }
        }
        if s.downcast_ref::<std::io::Error>().is_some() {
            return ConnectorError::io(e.into());
        }
        source = s.source();
    }
    ConnectorError::other(e.into(), Some(ErrorKind::TransientError))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_aws_roots_make_a_tls_client() {
        // given the roots compiled into every function, when the pool is built, then
        // every certificate parses and rustls accepts the configuration
        let client = Http1Client::new(Roots::Pem(super::super::AWS_ROOTS));
        assert!(client.pool().is_ok());
    }

    #[test]
    fn unreadable_roots_fail_the_request_not_the_process() {
        let pem: &'static [u8] =
            b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
        assert!(Http1Client::new(Roots::Pem(pem)).pool().is_err());
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        // given nothing listening on the port
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let connector = Http1Connector {
            client: Http1Client::new(Roots::Pem(super::super::AWS_ROOTS)),
            read_timeout: Some(Duration::from_secs(5)),
        };
        // when a request is sent there
        let request = HttpRequest::get(format!("http://127.0.0.1:{port}/")).unwrap();
        let err = connector.call(request).await.unwrap_err();
        // then the SDK sees a transient I/O failure, which its retry strategy retries
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn a_response_that_never_comes_is_a_timeout() {
        // given a server that accepts and never answers
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(socket);
        });
        let connector = Http1Connector {
            client: Http1Client::new(Roots::Pem(super::super::AWS_ROOTS)),
            read_timeout: Some(Duration::from_millis(200)),
        };
        // when a request is sent
        let err = connector
            .call(HttpRequest::get(format!("http://{addr}/")).unwrap())
            .await
            .unwrap_err();
        // then the read timeout ends it as a timeout
        assert!(err.is_timeout(), "{err:?}");
        held.abort();
    }
}
