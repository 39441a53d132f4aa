//! A guide's share link: signed claims, and the URL buyers open.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::guide_for;
use crate::app::AppState;
use crate::domain::attribution::{ShareLink, ShareTarget};
use crate::domain::ids::{CampaignId, GroupBuyId, GuideId, Sku};
use crate::http::auth::{Allowed, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareLinkInput {
    pub campaign: CampaignId,
    /// Link to one product...
    pub sku: Option<Sku>,
    /// ... or to one group buy (not both).
    pub group_buy: Option<GroupBuyId>,
}

/// Sign a share link for a guide (the guide, their store's manager, or ops): it credits
/// the guide and their store with the sales it brings, until it expires (the campaign's
/// `link_days`). Only a guide of a store taking part in the campaign gets one (409
/// `guide-not-in-campaign`); a guide's own purchases through it credit nobody. DynamoDB: 1 GetItem (the guide) (+1 BatchGetItem for a store's staff)
/// + the cached campaign read.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/guides/{guide}/share-links", tag = "attribute-guide-sale",
    request_body = ShareLinkInput,
    responses((status = 201, body = ShareLink), (status = 409, body = Problem, description = "guide-not-in-campaign")))]
pub async fn create_share_link(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<ShareLinkInput>,
) -> Result<(StatusCode, Json<ShareLink>), Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id: GuideId = params.id("guide")?;
    let guide = guide_for(&st, caller, t, &id).await?;
    let target = match (input.sku, input.group_buy) {
        (Some(_), Some(_)) => {
            return Err(Problem::validation(
                "group_buy",
                "a link is to a product or a group, not both",
            ))
        }
        (Some(sku), None) => Some(ShareTarget::Listing(sku)),
        (None, Some(g)) => Some(ShareTarget::Group(g)),
        (None, None) => None,
    };
    let now = st.clock.now();
    let campaign = st.db.visible_campaign(t, &input.campaign, now).await?;
    let link = st.share_link(t, &guide, &campaign, target, now)?;
    tracing::info!(guide = %guide.id, campaign = %campaign.id, "share link signed");
    Ok((StatusCode::CREATED, Json(link)))
}
