//! `join-group`: opening a group buy with the opener's order, joining one with the
//! joiner's order (both the place-order path: same pricing, stock, coupons, share links
//! and idempotency, at the group price), and reading groups: one (anyone with its link),
//! a campaign's open groups of a product (fullest first), a buyer's own.

pub mod join;
pub mod read;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/groups",
            post(join::open_group).get(read::open_groups),
        )
        .route(
            "/v1/{brand}/{group}/groups/{group_buy}/join",
            post(join::join_group),
        )
        .route(
            "/v1/{brand}/{group}/groups/{group_buy}",
            get(read::read_group),
        )
        .route("/v1/me/groups", get(read::my_groups))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    join::open_group,
    join::join_group,
    read::read_group,
    read::open_groups,
    read::my_groups,
))]
pub struct Doc;
