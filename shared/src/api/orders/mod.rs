//! `place-order`: checkout preview, placing an order (idempotent by `Idempotency-Key`),
//! coupons, payment confirmation, reading orders, and pickup at the counter. One file
//! per use case; this one routes them.

pub mod coupons;
pub mod payment;
pub mod pickup;
pub mod place;
pub mod read;

use crate::app::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use payment::{settle, NotifyResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place::preview))
        .routes(routes!(place::place, read::staff_orders))
        .routes(routes!(read::read_order))
        .routes(routes!(pickup::pickup))
        .routes(routes!(coupons::claim_coupon))
        .routes(routes!(read::my_orders))
        .routes(routes!(coupons::my_coupons))
        .routes(routes!(payment::payment_notify))
}

pub fn router(state: AppState) -> axum::Router {
    super::finish(routes(), state)
}
