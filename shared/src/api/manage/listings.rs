//! Listings with their stock, and coupon templates: both promises to buyers, so both
//! change only while the campaign is editable, and the write itself checks it.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::catalog::{
    GroupOffer, Listing, StoreStock, DEFAULT_GROUP_HOURS, DEFAULT_GROUP_SIZE,
};
use crate::domain::coupon::CouponTemplate;
use crate::domain::ids::{CampaignId, Size, Sku, SlotId};
use crate::domain::money::Fen;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub price_fen: Fen,
    /// Buyers needed to form a group; default 3.
    pub size: Option<u8>,
    /// How long a group stays open; default 24 (never past the campaign's end).
    pub hours: Option<u32>,
    /// Groups one buyer may open or join on this listing; default 1.
    pub per_buyer: Option<u32>,
    /// A group with at least this many paid seats at expiry forms anyway, completed by
    /// the store; absent: it fails and is refunded.
    pub store_completes_at: Option<u8>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    pub name: String,
    pub category: crate::domain::ids::CategoryId,
    pub sizes: Vec<Size>,
    pub list_price_fen: Fen,
    pub clearance_price_fen: Fen,
    #[serde(default)]
    pub slot_prices_fen: BTreeMap<SlotId, Fen>,
    /// Group-buy terms, if it sells in group buys.
    #[serde(rename = "group_buy")]
    pub group: Option<GroupInput>,
    /// Default 2.
    pub per_buyer_limit: Option<u32>,
    #[serde(default)]
    pub final_sale: bool,
    pub stock: Vec<StoreStock>,
    /// How many items the stock is split over (1-32); default 1.
    pub shards: Option<u8>,
    /// Tags, colour, material and heel height: what search matches besides the name.
    #[serde(default)]
    pub attributes: crate::domain::search::Attributes,
    /// Its picture for posters: a PNG already in the bucket, under
    /// `images/{brand}/{store_group}/`.
    pub image: Option<String>,
}

/// Create or replace a listing and its stock (until a minute before the campaign goes
/// live; the write itself is conditioned on it).
/// DynamoDB: 1 GetItem + 1 Query + 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/listings/{sku}", tag = "manage-campaign",
    request_body = ListingInput,
    responses((status = 200, body = Listing), (status = 409, body = Problem, description = "campaign-not-editable, concurrent-update")))]
pub async fn put_listing(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<ListingInput>,
) -> Result<Json<Listing>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let sku: Sku = params.id("sku")?;
    let now = st.clock.now();
    let campaign = st.db.campaign(&t, &id, true).await?;
    campaign.ensure_editable(now)?;
    let listing = Listing {
        sku,
        name: input.name.trim().to_owned(),
        category: input.category,
        sizes: input.sizes,
        list_price_fen: input.list_price_fen,
        clearance_price_fen: input.clearance_price_fen,
        slot_prices_fen: input.slot_prices_fen,
        group: input.group.map(|g| GroupOffer {
            price_fen: g.price_fen,
            size: g.size.unwrap_or(DEFAULT_GROUP_SIZE),
            hours: g.hours.unwrap_or(DEFAULT_GROUP_HOURS),
            per_buyer: g.per_buyer.unwrap_or(1),
            store_completes_at: g.store_completes_at,
        }),
        per_buyer_limit: input.per_buyer_limit.unwrap_or(2),
        final_sale: input.final_sale,
        stock: input.stock,
        shards: input.shards.unwrap_or(1),
        attributes: input.attributes,
        image: input.image,
        updated_at: now,
    };
    listing.validate(&campaign)?;
    if let Some(key) = &listing.image {
        let prefix = format!("images/{}/{}/", t.brand, t.group);
        if !key.starts_with(&prefix)
            || !key.ends_with(".png")
            || crate::blobs::check_key(key).is_err()
        {
            return Err(Problem::validation(
                "image",
                format!("a PNG's key in the bucket under {prefix}"),
            ));
        }
    }
    // `now` again: the write is conditioned on the campaign being editable when it is
    // sent, not when the campaign was read.
    st.db
        .put_listing(&t, &campaign, &listing, st.clock.now())
        .await?;
    Ok(Json(listing))
}

/// A listing with each store's contribution. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/listings/{sku}", tag = "manage-campaign",
    responses((status = 200, body = Listing)))]
pub async fn read_listing(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<Listing>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let sku: Sku = params.id("sku")?;
    Ok(Json(st.db.listing(&t, &id, &sku).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponInput {
    pub name: String,
    pub off_fen: Fen,
    /// 0 or absent for a no-threshold coupon.
    #[serde(default)]
    pub min_spend_fen: Fen,
    /// Default 1.
    pub per_buyer: Option<u32>,
    pub budget: u32,
    /// A member coupon's price in the brand's points (default 0: free).
    #[serde(default)]
    pub points_price: u32,
    /// The member level it asks (default 0: anyone).
    #[serde(default)]
    pub min_level: u8,
}

/// Create or replace a coupon template (until a minute before the campaign goes live;
/// the write itself is conditioned on it).
/// DynamoDB: 1 GetItem + 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons/{template}", tag = "manage-campaign",
    request_body = CouponInput,
    responses((status = 200, body = CouponTemplate), (status = 409, body = Problem, description = "campaign-not-editable, concurrent-update")))]
pub async fn put_coupon(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<CouponInput>,
) -> Result<Json<CouponTemplate>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let now = st.clock.now();
    let tpl = CouponTemplate {
        id: params.id("template")?,
        name: input.name.trim().to_owned(),
        off_fen: input.off_fen,
        min_spend_fen: input.min_spend_fen,
        per_buyer: input.per_buyer.unwrap_or(1),
        budget: input.budget,
        points_price: input.points_price,
        min_level: input.min_level,
        updated_at: now,
    };
    tpl.validate()?;
    let campaign = st.db.campaign(&t, &id, true).await?;
    campaign.ensure_editable(now)?;
    // `now` again: the write is conditioned on the campaign being editable when it is
    // sent, not when the campaign was read.
    st.db
        .put_coupon_template(&t, &campaign, &tpl, st.clock.now())
        .await?;
    Ok(Json(tpl))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponList {
    pub coupons: Vec<CouponTemplate>,
}

/// A campaign's coupon templates. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons", tag = "manage-campaign",
    responses((status = 200, body = CouponList)))]
pub async fn list_coupons(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<CouponList>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    Ok(Json(CouponList {
        coupons: st.db.campaign(&t, &id, false).await?.coupons,
    }))
}
