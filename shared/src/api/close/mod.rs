//! `close-campaign`: an operator closes a campaign (the schedule does it at the
//! campaign's end), and staff read its report. The close itself runs on the close
//! queue, a page at a time (`workers::close`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::campaign::{Campaign, CampaignStatus, Stage};
use crate::domain::close::{CloseRun, ReportRef};
use crate::domain::ids::CampaignId;
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Params, Problem};
use utoipa_axum::{router::OpenApiRouter, routes};

/// How long a report link stays valid.
const REPORT_LINK: Duration = Duration::from_secs(15 * 60);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(close_campaign))
        .routes(routes!(read_report))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// Minutes open group buys still have to fill their seats (0-1440; default 120).
    pub grace_minutes: Option<u32>,
}

/// Presigned links to the report's files.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLinks {
    pub json: String,
    pub csv: String,
    /// The page a person opens: charts and tables, self-contained.
    pub html: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a campaign's close stands, and its latest report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CloseState {
    pub campaign: CampaignId,
    pub status: CampaignStatus,
    pub close: Option<CloseRun>,
    pub report: Option<ReportRef>,
    pub links: Option<ReportLinks>,
}

async fn state_of(st: &AppState, c: Campaign) -> Result<CloseState, Problem> {
    let now = st.clock.now();
    let report = c.close.as_ref().and_then(|r| r.report.clone());
    let links = match &report {
        Some(r) => Some(ReportLinks {
            json: st
                .blobs
                .presign_get(&r.json, REPORT_LINK)
                .await
                .map_err(unavailable)?,
            csv: st
                .blobs
                .presign_get(&r.csv, REPORT_LINK)
                .await
                .map_err(unavailable)?,
            html: st
                .blobs
                .presign_get(&r.html, REPORT_LINK)
                .await
                .map_err(unavailable)?,
            expires_at: now + chrono::Duration::seconds(REPORT_LINK.as_secs() as i64),
        }),
        None => None,
    };
    Ok(CloseState {
        campaign: c.id.clone(),
        status: c.status_at(now),
        close: c.close.clone(),
        report,
        links,
    })
}

fn unavailable(e: crate::blobs::BlobError) -> Problem {
    tracing::error!(error = %e, "report links unavailable");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Busy, try again shortly",
    )
    .detail("the report store is unavailable")
}

/// Close a campaign (ops, brand admins, hq): selling stops at once (browse hides it,
/// orders, joins and claims get `campaign-closed`), unpaid orders are cancelled, open
/// group buys finish by the earlier of their expiry and the grace, and the report is published as interim, then
/// final once every return window has passed and nothing is open. Closing a campaign
/// that is closing answers where it stands; a closed one, its final report.
/// DynamoDB: 1 GetItem + 1 conditional PutItem (then the close queue does the rest).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/close", tag = "close-campaign",
    request_body = CloseInput,
    responses((status = 202, body = CloseState, description = "closing"),
        (status = 200, body = CloseState, description = "already closed: its final report"),
        (status = 409, body = Problem, description = "campaign-not-published")))]
pub async fn close_campaign(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<CloseInput>,
) -> Result<(StatusCode, Json<CloseState>), Problem> {
    let t = &allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let now = st.clock.now();
    let current = st.db.campaign(t, &id, true).await?;
    let by = allowed.caller.user.to_string();
    let grace = input
        .grace_minutes
        .unwrap_or(crate::domain::close::GROUP_GRACE_MINUTES);
    let after = st.begin_close(t, &current, &by, grace, now).await?;
    let code = if after.stage == Stage::Closed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(state_of(&st, after).await?)))
}

/// A campaign's report (staff of the tenant): edition (interim or final), headline
/// figures, what is still open, and links to the JSON, CSV and HTML files; while the
/// first count runs, where the close stands and no report yet. A campaign not closed
/// yet has none (409 `report-not-ready`); an unknown one is 404. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/report", tag = "close-campaign",
    responses((status = 200, body = CloseState), (status = 409, body = Problem, description = "report-not-ready: the campaign has not been closed")))]
pub async fn read_report(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<CloseState>, Problem> {
    let id: CampaignId = params.id("campaign")?;
    let c = st.db.campaign(&allowed.tenant, &id, false).await?;
    if c.close.is_none() {
        return Err(DomainError::conflict(
            "report-not-ready",
            "the campaign has not been closed: its report comes with the close",
        )
        .into());
    }
    Ok(Json(state_of(&st, c).await?))
}
