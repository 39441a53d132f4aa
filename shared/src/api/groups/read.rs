//! Reading group buys.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::group_buy::GroupView;
use crate::domain::ids::{CampaignId, GroupBuyId, Sku};
use crate::http::{Authenticated, Params, Problem, QueryParams};

/// A group, for anyone with its link: members (names masked), seats left, expiry and
/// status. Another tenant's group is not found. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/group-buys/{group_buy}", tag = "join-group", security(()),
    responses((status = 200, body = GroupView)))]
pub async fn read_group(
    State(st): State<AppState>,
    params: Params,
) -> Result<Json<GroupView>, Problem> {
    let t = params.tenant()?;
    let id: GroupBuyId = params.id("group_buy")?;
    let (group, members) = st.db.group(&t, &id, false).await?;
    Ok(Json(group.view(&members)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenGroups {
    /// Fullest first: the groups closest to forming.
    pub group_buys: Vec<GroupView>,
    pub next_cursor: Option<String>,
}

/// A campaign's open groups of a product a buyer can join, fullest first (each page;
/// pages run soonest-to-expire). DynamoDB: 1 Query (GSI2).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", tag = "join-group", security(()),
    params(("sku" = String, Query), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = OpenGroups)))]
pub async fn open_groups(
    State(st): State<AppState>,
    params: Params,
    query: QueryParams,
) -> Result<Json<OpenGroups>, Problem> {
    let t = params.tenant()?;
    let campaign: CampaignId = params.id("campaign")?;
    query.only(&["sku", "cursor", "limit"])?;
    let sku: Sku = query
        .id("sku")?
        .ok_or_else(|| Problem::invalid_parameter("sku", "the product whose groups to list"))?;
    let (limit, cursor) = query.page()?;
    let now = st.clock.now();
    let page = st
        .db
        .open_groups(&t, &campaign, &sku, limit, cursor)
        .await?;
    let mut groups: Vec<GroupView> = page
        .items
        .iter()
        .filter(|g| g.expires_at > now && g.free > 0)
        .map(|g| g.view(&[]))
        .collect();
    groups.sort_by_key(|g| (g.seats_left, g.expires_at));
    Ok(Json(OpenGroups {
        group_buys: groups,
        next_cursor: page.next,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyGroup {
    pub group_buy: GroupView,
    /// Your order in it.
    pub order: crate::domain::ids::OrderId,
    pub paid: bool,
    /// Shown to you unmasked: yours.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyGroups {
    pub group_buys: Vec<MyGroup>,
    pub next_cursor: Option<String>,
}

/// The caller's group buys in every tenant, newest first.
/// DynamoDB: 1 Query (GSI1) + 1 BatchGetItem.
#[utoipa::path(get, path = "/v1/me/group-buys", tag = "join-group",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = MyGroups)))]
pub async fn my_groups(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<MyGroups>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.my_groups(&caller.user, limit, cursor).await?;
    Ok(Json(MyGroups {
        group_buys: page
            .items
            .into_iter()
            .map(|(m, g)| MyGroup {
                group_buy: g.view(&[]),
                order: m.order.clone(),
                paid: m.paid,
                name: m.buyer.to_string(),
            })
            .collect(),
        next_cursor: page.next,
    }))
}
