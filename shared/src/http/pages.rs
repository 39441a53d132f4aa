//! Public catalog pages, rendered once and served many times: a flash crowd refreshes a
//! products page far more often than it orders. A rendered page is kept for
//! [`FRESH_MS`] per process and sent with an `ETag` and `Cache-Control: max-age`, so a
//! CDN and the buyer's client may keep it [`MAX_AGE_SECONDS`] more, and a client
//! revalidating an unchanged page gets `304 Not Modified`.
//!
//! How stale a page may be: a size sold out just now may still show as available for at
//! most `FRESH_MS + MAX_AGE_SECONDS` (3 s). Nothing is sold from the page: an order
//! re-reads the stock in its own transaction, so a stale page costs a `sold-out`
//! answer, never an oversell.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

use crate::recent::Recent;

/// How long a rendered page is served from the process.
pub const FRESH_MS: i64 = 1_000;
/// How long a CDN or client may reuse it after.
pub const MAX_AGE_SECONDS: u32 = 2;
/// The header saying so (kept in step with [`MAX_AGE_SECONDS`] by a test).
const CACHE_CONTROL: &str = "public, max-age=2";
/// Pages kept at most.
const CAPACITY: usize = 4_096;

#[derive(Clone)]
struct Page {
    etag: HeaderValue,
    body: Bytes,
}

/// Rendered pages by request path and query.
pub struct Pages(Recent<String, Page>);

impl Default for Pages {
    fn default() -> Self {
        Pages(Recent::new(Duration::milliseconds(FRESH_MS), CAPACITY))
    }
}

impl Pages {
    /// The page for `key`: served from the process while fresh, else rendered by
    /// `render` (JSON bytes) and kept. Errors are not kept.
    pub async fn serve<E, F>(
        &self,
        key: String,
        now: DateTime<Utc>,
        request: &HeaderMap,
        render: F,
    ) -> Result<Response, E>
    where
        F: std::future::Future<Output = Result<Vec<u8>, E>>,
    {
        let page = match self.0.get(&key, now) {
            Some(p) => p,
            None => {
                let body = Bytes::from(render.await?);
                let digest = crate::domain::signing::digest(&body);
                let etag = HeaderValue::from_str(&format!("\"{}\"", &digest[..20]))
                    .unwrap_or_else(|_| HeaderValue::from_static("\"-\""));
                let page = Page { etag, body };
                self.0.put(key, page.clone(), now);
                page
            }
        };
        Ok(respond(page, request))
    }
}

fn respond(page: Page, request: &HeaderMap) -> Response {
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == page.etag || t.trim() == "*")
        });
    let (status, body) = if unchanged {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(page.body))
    };
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::ETAG, page.etag);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if !unchanged {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(pages: &Pages, at: DateTime<Utc>, headers: HeaderMap, n: u32) -> Response {
        pages
            .serve::<(), _>("/p".into(), at, &headers, async move {
                Ok(format!("{{\"n\":{n}}}").into_bytes())
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_page_is_rendered_once_while_fresh_and_revalidates_to_304() {
        let pages = Pages::default();
        let now = Utc::now();
        let first = get(&pages, now, HeaderMap::new(), 1).await;
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        assert_eq!(
            first.headers()[header::CACHE_CONTROL],
            format!("public, max-age={MAX_AGE_SECONDS}").as_str()
        );
        // within the second: the same page (the second render is not used)
        let again = get(
            &pages,
            now + chrono::Duration::milliseconds(900),
            HeaderMap::new(),
            2,
        )
        .await;
        assert_eq!(again.headers()[header::ETAG], etag);
        // a client holding it revalidates to 304
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(
            get(&pages, now, h, 3).await.status(),
            StatusCode::NOT_MODIFIED
        );
        // after it, a fresh render (a different body, a different tag)
        let later = get(
            &pages,
            now + chrono::Duration::milliseconds(1_000),
            HeaderMap::new(),
            4,
        )
        .await;
        assert_ne!(later.headers()[header::ETAG], etag);
    }
}
