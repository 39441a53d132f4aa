//! Reading refunds: one (its buyer, the tenant's staff) and the lists staff work.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::{rma_link, RefundView};
use crate::app::AppState;
use crate::db::refunds::lists::WORK_QUEUES;
use crate::domain::auth::Action;
use crate::domain::ids::{OrderId, RefundId, StoreId};
use crate::domain::refund::Refund;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Authenticated, Params, Problem, QueryParams};

/// A refund: decision and every reason, money, goods, and the return document's link.
/// For its buyer and the tenant's staff; anyone else: 404. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/refunds/{refund}", tag = "validate-refund",
    responses((status = 200, body = RefundView)))]
pub async fn read_refund(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<RefundView>, Problem> {
    let t = params.tenant()?;
    let id: RefundId = params.id("refund")?;
    let refund = st.db.refund(&t, &id, false).await?;
    if refund.buyer != caller.user {
        caller
            .authorize(Action::ReadTenantConfig, &t)
            .map_err(|_| Problem::not_found("refund"))?;
    }
    let rma_url = rma_link(&st, &refund).await;
    Ok(Json(RefundView { refund, rma_url }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundPage {
    pub refunds: Vec<Refund>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Refunds waiting for staff: `status=pending_review` (escalated first, then oldest),
/// `awaiting_return`, `refund_failed` (the provider refused it, automatic attempts
/// spent) or `unapplied_payment` (payments an order could not take, given back). Ops, brand admins and hq see every store's; a
/// store's staff see those returning to their store.
/// DynamoDB: 1 Query (GSI2) (+1 BatchGetItem of the caller's stores, for store staff).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/refunds", tag = "validate-refund",
    params(("status" = String, Query, description = "pending_review, awaiting_return, refund_failed or unapplied_payment"),
        ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = RefundPage)))]
pub async fn list_refunds(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    query: QueryParams,
) -> Result<Json<RefundPage>, Problem> {
    query.only(&["status", "cursor", "limit"])?;
    let status = query
        .get("status")
        .filter(|s| WORK_QUEUES.contains(s))
        .ok_or_else(|| {
            Problem::invalid_parameter("status", format!("one of {}", WORK_QUEUES.join(", ")))
        })?;
    let (limit, cursor) = query.page()?;
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let page = st.db.refunds_waiting(t, status, limit, cursor).await?;
    let mut refunds = page.items;
    if !caller.sees_every_store() {
        let mut stores: Vec<StoreId> = refunds
            .iter()
            .filter_map(|r| r.return_store.clone())
            .collect();
        stores.sort();
        stores.dedup();
        let theirs = st.db.stores_clerked_by(t, &stores, &caller.user).await?;
        refunds.retain(|r| r.return_store.as_ref().is_some_and(|s| theirs.contains(s)));
    }
    Ok(Json(RefundPage {
        refunds,
        next_cursor: page.next,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRefunds {
    /// Every refund that touches the order: its requests, cancellations and any payment
    /// it could not take.
    pub refunds: Vec<Refund>,
}

/// Every refund of an order, for its buyer and the tenant's staff; anyone else: 404.
/// DynamoDB: 1 GetItem (the order) + 1 Query (its partition's refunds).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/orders/{order}/refunds", tag = "validate-refund",
    responses((status = 200, body = OrderRefunds)))]
pub async fn order_refunds(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<OrderRefunds>, Problem> {
    let t = params.tenant()?;
    let id: OrderId = params.id("order")?;
    let order = st.db.order(&t, &id, false).await?;
    if order.buyer != caller.user {
        caller
            .authorize(Action::ReadTenantConfig, &t)
            .map_err(|_| Problem::not_found("order"))?;
    }
    Ok(Json(OrderRefunds {
        refunds: st.db.order_refunds(&t, &id).await?,
    }))
}
