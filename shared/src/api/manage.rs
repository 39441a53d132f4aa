//! `manage-campaign`: the operators' side. Campaigns, stores, guides, listings with
//! stock per size per store, slots, coupon templates, publish. Ops, brand admins and hq
//! of the tenant only; every check runs before any write.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::auth::{Action, Caller};
use crate::domain::campaign::{
    validate_slots, validate_window, Campaign, Category, Slot, StoredStatus,
    DEFAULT_PAYMENT_WINDOW_MINUTES, DEFAULT_TIME_ZONE,
};
use crate::domain::catalog::{
    Address, GroupOffer, Guide, Listing, Phone, Store as Shop, StoreStock, DEFAULT_GROUP_SIZE,
};
use crate::domain::coupon::CouponTemplate;
use crate::domain::ids::{CampaignId, GuideId, Size, Sku, SlotId, StoreId, UserId};
use crate::domain::money::Fen;
use crate::domain::pricing::CouponRules;
use crate::domain::tenancy::Tenant;
use crate::domain::text::validate_name;
use crate::domain::DomainError;
use crate::http::{Authenticated, JsonBody, Params, Problem};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/{brand}/{group}/campaigns", post(create_campaign))
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}",
            get(read_campaign).put(update_campaign),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/slots",
            put(put_slots),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}",
            get(read_listing).put(put_listing),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons",
            get(list_coupons),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}",
            put(put_coupon),
        )
        .route(
            "/v1/{brand}/{group}/campaigns/{campaign}/publish",
            post(publish),
        )
        .route("/v1/{brand}/{group}/stores", get(list_stores))
        .route("/v1/{brand}/{group}/stores/{store}", put(put_store))
        .route("/v1/{brand}/{group}/guides", get(list_guides))
        .route("/v1/{brand}/{group}/guides/{guide}", put(put_guide))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

/// The tenant of the path, once the caller is known to be allowed to act in it.
fn authorized(caller: &Caller, params: &Params, action: Action) -> Result<Tenant, Problem> {
    let tenant = params.tenant()?;
    caller.authorize(action, &tenant)?;
    Ok(tenant)
}

/// A campaign's editable fields. `id` is required on create and, if sent on update,
/// must match the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub id: Option<CampaignId>,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA name; default Asia/Shanghai.
    #[schema(value_type = Option<String>, example = "Asia/Shanghai")]
    pub time_zone: Option<Tz>,
    #[serde(default)]
    pub slots: Vec<Slot>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub stores: Vec<StoreId>,
    pub payment_window_minutes: Option<u32>,
    /// Coupons per order and a campaign-wide cap on coupon discounts.
    pub coupon_rules: Option<CouponRules>,
}

impl CampaignInput {
    fn validate(&self) -> Result<(), DomainError> {
        validate_name("name", &self.name, 80)?;
        validate_window(self.starts_at, self.ends_at)?;
        validate_slots(&self.slots)?;
        if self.categories.len() > 50 {
            return Err(DomainError::invalid("categories", "at most 50 categories"));
        }
        for (i, c) in self.categories.iter().enumerate() {
            validate_name(&format!("categories[{i}].name"), &c.name, 40)?;
            if self.categories[..i].iter().any(|o| o.id == c.id) {
                return Err(DomainError::invalid(
                    format!("categories[{i}].id"),
                    "duplicate category",
                ));
            }
        }
        if self.stores.len() > 500 {
            return Err(DomainError::invalid("stores", "at most 500 stores"));
        }
        for (i, s) in self.stores.iter().enumerate() {
            if self.stores[..i].contains(s) {
                return Err(DomainError::invalid(
                    format!("stores[{i}]"),
                    "duplicate store",
                ));
            }
        }
        if let Some(r) = self.coupon_rules {
            if !(1..=5).contains(&r.max_per_order) {
                return Err(DomainError::invalid(
                    "coupon_rules.max_per_order",
                    "must be between 1 and 5",
                ));
            }
        }
        if let Some(m) = self.payment_window_minutes {
            if !(1..=120).contains(&m) {
                return Err(DomainError::invalid(
                    "payment_window_minutes",
                    "must be between 1 and 120",
                ));
            }
        }
        Ok(())
    }
}

/// Every store a campaign names must exist in the tenant. 1 Query.
async fn check_stores_exist(st: &AppState, t: &Tenant, stores: &[StoreId]) -> Result<(), Problem> {
    if stores.is_empty() {
        return Ok(());
    }
    let known = st.db.stores(t).await?;
    for (i, s) in stores.iter().enumerate() {
        if !known.iter().any(|k| &k.id == s) {
            return Err(Problem::validation(
                format!("stores[{i}]"),
                "no such store in this tenant",
            ));
        }
    }
    Ok(())
}

fn location(path: String) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&path) {
        h.insert(header::LOCATION, v);
    }
    h
}

/// Create a draft campaign. DynamoDB: 1 Query (stores) + 1 PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{group}/campaigns", tag = "manage-campaign",
    request_body = CampaignInput,
    responses((status = 201, body = Campaign), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_campaign(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<(StatusCode, HeaderMap, Json<Campaign>), Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    let id = input
        .id
        .clone()
        .ok_or_else(|| Problem::validation("id", "missing field `id`"))?;
    input.validate()?;
    check_stores_exist(&st, &t, &input.stores).await?;
    let now = st.clock.now();
    let c = Campaign {
        id: id.clone(),
        name: input.name.trim().to_owned(),
        status: StoredStatus::Draft,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        time_zone: input.time_zone.unwrap_or(DEFAULT_TIME_ZONE),
        slots: input.slots,
        categories: input.categories,
        stores: input.stores,
        payment_window_minutes: input
            .payment_window_minutes
            .unwrap_or(DEFAULT_PAYMENT_WINDOW_MINUTES),
        coupons: Vec::new(),
        coupon_rules: input.coupon_rules.unwrap_or_default(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    st.db.create_campaign(&t, &c).await?;
    let loc = location(format!("/v1/{}/{}/campaigns/{}", t.brand, t.group, id));
    Ok((StatusCode::CREATED, loc, Json(c)))
}

/// A campaign as staff see it, drafts included. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{group}/campaigns/{campaign}", tag = "manage-campaign",
    responses((status = 200, body = Campaign), (status = 404, body = Problem)))]
pub async fn read_campaign(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Campaign>, Problem> {
    let t = authorized(&caller, &params, Action::ReadTenantConfig)?;
    let id: CampaignId = params.id("campaign")?;
    Ok(Json(st.db.campaign(&t, &id, true).await?))
}

/// Replace a campaign's editable fields (until it goes live).
/// DynamoDB: 1 GetItem + 1 Query (stores) + 1 conditional PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{group}/campaigns/{campaign}", tag = "manage-campaign",
    request_body = CampaignInput,
    responses((status = 200, body = Campaign), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_campaign(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<Json<Campaign>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    let id: CampaignId = params.id("campaign")?;
    if input.id.as_ref().is_some_and(|i| i != &id) {
        return Err(Problem::validation("id", "does not match the path"));
    }
    input.validate()?;
    let now = st.clock.now();
    let current = st.db.campaign(&t, &id, true).await?;
    current.ensure_editable(now)?;
    check_stores_exist(&st, &t, &input.stores).await?;
    let next = Campaign {
        name: input.name.trim().to_owned(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        time_zone: input.time_zone.unwrap_or(current.time_zone),
        slots: input.slots,
        categories: input.categories,
        stores: input.stores,
        payment_window_minutes: input
            .payment_window_minutes
            .unwrap_or(current.payment_window_minutes),
        coupon_rules: input.coupon_rules.unwrap_or(current.coupon_rules),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    st.db.replace_campaign(&t, &next, current.version).await?;
    Ok(Json(next))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotsInput {
    pub slots: Vec<Slot>,
}

/// Replace a campaign's flash-sale slots. DynamoDB: 1 GetItem + 1 conditional PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{group}/campaigns/{campaign}/slots", tag = "manage-campaign",
    request_body = SlotsInput,
    responses((status = 200, body = Campaign), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_slots(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<SlotsInput>,
) -> Result<Json<Campaign>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    let id: CampaignId = params.id("campaign")?;
    validate_slots(&input.slots)?;
    let now = st.clock.now();
    let current = st.db.campaign(&t, &id, true).await?;
    current.ensure_editable(now)?;
    let next = Campaign {
        slots: input.slots,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    st.db.replace_campaign(&t, &next, current.version).await?;
    Ok(Json(next))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub price_fen: Fen,
    /// Buyers needed to form a group; default 3.
    pub size: Option<u8>,
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
    pub group: Option<GroupInput>,
    /// Default 2.
    pub per_buyer_limit: Option<u32>,
    #[serde(default)]
    pub final_sale: bool,
    pub stock: Vec<StoreStock>,
    /// How many items the stock is split over (1-16); default 1.
    pub shards: Option<u8>,
}

/// Create or replace a listing and its stock (until the campaign goes live).
/// DynamoDB: 1 GetItem + 1 Query + 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}", tag = "manage-campaign",
    request_body = ListingInput,
    responses((status = 200, body = Listing), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_listing(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<ListingInput>,
) -> Result<Json<Listing>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
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
        }),
        per_buyer_limit: input.per_buyer_limit.unwrap_or(2),
        final_sale: input.final_sale,
        stock: input.stock,
        shards: input.shards.unwrap_or(1),
        updated_at: now,
    };
    listing.validate(&campaign)?;
    st.db.put_listing(&t, &campaign, &listing).await?;
    Ok(Json(listing))
}

/// A listing with each store's contribution. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}", tag = "manage-campaign",
    responses((status = 200, body = Listing), (status = 404, body = Problem)))]
pub async fn read_listing(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Listing>, Problem> {
    let t = authorized(&caller, &params, Action::ReadTenantConfig)?;
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
}

/// Create or replace a coupon template (until the campaign goes live).
/// DynamoDB: 1 GetItem + 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}", tag = "manage-campaign",
    request_body = CouponInput,
    responses((status = 200, body = CouponTemplate), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_coupon(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<CouponInput>,
) -> Result<Json<CouponTemplate>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    let id: CampaignId = params.id("campaign")?;
    let tpl = CouponTemplate {
        id: params.id("template")?,
        name: input.name.trim().to_owned(),
        off_fen: input.off_fen,
        min_spend_fen: input.min_spend_fen,
        per_buyer: input.per_buyer.unwrap_or(1),
        budget: input.budget,
        updated_at: st.clock.now(),
    };
    tpl.validate()?;
    let campaign = st.db.campaign(&t, &id, true).await?;
    campaign.ensure_editable(st.clock.now())?;
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
#[utoipa::path(get, path = "/v1/{brand}/{group}/campaigns/{campaign}/coupons", tag = "manage-campaign",
    responses((status = 200, body = CouponList), (status = 404, body = Problem)))]
pub async fn list_coupons(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<CouponList>, Problem> {
    let t = authorized(&caller, &params, Action::ReadTenantConfig)?;
    let id: CampaignId = params.id("campaign")?;
    Ok(Json(CouponList {
        coupons: st.db.campaign(&t, &id, false).await?.coupons,
    }))
}

/// Publish a complete draft: it is scheduled, and live from its start.
/// DynamoDB: 1 GetItem + 1 Query + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{group}/campaigns/{campaign}/publish", tag = "manage-campaign",
    responses((status = 200, body = Campaign), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn publish(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Campaign>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    let id: CampaignId = params.id("campaign")?;
    Ok(Json(st.db.publish(&t, &id, st.clock.now()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    pub name: String,
    pub address: Address,
    pub phone: Option<Phone>,
    #[serde(default)]
    pub clerks: Vec<UserId>,
}

/// Create or replace a store. DynamoDB: 1 PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{group}/stores/{store}", tag = "manage-campaign",
    request_body = StoreInput,
    responses((status = 200, body = Shop), (status = 422, body = Problem)))]
pub async fn put_store(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<StoreInput>,
) -> Result<Json<Shop>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    validate_name("name", &input.name, 80)?;
    input.address.validate("address")?;
    if input.clerks.len() > 100 {
        return Err(Problem::validation("clerks", "at most 100 clerks"));
    }
    let shop = Shop {
        id: params.id::<StoreId>("store")?,
        name: input.name.trim().to_owned(),
        address: input.address,
        phone: input.phone,
        clerks: input.clerks,
        updated_at: st.clock.now(),
    };
    st.db.put_store(&t, &shop).await?;
    Ok(Json(shop))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreList {
    pub stores: Vec<Shop>,
}

/// The tenant's stores. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{group}/stores", tag = "manage-campaign",
    responses((status = 200, body = StoreList)))]
pub async fn list_stores(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<StoreList>, Problem> {
    let t = authorized(&caller, &params, Action::ReadTenantConfig)?;
    Ok(Json(StoreList {
        stores: st.db.stores(&t).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuideInput {
    pub name: String,
    pub store: StoreId,
    pub user: UserId,
}

/// Create or replace a guide of one of the tenant's stores. DynamoDB: 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{group}/guides/{guide}", tag = "manage-campaign",
    request_body = GuideInput,
    responses((status = 200, body = Guide), (status = 422, body = Problem)))]
pub async fn put_guide(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<GuideInput>,
) -> Result<Json<Guide>, Problem> {
    let t = authorized(&caller, &params, Action::ManageCampaign)?;
    validate_name("name", &input.name, 80)?;
    let guide = Guide {
        id: params.id::<GuideId>("guide")?,
        name: input.name.trim().to_owned(),
        store: input.store,
        user: input.user,
        updated_at: st.clock.now(),
    };
    st.db.put_guide(&t, &guide).await?;
    Ok(Json(guide))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuideList {
    pub guides: Vec<Guide>,
}

/// The tenant's guides. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{group}/guides", tag = "manage-campaign",
    responses((status = 200, body = GuideList)))]
pub async fn list_guides(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<GuideList>, Problem> {
    let t = authorized(&caller, &params, Action::ReadTenantConfig)?;
    Ok(Json(GuideList {
        guides: st.db.guides(&t).await?,
    }))
}
