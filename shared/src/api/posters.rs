//! `guide-posters`: a guide's share poster, a PNG of a product (or an open group buy)
//! with its prices, the brand's line of copy, the guide and their store, and a QR code
//! of the guide's share link. Drawn once per content, then served from the bucket. (Its
//! own function: the drawing and the bucket's client stay out of the other functions.)

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use axum::Router;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::attribution::guide_for;
use crate::app::AppState;
use crate::cases::posters::Poster;
use crate::domain::attribution::ShareTarget;
use crate::domain::ids::{CampaignId, GroupBuyId, GuideId, Sku};
use crate::http::auth::{Allowed, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PosterInput {
    pub campaign: CampaignId,
    /// A poster of one product...
    pub sku: Option<Sku>,
    /// ... or of one open group buy (one of the two).
    pub group_buy: Option<GroupBuyId>,
}

/// A guide's poster (the guide themself, their store's manager, or ops): 201 when drawn
/// now, 200 when the same poster (same prices, slot, copy, guide, link) was already
/// drawn; its `url` is presigned for a day. The QR code scans to the guide's share
/// link, issued at the start of the campaign's day. 409 `guide-not-in-campaign`,
/// `group-not-open`. DynamoDB: 1 GetItem (the guide) (+1 BatchGetItem for a store's
/// staff) + the cached campaign read + 1 BatchGetItem (+1 Query for a group); S3: 1
/// GetObject (its first byte), +1 PutObject when drawn.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/guides/{guide}/posters", tag = "guide-posters",
    request_body = PosterInput,
    responses((status = 201, body = Poster, description = "drawn now"), (status = 200, body = Poster, description = "already drawn"),
        (status = 409, body = Problem, description = "guide-not-in-campaign, group-not-open")))]
pub async fn create_poster(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<PosterInput>,
) -> Result<(StatusCode, Json<Poster>), Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id: GuideId = params.id("guide")?;
    let target = match (input.sku, input.group_buy) {
        (Some(sku), None) => ShareTarget::Listing(sku),
        (None, Some(g)) => ShareTarget::Group(g),
        _ => {
            return Err(Problem::validation(
                "sku",
                "a poster is of one product (sku) or one group buy (group_buy)",
            ))
        }
    };
    let guide = guide_for(&st, caller, t, &id).await?;
    let poster = st
        .guide_poster(t, &guide, &input.campaign, target, st.clock.now())
        .await?;
    let status = if poster.cached {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(poster)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_poster))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}
