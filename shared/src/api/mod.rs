//! The HTTP routes, one router per function. A function's `main.rs` builds an
//! [`AppState`] once and hands `router(..)` to `lambda_http::run`; the local server
//! merges every function's routes into one router over the same state.

pub mod browse;
pub mod manage;
pub mod openapi;
pub mod orders;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use std::sync::Arc;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::Problem;
use crate::payments::Payments;
use crate::queue::Queue;
use crate::store::Store;

/// Everything a handler needs, built once per process.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<dyn Queue>,
    pub blobs: Arc<dyn Blobs>,
    pub payments: Arc<dyn Payments>,
    pub secrets: Arc<Secrets>,
}

/// Keys from configuration. `Debug` never prints them.
pub struct Secrets {
    /// Signs guides' share links.
    pub share_link: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Adds what every function's router has: body limit, problem fallbacks, state.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not-found", "No such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed on this route",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
