//! A guide's share link: signed claims, and the URL buyers open.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::guide_for;
use crate::app::AppState;
use crate::domain::attribution::{sign_share, ShareClaims, ShareTarget};
use crate::domain::ids::{CampaignId, GroupBuyId, GuideId, Sku};
use crate::domain::DomainError;
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareLink {
    /// What the buyer's order carries as `share_token`.
    pub token: String,
    /// The link to share.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub claims: ShareClaims,
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
    if !campaign.stores.contains(&guide.store) {
        return Err(DomainError::conflict(
            "guide-not-in-campaign",
            format!(
                "{}'s store {} does not take part in campaign {}",
                guide.id, guide.store, campaign.id
            ),
        )
        .into());
    }
    let claims = ShareClaims {
        tenant: t.clone(),
        guide: guide.id.clone(),
        store: guide.store.clone(),
        campaign: campaign.id.clone(),
        target: target.clone(),
        issued_at: now,
        expires_at: (now + Duration::days(i64::from(campaign.attribution.link_days)))
            .min(campaign.ends_at),
    };
    let token = sign_share(&st.secrets.share_link, &claims);
    let base = format!(
        "{}/{}/{}/c/{}",
        st.secrets.share_base, t.brand, t.group, campaign.id
    );
    let url = match &target {
        Some(ShareTarget::Listing(sku)) => format!("{base}/p/{sku}?share={token}"),
        Some(ShareTarget::Group(g)) => format!("{base}/g/{g}?share={token}"),
        None => format!("{base}?share={token}"),
    };
    tracing::info!(guide = %guide.id, campaign = %campaign.id, "share link signed");
    Ok((
        StatusCode::CREATED,
        Json(ShareLink {
            token,
            url,
            expires_at: claims.expires_at,
            claims,
        }),
    ))
}
