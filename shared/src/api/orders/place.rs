//! Pricing a cart and placing an order.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::cases::orders::place::Placed;
use crate::domain::attribution::{verify_share, Attribution};
use crate::domain::auth::Caller;
use crate::domain::checkout::{CartLine, CouponChoice, OrderRequest};
use crate::domain::group_buy::GroupJoin;
use crate::domain::ids::{CampaignId, IdempotencyKey};
use crate::domain::order::{Delivery, DeliveryMode, Order};
use crate::domain::pricing::PricedCart;
use crate::domain::signing::digest;
use crate::domain::tenancy::Tenant;
use crate::http::extract::IdempotencyKeyHeader;
use crate::http::{Authenticated, JsonBody, Params, Problem};
use crate::payments::Checkout;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub campaign: CampaignId,
    #[schema(min_items = 1, max_items = 5)]
    pub lines: Vec<CartLine>,
    /// One of your coupon ids, `"none"`, or omitted for the best you hold.
    pub coupon: Option<String>,
    /// The guide's share link token the buyer arrived with.
    pub share_token: Option<String>,
    /// Default: pickup at a store.
    pub delivery: Option<Delivery>,
}

fn order_request(
    st: &AppState,
    caller: &Caller,
    t: Tenant,
    input: &OrderInput,
    group: Option<GroupJoin>,
) -> Result<OrderRequest, Problem> {
    // A bad link does not stop the sale: it credits nobody, and the order says why.
    let link = input.share_token.as_deref().map(|token| {
        verify_share(
            &st.secrets.share_link,
            token,
            &t,
            &input.campaign,
            st.clock.now(),
        )
    });
    let coupons = match input.coupon.as_deref() {
        None => CouponChoice::Best,
        Some("none") => CouponChoice::None,
        Some(id) => CouponChoice::These(vec![id.to_owned()]),
    };
    Ok(OrderRequest {
        tenant: t,
        campaign: input.campaign.clone(),
        buyer: caller.user.clone(),
        lines: input.lines.clone(),
        coupons,
        link,
        delivery: input.delivery.clone().unwrap_or(Delivery {
            store: None,
            location: None,
            mode: DeliveryMode::Pickup,
            address: None,
            phone: None,
        }),
        group,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    #[serde(flatten)]
    pub cart: PricedCart,
    /// Who the sale would be credited to, or why nobody (a forged, expired or foreign
    /// share link credits nobody).
    pub attribution: Option<Attribution>,
}

/// Price a cart as it would be ordered now, best coupon included, and say who it would
/// be credited to; writes nothing. DynamoDB: 1 BatchGetItem (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/preview", tag = "place-order",
    request_body = OrderInput,
    responses((status = 200, body = Preview), (status = 409, body = Problem, description = "sold-out, campaign-not-live, slot-closed, purchase-limit-exceeded, coupon-not-applicable")))]
pub async fn preview(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Json<Preview>, Problem> {
    let t = params.tenant()?;
    let req = order_request(&st, &caller, t.clone(), &input, None)?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &input.campaign, now).await?;
    let (cart, attribution) = st.preview_order(&req, &campaign, now).await?;
    Ok(Json(Preview { cart, attribution }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedOrder {
    pub order: Order,
    pub checkout: Checkout,
}

fn json_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Place an order: one transaction reserves stock, writes the order, redeems coupons,
/// records the purchase limit and the idempotency record. Replaying the same
/// `Idempotency-Key` with the same body returns the first response.
/// DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders", tag = "place-order",
    request_body = OrderInput,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per logical order")),
    responses((status = 201, body = PlacedOrder), (status = 409, body = Problem, description = "sold-out, campaign-not-live, slot-closed, purchase-limit-exceeded, coupon-not-applicable, idempotency-key-reused")))]
pub async fn place(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    place_order(&st, &caller, t, &key, &input, None).await
}

/// Places an order, or a group order (`group`): the one path every order takes, with
/// the same pricing, stock, coupons, share links and idempotency.
pub async fn place_order(
    st: &AppState,
    caller: &Caller,
    t: Tenant,
    key: &IdempotencyKey,
    input: &OrderInput,
    group: Option<GroupJoin>,
) -> Result<Response, Problem> {
    // The request as parsed, re-serialized: the same order however its JSON was spaced.
    // A group join is a different request from a plain order of the same cart.
    let joins = match &group {
        Some(GroupJoin::Join(id)) => format!("join {id}"),
        Some(GroupJoin::Open(_)) => "open".to_owned(),
        None => String::new(),
    };
    let hash = digest(
        format!(
            "{t}|{joins}|{}",
            serde_json::to_string(input).unwrap_or_default()
        )
        .as_bytes(),
    );
    let joining = matches!(group, Some(GroupJoin::Join(_)));
    let req = order_request(st, caller, t.clone(), input, group)?;
    let now = st.clock.now();
    let campaign = st
        .db
        .ordering_campaign(&t, &input.campaign, now, joining)
        .await?;
    let payments = st.payments.clone();
    let render = move |o: &Order| {
        serde_json::to_string(&PlacedOrder {
            order: o.clone(),
            checkout: payments.checkout(o),
        })
        .unwrap_or_default()
    };
    match st
        .place_order(&req, &campaign, key, &hash, now, &render)
        .await?
    {
        Placed::Created { order, body, .. } => {
            tracing::info!(order = %order.id, total_fen = order.total_fen.get(), lines = order.lines.len(), group_buy = ?order.group, "order placed");
            Ok(json_response(201, body))
        }
        Placed::Replayed { status, body } => Ok(json_response(status, body)),
    }
}
