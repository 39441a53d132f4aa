//! `manage-campaign`: the operators' side. Campaigns, stores, guides, listings with
//! stock per size per store, slots, coupon templates, publish. Writes are for ops,
//! brand admins and hq of the tenant, reads for its staff; the check runs before the
//! body is read and before any write.

pub mod assist_offers;
pub mod campaigns;
pub mod listings;
pub mod poster_copy;
pub mod search_terms;
pub mod stores;

use axum::Router;

use crate::app::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    use assist_offers::*;
    use campaigns::*;
    use listings::*;
    use poster_copy::*;
    use search_terms::*;
    use stores::*;
    OpenApiRouter::new()
        .routes(routes!(create_campaign))
        .routes(routes!(read_campaign, update_campaign))
        .routes(routes!(put_slots))
        .routes(routes!(read_listing, put_listing))
        .routes(routes!(list_coupons))
        .routes(routes!(put_coupon))
        .routes(routes!(publish))
        .routes(routes!(list_stores))
        .routes(routes!(put_store))
        .routes(routes!(list_guides))
        .routes(routes!(put_guide))
        .routes(routes!(search_terms, put_search_terms))
        .routes(routes!(poster_copy, put_poster_copy))
        .routes(routes!(list_offers))
        .routes(routes!(put_offer))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}
