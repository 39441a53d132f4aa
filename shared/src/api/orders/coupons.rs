//! Claiming coupons and a buyer's coupons.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::coupon::BuyerCoupon;
use crate::domain::ids::{CampaignId, CouponTemplateId};
use crate::http::{Authenticated, Params, Problem, QueryParams};

/// Claim a coupon of a live campaign (within the per-buyer allowance and the budget);
/// a member coupon also asks its level and spends its points price, in the same
/// transaction. DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign
/// read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons/{template}/claim", tag = "place-order",
    responses((status = 201, body = BuyerCoupon), (status = 409, body = Problem, description = "campaign-not-live, coupon-limit-reached, coupon-budget-exhausted, member-level-too-low, points-short")))]
pub async fn claim_coupon(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<(StatusCode, Json<BuyerCoupon>), Problem> {
    let t = params.tenant()?;
    let id: CampaignId = params.id("campaign")?;
    let template: CouponTemplateId = params.id("template")?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &id, now).await?;
    let coupon = st
        .claim_coupon(&t, &campaign, &template, &caller.user, now)
        .await?;
    Ok((StatusCode::CREATED, Json(coupon)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponPage {
    pub coupons: Vec<BuyerCoupon>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's coupons in every tenant, newest first. DynamoDB: 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/me/coupons", tag = "place-order",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = CouponPage)))]
pub async fn my_coupons(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<CouponPage>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.my_coupons(&caller.user, limit, cursor).await?;
    Ok(Json(CouponPage {
        coupons: page.items,
        next_cursor: page.next,
    }))
}
