//! Taking a seat: opening a group, or joining one, with an order.

use axum::extract::State;
use axum::response::Response;

use crate::api::orders::place::{place_order, OrderInput};
use crate::app::AppState;
use crate::domain::group_buy::GroupJoin;
use crate::domain::ids::{CampaignId, GroupBuyId};
use crate::http::extract::IdempotencyKeyHeader;
use crate::http::{Authenticated, JsonBody, Params, Problem};

/// Open a group buy of a listing with your order of one unit at the group price: your
/// seat is taken in the order's transaction. Share the group's id; it forms when every
/// seat is paid before it expires, and only then is your order dispatched.
/// DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", tag = "join-group",
    request_body = OrderInput,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per logical order")),
    responses((status = 201, body = crate::api::orders::place::PlacedOrder, description = "the order, with its `group`"),
        (status = 409, body = Problem, description = "group-limit-exceeded, sold-out, campaign-not-live, purchase-limit-exceeded, coupon-not-applicable, idempotency-key-reused")))]
pub async fn open_group(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let campaign: CampaignId = params.id("campaign")?;
    if input.campaign != campaign {
        return Err(Problem::validation("campaign", "does not match the path"));
    }
    let id = GroupBuyId::generate(st.clock.now());
    place_order(&st, &caller, t, &key, &input, Some(GroupJoin::Open(id))).await
}

/// Join a group buy with your order of one unit at its price. Your seat is taken in the
/// order's transaction, on condition one is free, the group open and not expired: no
/// race overfills it, and a seat once taken is yours to pay (an unpaid seat is released
/// by the payment timeout).
/// DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/group-buys/{group_buy}/join", tag = "join-group",
    request_body = OrderInput,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per logical order")),
    responses((status = 201, body = crate::api::orders::place::PlacedOrder, description = "the order, with its `group`"),
        (status = 409, body = Problem, description = "group-full, group-expired, already-in-group, group-limit-exceeded, sold-out, campaign-not-live, idempotency-key-reused")))]
pub async fn join_group(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let id: GroupBuyId = params.id("group_buy")?;
    place_order(&st, &caller, t, &key, &input, Some(GroupJoin::Join(id))).await
}
