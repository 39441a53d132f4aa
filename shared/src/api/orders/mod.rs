//! `place-order`: checkout preview, placing an order (idempotent by `Idempotency-Key`),
//! coupons, payment confirmation, reading orders, and pickup at the counter. One file
//! per use case; this one routes them.

pub mod coupons;
pub mod payment;
pub mod pickup;
pub mod place;
pub mod read;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use payment::{settle, NotifyResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/{brand}/{group}/orders/preview", post(place::preview))
        .route(
            "/v1/{brand}/{group}/orders",
            post(place::place).get(read::staff_orders),
        )
        .route("/v1/{brand}/{group}/orders/{order}", get(read::read_order))
        .route(
            "/v1/{brand}/{group}/orders/{order}/pickup",
            post(pickup::pickup),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}/claim",
            post(coupons::claim_coupon),
        )
        .route("/v1/me/orders", get(read::my_orders))
        .route("/v1/me/coupons", get(coupons::my_coupons))
        .route("/v1/payments/notify", post(payment::payment_notify))
}

pub fn router(state: AppState) -> axum::Router {
    super::finish(routes(), state)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    place::preview,
    place::place,
    read::staff_orders,
    read::read_order,
    read::my_orders,
    pickup::pickup,
    coupons::claim_coupon,
    coupons::my_coupons,
    payment::payment_notify,
))]
pub struct Doc;
