//! The HTTP routes, one router per function. A function's `main.rs` builds an
//! [`AppState`] once and hands `router(..)` to `lambda_http::run`; the local server
//! merges every function's routes into one router over the same state.

pub mod assists;
pub mod attribution;
pub mod browse;
pub mod close;
pub mod groups;
pub mod manage;
pub mod members;
pub mod openapi;
pub mod orders;
pub mod parcels;
pub mod posters;
pub mod refunds;
pub mod search;
pub mod visits;

use crate::http::extract::MAX_BODY_BYTES;
use crate::http::Problem;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Adds what every function's router has: body limit, problem fallbacks, state.
pub fn finish(routes: OpenApiRouter<AppState>, state: AppState) -> Router {
    Router::from(routes)
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
