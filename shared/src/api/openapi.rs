//! The OpenAPI document, generated from the handlers' annotations: the HTTP contract's
//! single source of truth (served by the local server at `/openapi.json`, and checked in
//! as `infra/openapi.json`, which a test keeps in step).

use utoipa::OpenApi;

use super::{browse, manage, orders};

#[derive(OpenApi)]
#[openapi(
    info(title = "Clearance API", description = "End-of-season clearance campaigns: browse, manage, order."),
    paths(
        manage::create_campaign, manage::read_campaign, manage::update_campaign, manage::put_slots,
        manage::put_listing, manage::read_listing, manage::put_coupon, manage::list_coupons, manage::publish,
        manage::put_store, manage::list_stores, manage::put_guide, manage::list_guides,
        browse::live_campaigns, browse::products, browse::product,
        orders::preview, orders::place, orders::read_order, orders::pickup, orders::claim_coupon,
        orders::my_orders, orders::my_coupons, orders::payment_notify,
    ),
    tags((name = "manage-campaign", description = "Operators: campaigns, stores, guides, listings, coupons"),
         (name = "browse-catalog", description = "Buyers: live campaigns and products"),
         (name = "place-order", description = "Buyers: coupons, checkout, orders, payment; clerks: pickup"))
)]
pub struct ApiDoc;

/// The document as pretty JSON.
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}
