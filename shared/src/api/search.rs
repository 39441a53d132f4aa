//! Plain-language search of a campaign (part of `browse-catalog`): "300元内通勤单鞋 38码"
//! answers with its filters as chips, the products ranked, and the words not
//! understood. Public; the same search as a signed-in member (`/search/mine`) also
//! knows "我的尺码", and a member may ask for their size of one product.

use axum::extract::State;
use axum::Json;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use super::browse::{CampaignSummary, ProductView};
use crate::app::AppState;
use crate::domain::ids::{CampaignId, Sku, UserId};
use crate::domain::search::fit::SizeAdvice;
use crate::domain::search::query::MAX_QUERY_CHARS;
use crate::domain::search::Chip;
use crate::domain::tenancy::Tenant;
use crate::http::{Authenticated, Params, Problem, QueryParams};

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub campaign: CampaignSummary,
    /// The query as received.
    pub query: String,
    /// What was understood: remove one by taking its `text` out of the query.
    pub chips: Vec<Chip>,
    /// Words that matched no filter and no product name.
    pub ignored: Vec<String>,
    /// The member's size, when "my size" (`我的尺码`) was asked on `/search/mine`.
    pub my_size: Option<SizeAdvice>,
    /// "My size" was asked without a signed-in member: search `/search/mine` with a
    /// token to use it.
    pub my_size_needs_sign_in: bool,
    /// Products found, over all pages.
    pub total: u32,
    pub products: Vec<ProductView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn decode_cursor(raw: &str) -> Result<usize, Problem> {
    CURSOR
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("at:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| Problem::invalid_parameter("cursor", "not a cursor this API returned"))
}

async fn run(
    st: &AppState,
    t: &Tenant,
    id: &CampaignId,
    query: &QueryParams,
    member: Option<&UserId>,
) -> Result<Json<SearchPage>, Problem> {
    query.only(&["q", "cursor", "limit"])?;
    let q = query.get("q").unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(Problem::invalid_parameter(
            "q",
            format!("at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let from = query.get("cursor").map(decode_cursor).transpose()?;
    let limit = query.int("limit", 1..=50, 20)? as usize;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(t, id, now).await?;
    let found = st
        .search(t, &campaign, q, member, from.is_none(), now)
        .await?;
    let start = from.unwrap_or(0);
    let total = found.ranked.found.len();
    let end = (start + limit).min(total);
    let products = found
        .ranked
        .found
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .filter_map(|&i| found.catalogue.products.get(i).cloned())
        .map(|p| ProductView::of(p, &campaign, now))
        .collect();
    Ok(Json(SearchPage {
        campaign: CampaignSummary::of(&campaign, now),
        query: q.to_owned(),
        my_size_needs_sign_in: found.parsed.my_size && member.is_none(),
        chips: found.parsed.chips,
        ignored: found.ranked.ignored,
        my_size: found.my_size,
        total: u32::try_from(total).unwrap_or(u32::MAX),
        products,
        next_cursor: (end < total).then(|| CURSOR.encode(format!("at:{end}"))),
    }))
}

/// Search a campaign in plain words (Chinese or English): prices (`300元内`,
/// `两百到三百`, `500左右`), sizes (`38码`, `EU38`, `240`, `24码`), categories and tags
/// through the tenant's search words, colours, materials, heel heights; only sizes in
/// stock unless the query says `含售罄`. Ranked: exact tag and category matches first,
/// then name matches of the words left over, in stock first, cheapest first.
/// DynamoDB: none beyond the catalogue kept a second per process (1 Query + 1 GetItem
/// when it refreshes; + the cached campaign read); a first page that finds nothing: +1
/// TransactWriteItems (counted for the report).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/search", tag = "browse-catalog", security(()),
    params(("q" = Option<String>, Query, description = "at most 100 characters"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "default 20")),
    responses((status = 200, body = SearchPage), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "campaign-closed")))]
pub async fn search(
    State(st): State<AppState>,
    params: Params,
    query: QueryParams,
) -> Result<Json<SearchPage>, Problem> {
    let t = params.tenant()?;
    let id = params.id("campaign")?;
    run(&st, &t, &id, &query, None).await
}

/// The same search as a signed-in member: "my size" (`我的尺码`) is the size their
/// orders in this brand advise. DynamoDB: as the public search, + 1 Query + at most 1
/// BatchGetItem when the query asks for "my size".
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/search/mine", tag = "browse-catalog",
    params(("q" = Option<String>, Query, description = "at most 100 characters"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "default 20")),
    responses((status = 200, body = SearchPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "campaign-closed")))]
pub async fn my_search(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    query: QueryParams,
) -> Result<Json<SearchPage>, Problem> {
    let t = params.tenant()?;
    let id = params.id("campaign")?;
    run(&st, &t, &id, &query, Some(&caller.user)).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSize {
    pub sku: Sku,
    /// Absent when the member's orders in this brand say nothing yet.
    pub advice: Option<SizeAdvice>,
}

/// The size this member should take of a product, from the sizes they kept in its brand
/// (its category first) and what they sent back as too small or too large.
/// DynamoDB: 1 Query + at most 1 BatchGetItem (+ the cached campaign and catalogue).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}/size-advice", tag = "browse-catalog",
    responses((status = 200, body = ProductSize), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "campaign-closed")))]
pub async fn size_advice(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<ProductSize>, Problem> {
    let t = params.tenant()?;
    let id: CampaignId = params.id("campaign")?;
    let sku: Sku = params.id("sku")?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &id, now).await?;
    let catalogue = st.db.catalogue(&t, &campaign, now).await?;
    let listing = catalogue
        .products
        .iter()
        .find(|p| p.listing.sku == sku)
        .ok_or_else(|| Problem::not_found("product"))?;
    let advice = st
        .size_advice(&t, &campaign, &listing.listing.category, &caller.user)
        .await?
        // advice for a size this product does not come in says nothing here
        .filter(|a| listing.listing.sizes.contains(&a.size));
    Ok(Json(ProductSize { sku, advice }))
}
