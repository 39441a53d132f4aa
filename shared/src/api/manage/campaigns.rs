//! Campaigns: create, read, edit (until shortly before they go live), slots, publish.
//! Staff see a campaign with the same effective `status` buyers see.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::attribution::AttributionPolicy;
use crate::domain::campaign::{
    validate_slots, validate_window, Campaign, CampaignStatus, Category, EarlyAccess, Slot, Stage,
    DEFAULT_PAYMENT_WINDOW_MINUTES, DEFAULT_TIME_ZONE,
};
use crate::domain::ids::{CampaignId, StoreId};
use crate::domain::pricing::CouponRules;
use crate::domain::refund::ReturnPolicy;
use crate::domain::tenancy::Tenant;
use crate::domain::text::validate_name;
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Params, Problem};

/// A campaign as staff see it: everything stored, plus the status at this moment,
/// computed by the same rule as the one buyers see ([`Campaign::status_at`]).
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    #[serde(flatten)]
    pub campaign: Campaign,
    /// draft, scheduled, live, ended, closing or closed, now.
    pub status: CampaignStatus,
}

impl CampaignView {
    pub fn at(campaign: Campaign, now: DateTime<Utc>) -> Self {
        CampaignView {
            status: campaign.status_at(now),
            campaign,
        }
    }
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
    /// The return window and when a return goes to a person.
    pub returns: Option<ReturnPolicy>,
    /// How sales are credited to guides (last touch or binding) and their commission.
    pub attribution: Option<AttributionPolicy>,
    /// Members of a level may buy a set time before `starts_at`.
    pub early_access: Option<EarlyAccess>,
}

impl CampaignInput {
    fn validate(&self) -> Result<(), DomainError> {
        validate_name("name", &self.name, 80)?;
        validate_window(self.starts_at, self.ends_at)?;
        validate_slots(&self.slots)?;
        if let Some(e) = &self.early_access {
            e.validate()?;
        }
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
        if let Some(r) = &self.returns {
            r.validate()?;
        }
        if let Some(a) = &self.attribution {
            a.validate()?;
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
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns", tag = "manage-campaign",
    request_body = CampaignInput,
    responses((status = 201, body = CampaignView), (status = 409, body = Problem, description = "already-exists")))]
pub async fn create_campaign(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<(StatusCode, HeaderMap, Json<CampaignView>), Problem> {
    let t = allowed.tenant;
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
        stage: Stage::Draft,
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
        returns: input.returns.unwrap_or_default(),
        attribution: input.attribution.unwrap_or_default(),
        shard_counts: Default::default(),
        early_access: input.early_access,
        close: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    st.db.create_campaign(&t, &c).await?;
    let loc = location(format!("/v1/{}/{}/campaigns/{}", t.brand, t.group, id));
    Ok((StatusCode::CREATED, loc, Json(CampaignView::at(c, now))))
}

/// A campaign as staff see it, drafts included. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}", tag = "manage-campaign",
    responses((status = 200, body = CampaignView)))]
pub async fn read_campaign(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<CampaignView>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let campaign = st.db.campaign(&t, &id, true).await?;
    Ok(Json(CampaignView::at(campaign, st.clock.now())))
}

/// Replace a campaign's editable fields (until a minute before it goes live; the write
/// itself is conditioned on it).
/// DynamoDB: 1 GetItem + 1 Query (stores) + 1 conditional PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/campaigns/{campaign}", tag = "manage-campaign",
    request_body = CampaignInput,
    responses((status = 200, body = CampaignView), (status = 409, body = Problem, description = "campaign-not-editable, concurrent-update")))]
pub async fn update_campaign(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<Json<CampaignView>, Problem> {
    let t = allowed.tenant;
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
        returns: input.returns.unwrap_or(current.returns),
        attribution: input.attribution.unwrap_or(current.attribution),
        early_access: input.early_access.or(current.early_access.clone()),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    st.db
        .edit_campaign(&t, &next, current.version, st.clock.now())
        .await?;
    Ok(Json(CampaignView::at(next, now)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotsInput {
    pub slots: Vec<Slot>,
}

/// Replace a campaign's flash-sale slots. DynamoDB: 1 GetItem + 1 conditional PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/slots", tag = "manage-campaign",
    request_body = SlotsInput,
    responses((status = 200, body = CampaignView), (status = 409, body = Problem, description = "campaign-not-editable, concurrent-update")))]
pub async fn put_slots(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<SlotsInput>,
) -> Result<Json<CampaignView>, Problem> {
    let t = allowed.tenant;
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
    st.db
        .edit_campaign(&t, &next, current.version, st.clock.now())
        .await?;
    Ok(Json(CampaignView::at(next, now)))
}

/// Publish a complete draft: it is scheduled, and live from its start.
/// DynamoDB: 1 GetItem + 1 Query + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/publish", tag = "manage-campaign",
    responses((status = 200, body = CampaignView), (status = 409, body = Problem, description = "campaign-not-draft, concurrent-update")))]
pub async fn publish(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
) -> Result<Json<CampaignView>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let now = st.clock.now();
    Ok(Json(CampaignView::at(
        st.db.publish(&t, &id, now).await?,
        now,
    )))
}
