//! `join-group`: opening a group buy with the opener's order, joining one with the
//! joiner's order (both the place-order path: same pricing, stock, coupons, share links
//! and idempotency, at the group price), and reading groups: one (anyone with its link),
//! a campaign's open groups of a product (fullest first), a buyer's own.

pub mod join;
pub mod read;

use axum::Router;

use crate::app::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join::open_group, read::open_groups))
        .routes(routes!(join::join_group))
        .routes(routes!(read::read_group))
        .routes(routes!(read::my_groups))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}
