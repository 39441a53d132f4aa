//! `manage-campaign`: the operators' side. Campaigns, stores, guides, listings with
//! stock per size per store, slots, coupon templates, publish. Writes are for ops,
//! brand admins and hq of the tenant, reads for its staff; the check runs before the
//! body is read and before any write.

pub mod campaigns;
pub mod listings;
pub mod stores;

use axum::routing::{get, post, put};
use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    use campaigns::*;
    use listings::*;
    use stores::*;
    Router::new()
        .route("/v1/{brand}/{group}/campaigns", post(create_campaign))
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}",
            get(read_campaign).put(update_campaign),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/slots",
            put(put_slots),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}",
            get(read_listing).put(put_listing),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons",
            get(list_coupons),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}",
            put(put_coupon),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/publish",
            post(publish),
        )
        .route("/v1/{brand}/{group}/stores", get(list_stores))
        .route("/v1/{brand}/{group}/stores/{store}", put(put_store))
        .route("/v1/{brand}/{group}/guides", get(list_guides))
        .route("/v1/{brand}/{group}/guides/{guide}", put(put_guide))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    campaigns::create_campaign,
    campaigns::read_campaign,
    campaigns::update_campaign,
    campaigns::put_slots,
    campaigns::publish,
    listings::put_listing,
    listings::read_listing,
    listings::put_coupon,
    listings::list_coupons,
    stores::put_store,
    stores::list_stores,
    stores::put_guide,
    stores::list_guides,
))]
pub struct Doc;
