//! A guide's performance and credited sales; a campaign's leaderboard.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::guide_for;
use crate::app::AppState;
use crate::db::attribution::reads::Leaderboard;
use crate::domain::attribution::Totals;
use crate::domain::ids::{CampaignId, GuideId, OrderId, StoreId};
use crate::domain::money::Fen;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Params, Problem, QueryParams};

#[derive(Debug, Serialize, ToSchema)]
pub struct Performance {
    pub guide: GuideId,
    pub store: StoreId,
    pub campaign: CampaignId,
    pub net_gmv_fen: i64,
    #[serde(flatten)]
    pub totals: Totals,
    /// Assists (invite friends to assist) started through the guide's links.
    pub assists_started: u64,
}

/// A guide's figures in a campaign: orders, units, GMV and net GMV after refunds,
/// commission pending, confirmed and clawed back, new buyers brought. For the guide,
/// their store's manager, and ops; with the assists started through the guide's links.
/// DynamoDB: 1 GetItem (+1 BatchGetItem for a store's staff) + 1 BatchGetItem (the
/// guide's counter shards and assist count).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/guides/{guide}/performance", tag = "attribute-guide-sale",
    params(("campaign" = String, Query)),
    responses((status = 200, body = Performance)))]
pub async fn performance(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    query: QueryParams,
) -> Result<Json<Performance>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    query.only(&["campaign"])?;
    let campaign: CampaignId = query
        .id("campaign")?
        .ok_or_else(|| Problem::invalid_parameter("campaign", "which campaign"))?;
    let id: GuideId = params.id("guide")?;
    let guide = guide_for(&st, caller, t, &id).await?;
    let (totals, assists_started) = st.db.guide_board(t, &campaign, &id).await?;
    Ok(Json(Performance {
        guide: guide.id,
        store: guide.store,
        campaign,
        net_gmv_fen: totals.net_gmv_fen(),
        totals,
        assists_started,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditedSale {
    pub order: OrderId,
    pub campaign: CampaignId,
    pub paid_fen: Fen,
    pub refunded_fen: Fen,
    pub commission_pending_fen: i64,
    pub commission_confirmed_fen: i64,
    pub commission_reversed_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditedSales {
    pub sales: Vec<CreditedSale>,
    pub next_cursor: Option<String>,
}

/// A guide's credited sales, newest first, each with its commission. For the guide,
/// their store's manager, and ops. DynamoDB: 1 GetItem + 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/guides/{guide}/orders", tag = "attribute-guide-sale",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = CreditedSales)))]
pub async fn guide_orders(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    query: QueryParams,
) -> Result<Json<CreditedSales>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let id: GuideId = params.id("guide")?;
    guide_for(&st, caller, t, &id).await?;
    let page = st.db.guide_sales(t, &id, limit, cursor).await?;
    Ok(Json(CreditedSales {
        sales: page
            .items
            .into_iter()
            .map(|r| {
                let totals = r.sale.totals(r.commission_bp);
                CreditedSale {
                    order: r.order,
                    campaign: r.campaign,
                    paid_fen: Fen::new(totals.gmv_fen).unwrap_or(Fen::ZERO),
                    refunded_fen: Fen::new(totals.refunded_fen).unwrap_or(Fen::ZERO),
                    commission_pending_fen: totals.commission_pending_fen,
                    commission_confirmed_fen: totals.commission_confirmed_fen,
                    commission_reversed_fen: totals.commission_reversed_fen,
                }
            })
            .collect(),
        next_cursor: page.next,
    }))
}

/// A campaign's guides and stores by net GMV, with pending and confirmed commission
/// and each store's sell-through; counted from the order events as they come (seconds
/// behind). For the tenant's staff. DynamoDB: 16 Query (counter shards) + 1 Query
/// (listings) + 1 Query (guides).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/leaderboard", tag = "attribute-guide-sale",
    responses((status = 200, body = Leaderboard)))]
pub async fn leaderboard(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<Leaderboard>, Problem> {
    let campaign: CampaignId = params.id("campaign")?;
    let t = &allowed.tenant;
    // Not found rather than an empty board for a campaign that is not there.
    st.db.campaign(t, &campaign, false).await?;
    Ok(Json(st.db.leaderboard(t, &campaign).await?))
}
