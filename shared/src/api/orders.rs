//! `place-order`: checkout preview, placing an order (idempotent by `Idempotency-Key`),
//! coupons, payment confirmation, reading orders, and pickup at the counter.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::orders::{BuyerCoupon, CartLine, CouponChoice, OrderRequest, Placed, Settled};
use crate::domain::auth::{Action, Caller};
use crate::domain::ids::{CampaignId, CouponTemplateId, IdempotencyKey, OrderId};
use crate::domain::order::{Delivery, DeliveryMode, Order};
use crate::domain::pricing::PricedCart;
use crate::domain::signing::{digest, verify_share_token};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};
use crate::payments::{Checkout, SIGNATURE_HEADER};
use crate::queue::messages::{delay_until, OrderMessage, RefundMessage, TimeoutMessage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/{brand}/{group}/orders/preview", post(preview))
        .route("/v1/{brand}/{group}/orders", post(place))
        .route("/v1/{brand}/{group}/orders/{order}", get(read_order))
        .route("/v1/{brand}/{group}/orders/{order}/pickup", post(pickup))
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}/claim",
            post(claim_coupon),
        )
        .route("/v1/me/orders", get(my_orders))
        .route("/v1/me/coupons", get(my_coupons))
        .route("/v1/payments/notify", post(payment_notify))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub campaign: CampaignId,
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
) -> Result<OrderRequest, Problem> {
    let guide = match &input.share_token {
        Some(token) => Some(verify_share_token(
            &st.secrets.share_link,
            &t,
            &input.campaign,
            token,
        )?),
        None => None,
    };
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
        guide,
        delivery: input.delivery.clone().unwrap_or(Delivery {
            mode: DeliveryMode::Pickup,
            address: None,
            phone: None,
        }),
    })
}

/// Price a cart as it would be ordered now, best coupon included; writes nothing.
/// DynamoDB: 1 BatchGetItem (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{group}/orders/preview", tag = "place-order",
    request_body = OrderInput,
    responses((status = 200, body = PricedCart), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Json<PricedCart>, Problem> {
    let t = params.tenant()?;
    let req = order_request(&st, &caller, t.clone(), &input)?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &input.campaign, now).await?;
    Ok(Json(st.db.preview_order(&req, &campaign, now).await?))
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
#[utoipa::path(post, path = "/v1/{brand}/{group}/orders", tag = "place-order",
    request_body = OrderInput,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per logical order")),
    responses((status = 201, body = PlacedOrder), (status = 409, body = Problem, description = "sold-out, campaign-not-live, slot-closed, purchase-limit-exceeded, coupon-not-applicable, idempotency-key-reused"), (status = 422, body = Problem)))]
pub async fn place(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    headers: HeaderMap,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Problem::invalid_parameter("Idempotency-Key", "the header is required"))
        .and_then(|v| {
            IdempotencyKey::parse(v)
                .map_err(|e| Problem::invalid_parameter("Idempotency-Key", e.to_string()))
        })?;
    // The request as parsed, re-serialized: the same order however its JSON was spaced.
    let hash =
        digest(format!("{t}|{}", serde_json::to_string(&input).unwrap_or_default()).as_bytes());
    let req = order_request(&st, &caller, t.clone(), &input)?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &input.campaign, now).await?;
    let payments = st.payments.clone();
    let render = move |o: &Order| {
        serde_json::to_string(&PlacedOrder {
            order: o.clone(),
            checkout: payments.checkout(o),
        })
        .unwrap_or_default()
    };
    match st
        .db
        .place_order(&req, &campaign, &key, &hash, now, &render)
        .await?
    {
        Placed::Created { order, body } => {
            let msg = TimeoutMessage {
                tenant: t.clone(),
                order: order.id.clone(),
                deadline: order.payment_deadline,
            };
            let wait = delay_until(order.payment_deadline, now);
            if let Err(e) = st.queue.post(&msg, Some(wait)).await {
                // The order is indexed as unpaid (GSI2), so the campaign close sweeps it.
                tracing::error!(order = %order.id, error = %e, "could not schedule the payment timeout");
            }
            tracing::info!(order = %order.id, total_fen = order.total_fen.get(), lines = order.lines.len(), "order placed");
            Ok(json_response(201, body))
        }
        Placed::Replayed { status, body } => Ok(json_response(status, body)),
    }
}

/// An order, for its buyer or the tenant's staff (staff do not see the pickup code).
/// DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{group}/orders/{order}", tag = "place-order",
    responses((status = 200, body = Order), (status = 404, body = Problem)))]
pub async fn read_order(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Order>, Problem> {
    let t = params.tenant()?;
    let id = params.id::<OrderId>("order")?;
    let order = st.db.order(&t, &id, false).await?;
    if order.buyer == caller.user {
        return Ok(Json(order));
    }
    // Someone else's order is "not found", unless staff of this tenant ask.
    caller
        .authorize(Action::ReadTenantConfig, &t)
        .map_err(|_| Problem::not_found("order"))?;
    Ok(Json(order.for_staff()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub next_cursor: Option<String>,
}

/// The caller's orders in every tenant, newest first. DynamoDB: 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/me/orders", tag = "place-order",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = OrderPage), (status = 401, body = Problem)))]
pub async fn my_orders(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<OrderPage>, Problem> {
    query.only(&["cursor", "limit"])?;
    let after = query
        .get("cursor")
        .map(|c| {
            OrderId::parse(c)
                .map_err(|_| Problem::invalid_parameter("cursor", "not a cursor this API returned"))
        })
        .transpose()?;
    let limit = query.int("limit", 1..=50, 20)?;
    let (orders, next) = st.db.my_orders(&caller.user, after.as_ref(), limit).await?;
    Ok(Json(OrderPage {
        orders,
        next_cursor: next.map(|o| o.to_string()),
    }))
}

/// Claim a coupon of a live campaign (within the per-buyer allowance and the budget).
/// DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}/claim", tag = "place-order",
    responses((status = 201, body = BuyerCoupon), (status = 404, body = Problem), (status = 409, body = Problem)))]
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
        .db
        .claim_coupon(&t, &campaign, &template, &caller.user, now)
        .await?;
    Ok((StatusCode::CREATED, Json(coupon)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponPage {
    pub coupons: Vec<BuyerCoupon>,
}

/// The caller's coupons in every tenant. DynamoDB: 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/me/coupons", tag = "place-order",
    responses((status = 200, body = CouponPage), (status = 401, body = Problem)))]
pub async fn my_coupons(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<CouponPage>, Problem> {
    Ok(Json(CouponPage {
        coupons: st.db.my_coupons(&caller.user).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotifyResult {
    /// `paid`, `already_paid` or `refund_due`.
    pub status: String,
}

/// Payment confirmation from the provider, signed with HMAC-SHA256 over the raw body in
/// `X-Clearance-Signature: sha256=<hex>`. A bad signature is a 401 and changes nothing.
/// DynamoDB: 1 GetItem + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/payments/notify", tag = "place-order",
    request_body = crate::payments::PaymentNotice,
    responses((status = 200, body = NotifyResult), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn payment_notify(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<NotifyResult>, Problem> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let notice = st.payments.verify(&body, signature).map_err(|e| match e {
        DomainError::Unauthenticated => Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-signature",
            "The notification's signature does not verify",
        ),
        other => other.into(),
    })?;
    let t = Tenant::parse_scoped(&notice.tenant).map_err(|e| Problem::from(e).field("tenant"))?;
    settle(&st, &t, &notice).await
}

/// Records a confirmed payment and queues what follows: fulfillment, or a refund.
pub async fn settle(
    st: &AppState,
    t: &Tenant,
    notice: &crate::payments::PaymentNotice,
) -> Result<Json<NotifyResult>, Problem> {
    let (order, amount, payment_ref) = (
        &notice.order,
        notice.amount_fen,
        notice.payment_ref.as_str(),
    );
    let outcome = st
        .db
        .settle_payment(t, order, amount, payment_ref, st.clock.now())
        .await?;
    let paid_now = matches!(outcome, Settled::Paid(_));
    let unavailable = |e: crate::queue::QueueError| {
        // Answer 503 so the provider retries; the retry finds the order paid and queues again.
        tracing::error!(order = %order, error = %e, "could not queue after payment");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Busy, try again shortly",
        )
    };
    let status = match outcome {
        Settled::Paid(o) | Settled::AlreadyPaid(o) => {
            // Queued on every confirmation: fulfillment ignores an order it has dispatched.
            let msg = OrderMessage {
                tenant: t.clone(),
                order: o.id.clone(),
            };
            st.queue.post(&msg, None).await.map_err(unavailable)?;
            if paid_now {
                "paid"
            } else {
                "already_paid"
            }
        }
        Settled::RefundDue(o) => {
            let msg = RefundMessage {
                tenant: t.clone(),
                order: o.id.clone(),
                amount_fen: amount,
                payment_ref: payment_ref.to_owned(),
                reason: "payment arrived after the order was cancelled".into(),
            };
            st.queue.post(&msg, None).await.map_err(unavailable)?;
            tracing::warn!(order = %o.id, "late payment for a cancelled order: refund queued");
            "refund_due"
        }
    };
    Ok(Json(NotifyResult {
        status: status.into(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupInput {
    pub code: String,
}

/// A clerk of the store holding the order checks the buyer's code and hands it over.
/// DynamoDB: 1 GetItem (order) + 1 GetItem (store) + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{group}/orders/{order}/pickup", tag = "place-order",
    request_body = PickupInput,
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn pickup(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<PickupInput>,
) -> Result<Json<Order>, Problem> {
    let t = params.tenant()?;
    caller.authorize(Action::ReadTenantConfig, &t)?;
    let id = params.id::<OrderId>("order")?;
    let current = st.db.order(&t, &id, true).await?;
    let store_id = current
        .lines
        .first()
        .and_then(|l| l.store.clone())
        .ok_or_else(|| {
            Problem::from(DomainError::conflict(
                "order-not-ready",
                "the order is not waiting for pickup",
            ))
        })?;
    let shop = st.db.store(&t, &store_id).await?;
    if !shop.clerks.contains(&caller.user) {
        return Err(DomainError::Forbidden(
            "only a clerk of the store holding the order may hand it over".into(),
        )
        .into());
    }
    let mut order = current.clone();
    order.pick_up(&store_id, input.code.trim(), st.clock.now())?;
    st.db
        .save_order(&order, current.version)
        .await
        .map_err(|e| match e {
            crate::table::TableError::ConditionFailed => Problem::from(DomainError::conflict(
                "concurrent-update",
                "the order changed; read it again",
            )),
            other => other.into(),
        })?;
    tracing::info!(order = %order.id, store = %store_id, "picked up");
    Ok(Json(order.for_staff()))
}
