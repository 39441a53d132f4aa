//! Invite friends to assist, over HTTP (member-center): a member starts an assist of
//! a campaign's offer and gets its signed link; helpers open it and assist; members
//! list their assists. Starting and assisting take a phone the identity provider
//! verified (it is what makes a helper one person).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::assist::{sign_link, verify_link, Assist, AssistStatus};
use crate::domain::attribution::verify_share;
use crate::domain::auth::Caller;
use crate::domain::ids::{AssistId, AssistOfferId, CampaignId, GuideId};
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};

/// An assist as its starter and its helpers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssistView {
    pub id: AssistId,
    pub campaign: CampaignId,
    pub offer: AssistOfferId,
    pub status: AssistStatus,
    /// Helpers needed in all, and so far.
    pub needed: u8,
    pub helped: u8,
    pub expires_at: DateTime<Utc>,
    /// The coupons granted the starter (their ids), once complete.
    pub pack: Vec<String>,
    /// Set when the offer's budget was found spent (why it could not complete).
    pub budget_spent_at: Option<DateTime<Utc>>,
    /// The guide whose link the starter came through.
    pub guide: Option<GuideId>,
    /// That guide's share token: buying through it credits the guide as usual.
    pub share_token: Option<String>,
    /// The assist's signed link token, to share (its starter only).
    pub link: Option<String>,
    /// Whether the caller is among its helpers.
    pub helped_by_you: bool,
}

fn view(st: &AppState, a: &Assist, caller: &Caller) -> AssistView {
    let starter = a.starter == caller.user;
    let link = starter.then(|| sign_link(&st.secrets.share_link, &a.claims()));
    AssistView {
        id: a.id.clone(),
        campaign: a.campaign.clone(),
        offer: a.offer.clone(),
        status: a.status,
        needed: a.needed,
        helped: a.helpers.len().min(usize::from(u8::MAX)) as u8,
        expires_at: a.expires_at,
        pack: if starter { a.pack.clone() } else { Vec::new() },
        budget_spent_at: a.budget_spent_at,
        guide: a.guide.clone(),
        share_token: a.guide_link.clone(),
        link,
        helped_by_you: a.helped_by(&caller.user),
    }
}

/// The caller's verified phone as its keyed hash, or 403 `phone-not-verified`.
fn phone_hash(st: &AppState, caller: &Caller) -> Result<String, Problem> {
    match caller.verified_phone.as_ref() {
        Some(p) => Ok(st.phones.lookup_hash(p)),
        None => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "phone-not-verified",
            "Assists take a phone the identity provider verified: sign in with your phone number",
        )),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    /// The guide's share token the starter arrived with, if any: it travels with the
    /// assist's link.
    pub share_token: Option<String>,
}

/// Starts an assist of the offer (or answers the one open: one at a time per member
/// and offer), with its signed link to share. DynamoDB: the cached campaign read + 1
/// GetItem (the offer) + 1 BatchGetItem + 1 TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/assist-offers/{offer}/assists", tag = "member-center",
    request_body = StartInput,
    responses((status = 200, body = AssistView),
        (status = 403, body = Problem, description = "phone-not-verified"),
        (status = 409, body = Problem, description = "campaign-not-live, pack-already-unlocked")))]
pub async fn start(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<StartInput>,
) -> Result<Json<AssistView>, Problem> {
    let t = params.tenant()?;
    let c: CampaignId = params.id("campaign")?;
    let offer: AssistOfferId = params.id("offer")?;
    let hash = phone_hash(&st, &caller)?;
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(&t, &c, now).await?;
    // A guide's link that does not verify credits nobody: the assist starts anyway.
    let guide = input.share_token.and_then(|token| {
        verify_share(&st.secrets.share_link, &token, &t, &c, now)
            .ok()
            .map(|claims| (claims.guide, token))
    });
    let a = st
        .start_assist(&t, &campaign, &offer, &caller.user, hash, guide, now)
        .await?;
    Ok(Json(view(&st, &a, &caller)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpInput {
    /// The assist's link token, as shared.
    pub link: String,
}

/// Assists: the last helper needed unlocks the starter's pack. Refused, each with its
/// own type: `assist-self` (the starter, from any account on their phone),
/// `phone-not-verified`, `already-assisted` (this phone, this offer),
/// `daily-cap-reached`, `assist-closed` (expired or complete), `budget-spent`,
/// `not-new-to-brand`. Assisting again answers the assist as it stands. DynamoDB: 1
/// GetItem + 1 BatchGetItem + 1 TransactWriteItems (+1 GetItem of the campaign's
/// coupons when it completes).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/assists/{assist}/help", tag = "member-center",
    request_body = HelpInput,
    responses((status = 200, body = AssistView),
        (status = 403, body = Problem, description = "phone-not-verified"),
        (status = 409, body = Problem, description = "assist-self, already-assisted, daily-cap-reached, assist-closed, budget-spent, not-new-to-brand"),
        (status = 422, body = Problem, description = "link")))]
pub async fn help(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<HelpInput>,
) -> Result<Json<AssistView>, Problem> {
    let t = params.tenant()?;
    let id: AssistId = params.id("assist")?;
    let hash = phone_hash(&st, &caller)?;
    let now = st.clock.now();
    verify_link(&st.secrets.share_link, &input.link, &t, &id, now)?;
    let a = st.help_assist(&t, &id, &caller.user, &hash, now).await?;
    tracing::info!(assist = %id, helped = a.helpers.len(), status = ?a.status, "assisted");
    Ok(Json(view(&st, &a, &caller)))
}

/// An assist's progress (for the page its link opens). DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/assists/{assist}", tag = "member-center",
    responses((status = 200, body = AssistView), (status = 404, body = Problem)))]
pub async fn read(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<AssistView>, Problem> {
    let t = params.tenant()?;
    let id: AssistId = params.id("assist")?;
    let a = st.db.assist(&t, &id).await?;
    Ok(Json(view(&st, &a, &caller)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistPage {
    pub assists: Vec<AssistView>,
    pub next_cursor: Option<String>,
}

/// The caller's assists in every tenant, newest first. DynamoDB: 1 Query (GSI1).
#[utoipa::path(get, path = "/v1/me/assists", tag = "member-center",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = AssistPage)))]
pub async fn mine(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams,
) -> Result<Json<AssistPage>, Problem> {
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.my_assists(&caller.user, limit, cursor).await?;
    Ok(Json(AssistPage {
        assists: page.items.iter().map(|a| view(&st, a, &caller)).collect(),
        next_cursor: page.next,
    }))
}
