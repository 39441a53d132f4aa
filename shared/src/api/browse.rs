//! `browse-catalog`: what buyers see. Public (no token needed): live campaigns, a
//! campaign's products by category with the price of the slot open now, stock state per
//! size and group price, and one product. A product of another tenant is a 404.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::catalog::Product;
use crate::domain::campaign::{Campaign, CampaignStatus, Category};
use crate::domain::catalog::{stock_state, GroupOffer, StockState};
use crate::domain::ids::{CampaignId, CategoryId, Size, Sku, SlotId};
use crate::domain::money::Fen;
use crate::http::{Params, Problem, QueryParams};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    use super::search::*;
    OpenApiRouter::new()
        .routes(routes!(live_campaigns))
        .routes(routes!(products))
        .routes(routes!(product))
        .routes(routes!(search))
        .routes(routes!(my_search))
        .routes(routes!(size_advice))
        .routes(routes!(nearby_stores))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenSlot {
    pub id: SlotId,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NextSlot {
    pub id: SlotId,
    pub starts_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSummary {
    pub id: crate::domain::ids::CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub open_slot: Option<OpenSlot>,
    pub next_slot: Option<NextSlot>,
    pub categories: Vec<Category>,
    /// Members of `min_level` and above may buy from `opens_at`, before `starts_at`
    /// (their own points page shows their level).
    pub early_access: Option<EarlyWindow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EarlyWindow {
    pub min_level: u8,
    pub opens_at: DateTime<Utc>,
}

impl CampaignSummary {
    pub(crate) fn of(c: &Campaign, now: DateTime<Utc>) -> Self {
        CampaignSummary {
            id: c.id.clone(),
            name: c.name.clone(),
            status: c.status_at(now),
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            time_zone: c.time_zone.name().to_owned(),
            open_slot: c
                .open_slot_at(now)
                .zip(c.open_slot_ends(now))
                .map(|(s, ends_at)| OpenSlot {
                    id: s.id.clone(),
                    ends_at,
                }),
            next_slot: c
                .next_slot_start(now)
                .map(|(id, starts_at)| NextSlot { id, starts_at }),
            categories: c.categories.clone(),
            early_access: c.early_access.as_ref().map(|e| EarlyWindow {
                min_level: e.min_level,
                opens_at: c.earliest_open(),
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SizeStock {
    pub size: Size,
    pub stock: StockState,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub sku: Sku,
    pub name: String,
    pub category: CategoryId,
    pub list_price_fen: Fen,
    pub clearance_price_fen: Fen,
    /// What one unit costs now: the open slot's flash price, else the clearance price.
    pub price_fen: Fen,
    /// The slot whose price applies, if one is open.
    pub slot: Option<SlotId>,
    /// Its group-buy terms, if it sells in group buys.
    #[serde(rename = "group_buy")]
    pub group: Option<GroupOffer>,
    pub per_buyer_limit: u32,
    pub final_sale: bool,
    pub sold_out: bool,
    pub sizes: Vec<SizeStock>,
    /// Tags, colour, material, heel height.
    pub attributes: crate::domain::search::Attributes,
}

impl ProductView {
    pub(crate) fn of(p: Product, campaign: &Campaign, now: DateTime<Utc>) -> Self {
        let (price_fen, slot) = p.listing.price_at(campaign, now);
        let sizes: Vec<SizeStock> = p
            .listing
            .sizes
            .iter()
            .map(|s| SizeStock {
                size: s.clone(),
                stock: stock_state(p.units.get(s).copied().unwrap_or(0)),
            })
            .collect();
        let l = p.listing;
        ProductView {
            sold_out: sizes.iter().all(|s| s.stock == StockState::SoldOut),
            sku: l.sku,
            name: l.name,
            category: l.category,
            list_price_fen: l.list_price_fen,
            clearance_price_fen: l.clearance_price_fen,
            price_fen,
            slot,
            group: l.group,
            per_buyer_limit: l.per_buyer_limit,
            final_sale: l.final_sale,
            sizes,
            attributes: l.attributes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignSummary>,
}

/// The tenant's live campaigns; an unknown tenant (no store, no campaign) is 404.
/// DynamoDB: 1 Query (+1 Query when it has no campaign at all).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns", tag = "browse-catalog", security(()),
    responses((status = 200, body = CampaignList), (status = 304, description = "unchanged (If-None-Match)"), (status = 400, body = Problem)))]
pub async fn live_campaigns(
    State(st): State<AppState>,
    params: Params,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let now = st.clock.now();
    st.pages
        .serve(uri.to_string(), now, &headers, async {
            let live = st.db.live_campaigns(&t, now).await?;
            json(&CampaignList {
                campaigns: live.iter().map(|c| CampaignSummary::of(c, now)).collect(),
            })
        })
        .await
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, Problem> {
    serde_json::to_vec(v).map_err(|e| {
        tracing::error!(error = %e, "page not serializable");
        Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductsPage {
    pub campaign: CampaignSummary,
    pub products: Vec<ProductView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn decode_cursor(raw: &str) -> Result<Sku, Problem> {
    CURSOR
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| Sku::parse(&s).ok())
        .ok_or_else(|| Problem::invalid_parameter("cursor", "not a cursor this API returned"))
}

/// A page of a campaign's products, optionally of one category. Rendered at most once a
/// second per process and sent with an `ETag` and `Cache-Control: public, max-age=2`
/// (`http::pages`): a size may show available up to 3 s after it sold out.
/// DynamoDB: 1 Query per page per second per process (+ 1 GetItem of the campaign at
/// most every 5 s per process).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/products", tag = "browse-catalog", security(()),
    params(("category" = Option<String>, Query), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = ProductsPage), (status = 304, description = "unchanged (If-None-Match)"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "campaign-closed")))]
pub async fn products(
    State(st): State<AppState>,
    params: Params,
    query: QueryParams,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let id = params.id("campaign")?;
    query.only(&["category", "cursor", "limit"])?;
    let category: Option<CategoryId> = query.id("category")?;
    let after = query.get("cursor").map(decode_cursor).transpose()?;
    let limit = query.int("limit", 1..=50, 20)?;
    let now = st.clock.now();
    // Checked on every request (from the cached campaign): a closed campaign's pages
    // stop at once, whatever a page cached before the close holds.
    let campaign = st.db.visible_campaign(&t, &id, now).await?;
    if let Some(cat) = &category {
        if !campaign.categories.iter().any(|c| &c.id == cat) {
            return Err(Problem::invalid_parameter(
                "category",
                "not a category of this campaign",
            ));
        }
    }
    st.pages
        .serve(uri.to_string(), now, &headers, async {
            let page = st
                .db
                .products(&t, &id, category.as_ref(), after.as_ref(), limit)
                .await?;
            json(&ProductsPage {
                campaign: CampaignSummary::of(&campaign, now),
                products: page
                    .products
                    .into_iter()
                    .map(|p| ProductView::of(p, &campaign, now))
                    .collect(),
                next_cursor: page.next_after.map(|s| CURSOR.encode(s.as_str())),
            })
        })
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetail {
    pub campaign: CampaignSummary,
    pub product: ProductView,
}

/// One product with its stock state. DynamoDB: 1 Query (+ the cached campaign read).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}", tag = "browse-catalog", security(()),
    responses((status = 200, body = ProductDetail), (status = 304, description = "unchanged (If-None-Match)"), (status = 404, body = Problem), (status = 409, body = Problem, description = "campaign-closed")))]
pub async fn product(
    State(st): State<AppState>,
    params: Params,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let id = params.id("campaign")?;
    let sku: Sku = params.id("sku")?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &id, now).await?;
    st.pages
        .serve(uri.to_string(), now, &headers, async {
            let p = st.db.product(&t, &id, &sku).await?;
            json(&ProductDetail {
                campaign: CampaignSummary::of(&campaign, now),
                product: ProductView::of(p, &campaign, now),
            })
        })
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NearbyStores {
    /// Nearest first; stores not on the map last.
    pub stores: Vec<crate::domain::store_finder::NearbyStore>,
}

/// The campaign's stores nearest first from `near=lat,lng` (WGS-84), each with whether
/// it holds `size` of `sku` now (both given, or neither) and whether it is open now.
/// DynamoDB: the cached campaign read + 1 BatchGetItem (the stores and the SKU's units).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/stores", tag = "browse-catalog", security(()),
    params(("near" = Option<String>, Query, description = "lat,lng"), ("sku" = Option<String>, Query), ("size" = Option<String>, Query)),
    responses((status = 200, body = NearbyStores), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn nearby_stores(
    State(st): State<AppState>,
    params: Params,
    query: QueryParams,
) -> Result<Json<NearbyStores>, Problem> {
    let t = params.tenant()?;
    let id: CampaignId = params.id("campaign")?;
    query.only(&["near", "sku", "size"])?;
    let near = match query.get("near") {
        None => None,
        Some(v) => {
            let bad = || Problem::invalid_parameter("near", "lat,lng in degrees (WGS-84)");
            let (lat, lng) = v.split_once(',').ok_or_else(bad)?;
            let p = crate::domain::geo::GeoPoint {
                lat: lat.trim().parse().map_err(|_| bad())?,
                lng: lng.trim().parse().map_err(|_| bad())?,
            };
            p.validate("near").map_err(|_| bad())?;
            Some(p)
        }
    };
    let sku: Option<Sku> = query.id("sku")?;
    let size: Option<Size> = query.id("size")?;
    if sku.is_some() != size.is_some() {
        return Err(Problem::invalid_parameter(
            if sku.is_some() { "size" } else { "sku" },
            "sku and size come together",
        ));
    }
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &id, now).await?;
    let (stores, units) = st
        .db
        .stores_with_units(&t, &campaign.id, &campaign.stores, sku.as_ref())
        .await?;
    let holds = |s: &crate::domain::ids::StoreId| {
        size.as_ref()
            .map(|z| units.get(s).and_then(|m| m.get(z)).is_some_and(|n| *n > 0))
    };
    Ok(Json(NearbyStores {
        stores: crate::domain::store_finder::nearest(&stores, near, holds, now),
    }))
}
