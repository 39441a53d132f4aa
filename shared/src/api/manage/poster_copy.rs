//! The brand's poster copy: the lines a guide's poster picks its one line of copy from
//! (`3人成团 ¥429`, `满500减50`), filled from the listing and the offer. No model writes
//! copy; the brand does, once.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::poster::CopyTemplate;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Problem};

/// The brand's copy template (the default when it wrote none: version 0).
/// DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/poster-copy", tag = "manage-campaign",
    responses((status = 200, body = CopyTemplate)))]
pub async fn poster_copy(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
) -> Result<Json<CopyTemplate>, Problem> {
    Ok(Json(st.db.copy_template(&allowed.tenant).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyInput {
    /// Tried in order; placeholders as listed on [`CopyTemplate`]. One line must need
    /// only `{price}` and `{list_price}`, so every product has a line.
    pub lines: Vec<String>,
    /// The version this change was made from (409 `concurrent-update` if it moved on).
    pub version: u32,
}

/// Replaces the brand's copy template: posters drawn from now on use it (each earlier
/// poster is drawn again on its next request: the version is part of its name).
/// DynamoDB: 1 PutItem, conditioned on the version.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/poster-copy", tag = "manage-campaign",
    request_body = CopyInput,
    responses((status = 200, body = CopyTemplate), (status = 409, body = Problem, description = "concurrent-update"), (status = 422, body = Problem)))]
pub async fn put_poster_copy(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    JsonBody(input): JsonBody<CopyInput>,
) -> Result<Json<CopyTemplate>, Problem> {
    let lines = CopyTemplate::parse_lines(input.lines)?;
    let read = CopyTemplate {
        version: input.version,
        ..CopyTemplate::default()
    };
    let next = st
        .db
        .put_copy_template(&allowed.tenant, &read, lines, st.clock.now())
        .await?;
    Ok(Json(next))
}
