//! `attribute-guide-sale`: guides' signed share links, a guide's performance and
//! credited sales, and a campaign's leaderboard. The counting itself is the
//! `attribution-worker`'s (SQS), from the order events.

pub mod links;
pub mod reads;

use axum::Router;

use crate::app::AppState;
use crate::domain::auth::Caller;
use crate::domain::catalog::Guide;
use crate::domain::ids::GuideId;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::http::Problem;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(links::create_share_link))
        .routes(routes!(reads::performance))
        .routes(routes!(reads::guide_orders))
        .routes(routes!(reads::leaderboard))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

/// The guide, if the caller may act for them: the guide themself, a clerk (store
/// manager) of their store, or ops, brand admins and hq of the tenant. Anyone else
/// learns only that there is no such guide for them. 1 GetItem (+1 BatchGetItem for a
/// store's staff).
pub async fn guide_for(
    st: &AppState,
    caller: &Caller,
    t: &Tenant,
    id: &GuideId,
) -> Result<Guide, Problem> {
    let guide = st.db.guide(t, id).await?;
    if caller.sees_every_store() || guide.user == caller.user {
        return Ok(guide);
    }
    let theirs = st
        .db
        .stores_clerked_by(t, std::slice::from_ref(&guide.store), &caller.user)
        .await?;
    if theirs.is_empty() {
        return Err(
            DomainError::Forbidden("only the guide, their store's manager or ops".into()).into(),
        );
    }
    Ok(guide)
}
