//! `member-center`: a buyer's home across brands and store groups. Their member
//! profile (the phone shown masked), binding the phone their identity provider
//! verified, their points and level in a brand with the ledger behind them, what they
//! follow and their home; and for a brand's operators, a member's standing and
//! adjustments of their points with a reason.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::browse::CampaignSummary;
use crate::app::AppState;
use crate::domain::campaign::CampaignStatus;
use crate::domain::coupon::{BuyerCoupon, CouponStatus};
use crate::domain::group_buy::{GroupStatus, GroupView};
use crate::domain::ids::{BrandId, StoreGroupId, UserId};
use crate::domain::member::{Follow, MemberTerms, PointsEntry, Profile, MAX_FOLLOWS};
use crate::domain::order::Order;
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Brand, Manage, Staff};
use crate::http::extract::IdempotencyKeyHeader;
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(bind_phone))
        .routes(routes!(my_points))
        .routes(routes!(set_follows))
        .routes(routes!(home))
        .routes(routes!(member_for_staff))
        .routes(routes!(adjust_points))
        .routes(routes!(member_terms, put_member_terms))
        .routes(routes!(super::assists::start))
        .routes(routes!(super::assists::help))
        .routes(routes!(super::assists::read))
        .routes(routes!(super::assists::mine))
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
    let s = standing(&brand, &account, &terms, floor, now);
    Ok(Json(PointsView {
        brand: s.brand,
        pending: s.pending,
        available: s.available,
        level: s.level,
        level_name: s.level_name,
        growth_fen: s.growth_fen,
        next_level: s.next_level,
        fast_lane: s.fast_lane,
        entries: page.items,
        next_cursor: page.next,
    }))
}

/// A member as staff of a brand see them: the phone masked, their level and points in
/// the brand, and a page of its ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberForStaff {
    pub member: String,
    /// Masked (at most its last four digits); null until bound.
    pub phone: Option<String>,
    pub member_id: Option<String>,
    pub level: u8,
    pub pending: i64,
    pub available: i64,
    pub growth_fen: i64,
    pub entries: Vec<PointsEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A member's level, points and ledger in the path's brand, for its operators.
/// DynamoDB: 2 BatchGetItem (profile; account and terms) + 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/members/{member}", tag = "member-center",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = MemberForStaff)))]
pub async fn member_for_staff(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    query: QueryParams,
) -> Result<Json<MemberForStaff>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let member: UserId = params.id("member")?;
    let brand = &allowed.tenant.brand;
    let now = st.clock.now();
    let (profile, _, _) = st.db.profile(&member, None).await?;
    let (account, _, terms) = st.db.account(&member, brand).await?;
    let page = st.db.points_entries(&member, brand, limit, cursor).await?;
    let floor = profile.crm_levels.get(brand.as_str()).copied().unwrap_or(0);
    let shown = view(&st, &member, &profile);
    Ok(Json(MemberForStaff {
        member: member.to_string(),
        phone: shown.phone,
        member_id: shown.member_id,
        level: account.level_at(&terms, now).max(floor),
        pending: account.pending,
        available: account.available,
        growth_fen: account.growth(now),
        entries: page.items,
        next_cursor: page.next,
    }))
}

/// Staff's adjustment of a member's available points in the path's brand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Points to add (negative to take away), 1 to 100,000 either way.
    #[schema(minimum = -100000, maximum = 100000)]
    pub points: i64,
    /// Why, in words the member could be shown (recorded on the entry with who did it).
    pub reason: String,
}

/// Adjusts a member's available points with a reason, once per `Idempotency-Key`
/// (the entry records who did it). DynamoDB: 1 BatchGetItem + 1 TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/members/{member}/points", tag = "member-center",
    request_body = Adjustment,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per adjustment")),
    responses((status = 201, body = PointsEntry), (status = 200, body = PointsEntry, description = "replayed: the entry written the first time")))]
pub async fn adjust_points(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(input): JsonBody<Adjustment>,
) -> Result<(StatusCode, Json<PointsEntry>), Problem> {
    let member: UserId = params.id("member")?;
    // unsigned_abs: i64::MIN has no absolute value of its own.
    if input.points == 0 || input.points.unsigned_abs() > 100_000 {
        return Err(Problem::validation(
            "points",
            "between 1 and 100,000 points, either way",
        ));
    }
    let reason = crate::domain::text::validate_name("reason", &input.reason, 200)
        .map(|_| input.reason.trim().to_owned())?;
    let (entry, fresh) = st
        .adjust_points(
            &member,
            &allowed.tenant.brand,
            &format!("adjust-{key}"),
            input.points,
            &reason,
            &allowed.caller.user,
            st.clock.now(),
        )
        .await?;
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

/// A tenant (brand and store group) or a whole brand (no `store_group`) a member follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowView {
    pub brand: String,
    pub store_group: Option<String>,
}

/// The follows, as sent and as kept (at most 20).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Follows {
    pub follows: Vec<FollowView>,
}

fn parse_follows(input: &Follows) -> Result<Vec<Follow>, Problem> {
    if input.follows.len() > MAX_FOLLOWS {
        return Err(Problem::validation(
            "follows",
            format!("at most {MAX_FOLLOWS} follows"),
        ));
    }
    let mut out: Vec<Follow> = Vec::new();
    for (i, f) in input.follows.iter().enumerate() {
        let brand = BrandId::parse(&f.brand)
            .map_err(|e| Problem::validation(format!("follows[{i}].brand"), e.to_string()))?;
        let group = f
            .store_group
            .as_deref()
            .map(StoreGroupId::parse)
            .transpose()
            .map_err(|e| Problem::validation(format!("follows[{i}].store_group"), e.to_string()))?;
        let follow = Follow { brand, group };
        if !out.contains(&follow) {
            out.push(follow);
        }
    }
    Ok(out)
}

fn follows_view(follows: &[Follow]) -> Follows {
    Follows {
        follows: follows
            .iter()
            .map(|f| FollowView {
                brand: f.brand.to_string(),
                store_group: f.group.as_ref().map(ToString::to_string),
            })
            .collect(),
    }
}

/// Sets what the caller follows: tenants (a brand's store group) or whole brands.
/// DynamoDB: 1 BatchGetItem + 1 conditional PutItem.
#[utoipa::path(put, path = "/v1/me/follows", tag = "member-center",
    request_body = Follows,
    responses((status = 200, body = Follows)))]
pub async fn set_follows(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<Follows>,
) -> Result<Json<Follows>, Problem> {
    let follows = parse_follows(&input)?;
    let kept = st.set_follows(&caller.user, follows).await?;
    Ok(Json(follows_view(&kept)))
}

/// A campaign on a member's home.
#[derive(Debug, Serialize, ToSchema)]
pub struct HomeCampaign {
    pub brand: String,
    pub store_group: String,
    pub campaign: CampaignSummary,
    /// When this member may buy, if before `starts_at` (their level's early access).
    pub opens_for_you_at: Option<DateTime<Utc>>,
}

/// A member's points and level in one brand.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandStanding {
    pub brand: String,
    pub pending: i64,
    pub available: i64,
    pub level: u8,
    pub level_name: Option<String>,
    pub growth_fen: i64,
    pub next_level: Option<NextLevel>,
    /// Their returns skip the returns-count rule and are reviewed first.
    pub fast_lane: bool,
}

/// A member's standing in `brand`: the level their growth holds (or the CRM's floor),
/// the next one and what it still needs.
fn standing(
    brand: &BrandId,
    account: &crate::domain::member::Account,
    terms: &MemberTerms,
    floor: u8,
    now: DateTime<Utc>,
) -> BrandStanding {
    let level = account.level_at(terms, now).max(floor);
    let growth = account.growth(now);
    let held = terms.terms_of(level);
    BrandStanding {
        brand: brand.to_string(),
        pending: account.pending,
        available: account.available,
        level,
        level_name: held.map(|l| l.name.clone()),
        growth_fen: growth,
        next_level: terms.terms_of(level + 1).map(|l| NextLevel {
            level: l.level,
            name: l.name.clone(),
            growth_fen: l.growth_fen,
            to_go_fen: (l.growth_fen - growth).max(0),
        }),
        fast_lane: held.is_some_and(|l| l.fast_lane),
    }
}

/// What a member comes back to once a campaign is over.
#[derive(Debug, Serialize, ToSchema)]
pub struct Home {
    pub follows: Vec<FollowView>,
    /// Live and upcoming campaigns of what they follow, soonest first.
    pub campaigns: Vec<HomeCampaign>,
    /// Their five latest orders, in any tenant.
    pub orders: Vec<Order>,
    /// Their open group buys among their latest ten seats.
    pub group_buys: Vec<GroupView>,
    /// Their available coupons among the latest ten.
    pub coupons: Vec<BuyerCoupon>,
    /// Points and level in each brand they follow or bought from lately.
    pub brands: Vec<BrandStanding>,
}

/// The caller's home: what they follow and its campaigns (early access shown for their
/// level), their recent orders, open group buys, coupons, and points and level per
/// brand. No guide's link needed. DynamoDB: 2 BatchGetItem (profile; accounts and
/// terms) + 3 Query (orders, coupons, seats) + 1 BatchGetItem (their groups) + 1 Query
/// per followed tenant and per followed whole brand (its store groups) and per store
/// group of it, at most 20 tenants in all.
#[utoipa::path(get, path = "/v1/me/home", tag = "member-center",
    responses((status = 200, body = Home)))]
pub async fn home(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Home>, Problem> {
    let now = st.clock.now();
    let me = &caller.user;
    let (profile, _, _) = st.db.profile(me, None).await?;
    let orders = st.db.my_orders(me, 5, None).await?.items;
    let coupons: Vec<BuyerCoupon> = st
        .db
        .my_coupons(me, 10, None)
        .await?
        .items
        .into_iter()
        .filter(|c| c.status == CouponStatus::Available)
        .collect();
    let group_buys: Vec<GroupView> = st
        .db
        .my_groups(me, 10, None)
        .await?
        .items
        .into_iter()
        .filter(|(_, g)| g.status == GroupStatus::Open)
        .map(|(_, g)| g.view(&[]))
        .collect();
    // Brands: those followed, then those of recent orders.
    let mut brands: Vec<BrandId> = Vec::new();
    for b in profile
        .follows
        .iter()
        .map(|f| f.brand.clone())
        .chain(orders.iter().map(|o| o.tenant.brand.clone()))
    {
        if !brands.contains(&b) && brands.len() < MAX_FOLLOWS {
            brands.push(b);
        }
    }
    let accounts = st.db.accounts(me, &brands).await?;
    let mut levels = std::collections::BTreeMap::new();
    let standings: Vec<BrandStanding> = accounts
        .into_iter()
        .map(|(brand, account, terms)| {
            let floor = profile.crm_levels.get(brand.as_str()).copied().unwrap_or(0);
            let s = standing(&brand, &account, &terms, floor, now);
            levels.insert(brand, s.level);
            s
        })
        .collect();
    let mut campaigns = Vec::new();
    for t in st
        .db
        .followed_tenants(&profile.follows, MAX_FOLLOWS)
        .await?
    {
        let level = levels.get(&t.brand).copied().unwrap_or(0);
        for c in st.db.campaigns(&t).await? {
            let status = c.status_at(now);
            if !matches!(status, CampaignStatus::Live | CampaignStatus::Scheduled) {
                continue;
            }
            let early = c
                .early_access
                .as_ref()
                .filter(|e| status == CampaignStatus::Scheduled && level >= e.min_level)
                .map(|_| c.earliest_open());
            campaigns.push(HomeCampaign {
                brand: t.brand.to_string(),
                store_group: t.group.to_string(),
                campaign: CampaignSummary::of(&c, now),
                opens_for_you_at: early,
            });
        }
    }
    campaigns.sort_by_key(|h| h.opens_for_you_at.unwrap_or(h.campaign.starts_at));
    Ok(Json(Home {
        follows: follows_view(&profile.follows).follows,
        campaigns,
        orders,
        group_buys,
        coupons,
        brands: standings,
    }))
}

/// The brand's member terms: points per yuan, levels with their growth thresholds and
/// benefits, the downgrade grace (the defaults until the brand sets its own).
/// DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/member-terms", tag = "member-center",
    responses((status = 200, body = MemberTerms)))]
pub async fn member_terms(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
) -> Result<Json<MemberTerms>, Problem> {
    Ok(Json(st.db.member_terms(&allowed.tenant.brand).await?))
}

/// Sets the brand's member terms (brand admins and hq over the whole brand). They apply
/// to points earned from then on and to levels as they are next read.
/// DynamoDB: 1 PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/member-terms", tag = "member-center",
    request_body = MemberTerms,
    responses((status = 200, body = MemberTerms)))]
pub async fn put_member_terms(
    State(st): State<AppState>,
    allowed: Allowed<Brand>,
    JsonBody(terms): JsonBody<MemberTerms>,
) -> Result<Json<MemberTerms>, Problem> {
    terms.validate()?;
    st.db
        .put_member_terms(&allowed.tenant.brand, &terms)
        .await?;
    Ok(Json(terms))
}
