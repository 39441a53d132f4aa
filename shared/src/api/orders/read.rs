//! Reading orders: one order (its buyer sees everything; staff see what their role
//! and stores allow), a buyer's own orders, and the orders staff must act on.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::auth::Action;
use crate::domain::ids::{OrderId, StoreId};
use crate::domain::order::Order;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Authenticated, Params, Problem, QueryParams};

/// An order. Its buyer sees every parcel and pickup code and the full address. Staff
/// of the tenant never see a code; ops, brand admins and hq see every parcel, a store's
/// clerks only their store's; the street and phone only to the clerks of a store that
/// ships a parcel of it. Anyone else: 404.
/// DynamoDB: 1 GetItem (+ 1 BatchGetItem of the parcels' stores for staff).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/orders/{order}", tag = "place-order",
    responses((status = 200, body = Order)))]
pub async fn read_order(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Order>, Problem> {
    let t = params.tenant()?;
    let id = params.id::<OrderId>("order")?;
    let order = st.db.order(&t, &id, false).await?;
    if order.buyer == caller.user {
        return Ok(Json(order.track_summary()));
    }
    // Someone else's order is "not found", unless staff of this tenant ask.
    caller
        .authorize(Action::ReadTenantConfig, &t)
        .map_err(|_| Problem::not_found("order"))?;
    let mut seen = as_staff_sees(&st, &t, &caller, vec![order]).await?;
    seen.pop()
        .map(Json)
        .ok_or_else(|| Problem::not_found("order"))
}

/// Orders as a member of staff sees them (`Order::for_staff`: their stores' parcels,
/// no codes, masked addresses), each parcel's track cut to its latest event. 1
/// BatchGetItem (the stores of the orders' parcels the caller clerks at), none when
/// they see every store.
pub async fn as_staff_sees(
    st: &AppState,
    t: &crate::domain::tenancy::Tenant,
    caller: &crate::domain::auth::Caller,
    orders: Vec<Order>,
) -> Result<Vec<Order>, Problem> {
    let every = caller.sees_every_store();
    let mut stores: Vec<StoreId> = orders
        .iter()
        .flat_map(|o| o.parcels.iter().map(|p| p.store.clone()))
        .collect();
    stores.sort();
    stores.dedup();
    let theirs = if every || stores.is_empty() {
        Vec::new()
    } else {
        st.db.stores_clerked_by(t, &stores, &caller.user).await?
    };
    Ok(orders
        .into_iter()
        .map(|o| o.for_staff(&theirs, every).track_summary())
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's orders in every tenant, newest first. DynamoDB: 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/me/orders", tag = "place-order",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = OrderPage)))]
pub async fn my_orders(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<OrderPage>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.my_orders(&caller.user, limit, cursor).await?;
    Ok(Json(OrderPage {
        orders: page.items,
        next_cursor: page.next,
    }))
}

/// Orders staff must act on: `status=needs_attention` lists paid orders no store
/// could dispatch, oldest first, each with its reason (seen as staff see an order).
/// DynamoDB: 1 Query (GSI2) + 1 BatchGetItem (the caller's stores among the parcels).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/orders", tag = "place-order",
    params(("status" = String, Query, description = "needs_attention"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = OrderPage)))]
pub async fn staff_orders(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    query: QueryParams,
) -> Result<Json<OrderPage>, Problem> {
    query.only(&["status", "cursor", "limit"])?;
    match query.get("status") {
        Some("needs_attention") => {}
        _ => {
            return Err(Problem::invalid_parameter(
                "status",
                "expected status=needs_attention",
            ))
        }
    }
    let (limit, cursor) = query.page()?;
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let page = st.db.orders_needing_attention(t, limit, cursor).await?;
    Ok(Json(OrderPage {
        orders: as_staff_sees(&st, t, caller, page.items).await?,
        next_cursor: page.next,
    }))
}
