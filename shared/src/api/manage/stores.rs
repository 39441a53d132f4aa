//! The tenant's stores (with the clerks who work their counters) and guides.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::catalog::{Address, Guide, Phone, Store};
use crate::domain::ids::{GuideId, StoreId, UserId};
use crate::domain::text::validate_name;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Params, Problem, QueryParams};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    pub name: String,
    pub address: Address,
    pub phone: Option<Phone>,
    #[serde(default)]
    pub clerks: Vec<UserId>,
    /// Where it is on the map (WGS-84).
    #[serde(default)]
    pub location: Option<crate::domain::geo::GeoPoint>,
    /// Same-city delivery by the store's rider: a fee it bears, within a radius of its
    /// location (which it then needs).
    #[serde(default)]
    pub same_city: Option<crate::domain::shipping::SameCityOffer>,
    /// Its hours per weekday and closed dates (in its time zone, Asia/Shanghai unless
    /// given).
    #[serde(default)]
    pub opening: crate::domain::opening::Opening,
    /// Pickup appointments: slots of `minutes` from opening, `capacity` places each.
    #[serde(default)]
    pub pickup_slots: Option<crate::domain::appointment::PickupSlots>,
}

/// Create or replace a store. DynamoDB: 1 PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/stores/{store}", tag = "manage-campaign",
    request_body = StoreInput,
    responses((status = 200, body = Store)))]
pub async fn put_store(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<StoreInput>,
) -> Result<Json<Store>, Problem> {
    let t = allowed.tenant;
    validate_name("name", &input.name, 80)?;
    input.address.validate("address")?;
    if input.clerks.len() > 100 {
        return Err(Problem::validation("clerks", "at most 100 clerks"));
    }
    input.opening.validate("opening")?;
    if let Some(s) = &input.pickup_slots {
        s.validate("pickup_slots")?;
    }
    if let Some(at) = &input.location {
        at.validate("location")?;
    }
    if let Some(offer) = &input.same_city {
        offer.validate("same_city")?;
        if input.location.is_none() {
            return Err(Problem::validation(
                "same_city",
                "same-city delivery measures its radius from the store: give its location",
            ));
        }
    }
    let shop = Store {
        id: params.id::<StoreId>("store")?,
        name: input.name.trim().to_owned(),
        address: input.address,
        phone: input.phone,
        clerks: input.clerks,
        location: input.location,
        same_city: input.same_city,
        opening: input.opening,
        pickup_slots: input.pickup_slots,
        updated_at: st.clock.now(),
    };
    st.db.put_store(&t, &shop).await?;
    Ok(Json(shop))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreList {
    pub stores: Vec<Store>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The tenant's stores, by id, a page at a time. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/stores", tag = "manage-campaign",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = StoreList)))]
pub async fn list_stores(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    query: QueryParams,
) -> Result<Json<StoreList>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.stores_page(&allowed.tenant, limit, cursor).await?;
    Ok(Json(StoreList {
        stores: page.items,
        next_cursor: page.next,
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
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/guides/{guide}", tag = "manage-campaign",
    request_body = GuideInput,
    responses((status = 200, body = Guide)))]
pub async fn put_guide(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<GuideInput>,
) -> Result<Json<Guide>, Problem> {
    let t = allowed.tenant;
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
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The tenant's guides, by id, a page at a time. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/guides", tag = "manage-campaign",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = GuideList)))]
pub async fn list_guides(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    query: QueryParams,
) -> Result<Json<GuideList>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.guides_page(&allowed.tenant, limit, cursor).await?;
    Ok(Json(GuideList {
        guides: page.items,
        next_cursor: page.next,
    }))
}
