//! `member-center`: a buyer's home across brands and store groups. Their member
//! profile (the phone shown masked), binding the phone their identity provider
//! verified, and their points and level in a brand with the ledger behind them.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::ids::{BrandId, UserId};
use crate::domain::member::{PointsEntry, Profile};
use crate::domain::DomainError;
use crate::http::{Authenticated, Problem, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(bind_phone))
        .routes(routes!(my_points))
}

pub fn router(state: AppState) -> axum::Router {
    super::finish(routes(), state)
}

/// A member as they see themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberProfile {
    pub member: String,
    /// The bound phone, masked (at most its last four digits); null until bound.
    pub phone: Option<String>,
    pub bound_at: Option<DateTime<Utc>>,
    /// The group's member id; null until bound.
    pub member_id: Option<String>,
}

fn view(st: &AppState, member: &UserId, p: &Profile) -> MemberProfile {
    let phone = p
        .phone_sealed
        .as_deref()
        .and_then(|s| st.phones.open(s).ok())
        .map(|phone| String::from(phone.masked()));
    MemberProfile {
        member: member.to_string(),
        phone,
        bound_at: p.bound_at,
        member_id: p.crm_member_id.clone(),
    }
}

/// The caller's member profile. DynamoDB: 1 BatchGetItem.
#[utoipa::path(get, path = "/v1/me", tag = "member-center",
    responses((status = 200, body = MemberProfile)))]
pub async fn me(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MemberProfile>, Problem> {
    let (profile, _, _) = st.db.profile(&caller.user, None).await?;
    Ok(Json(view(&st, &caller.user, &profile)))
}

/// Binds the phone the caller's identity provider verified (the token's
/// `phone_number` with `phone_number_verified`), linking them to the group's
/// membership. Again with the same phone: the same answer. A phone another account
/// holds: 409 `phone-bound-elsewhere`, nothing merged. DynamoDB: 1 BatchGetItem + 1
/// TransactWriteItems (and the CRM call).
#[utoipa::path(post, path = "/v1/me/phone", tag = "member-center",
    responses((status = 200, body = MemberProfile),
        (status = 409, body = Problem, description = "phone-bound-elsewhere, member-has-phone"),
        (status = 403, body = Problem, description = "the token carries no verified phone")))]
pub async fn bind_phone(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MemberProfile>, Problem> {
    let Some(phone) = caller.verified_phone.as_ref() else {
        return Err(DomainError::Forbidden(
            "the token carries no verified phone: sign in with a phone number".into(),
        )
        .into());
    };
    let profile = st
        .bind_member_phone(&caller.user, phone, st.clock.now())
        .await?;
    Ok(Json(view(&st, &caller.user, &profile)))
}

/// The next level and what growth it still needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextLevel {
    pub level: u8,
    pub name: String,
    pub growth_fen: i64,
    pub to_go_fen: i64,
}

/// A member's points and level in a brand, with a page of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsView {
    pub brand: String,
    /// Earned by orders whose return window is still open.
    pub pending: i64,
    /// Spendable; below zero when refunds took back points already spent.
    pub available: i64,
    pub level: u8,
    pub level_name: Option<String>,
    /// Net paid in the brand over the last 365 days.
    pub growth_fen: i64,
    pub next_level: Option<NextLevel>,
    /// Their returns skip the returns-count rule and are reviewed first.
    pub fast_lane: bool,
    /// The ledger, by order, each entry with its reason.
    pub entries: Vec<PointsEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's points and level in a brand, and a page of its ledger (every entry
/// with its reason). DynamoDB: 2 BatchGetItem (profile; account and terms) + 1 Query.
#[utoipa::path(get, path = "/v1/me/points", tag = "member-center",
    params(("brand" = String, Query), ("cursor" = Option<String>, Query),
        ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = PointsView)))]
pub async fn my_points(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<PointsView>, Problem> {
    query.only(&["brand", "cursor", "limit"])?;
    let brand = BrandId::parse(query.get("brand").unwrap_or_default())
        .map_err(|e| Problem::invalid_parameter("brand", e.to_string()))?;
    let (limit, cursor) = query.page()?;
    let now = st.clock.now();
    let (profile, _, _) = st.db.profile(&caller.user, None).await?;
    let (account, _, terms) = st.db.account(&caller.user, &brand).await?;
    let page = st
        .db
        .points_entries(&caller.user, &brand, limit, cursor)
        .await?;
    let floor = profile.crm_levels.get(brand.as_str()).copied().unwrap_or(0);
    let level = account.level_at(&terms, now).max(floor);
    let growth = account.growth(now);
    let held = terms.terms_of(level);
    let next_level = terms.terms_of(level + 1).map(|l| NextLevel {
        level: l.level,
        name: l.name.clone(),
        growth_fen: l.growth_fen,
        to_go_fen: (l.growth_fen - growth).max(0),
    });
    Ok(Json(PointsView {
        brand: brand.to_string(),
        pending: account.pending,
        available: account.available,
        level,
        level_name: held.map(|l| l.name.clone()),
        growth_fen: growth,
        next_level,
        fast_lane: held.is_some_and(|l| l.fast_lane),
        entries: page.items,
        next_cursor: page.next,
    }))
}
