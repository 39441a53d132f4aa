//! A campaign's assist offers (invite friends to assist): set by ops until a minute
//! before the campaign goes live (the budget's counters are reset with the offer),
//! read by anyone signed in.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::assist::AssistOffer;
use crate::domain::ids::{CampaignId, CouponTemplateId};
use crate::http::auth::{Allowed, Manage};
use crate::http::{Authenticated, JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    pub name: String,
    /// Distinct helpers that unlock the pack (2-10).
    pub helpers: u8,
    /// How long an assist stays open (1-72 hours, never past the campaign's end).
    pub hours: u32,
    /// The no-threshold coupon templates granted together.
    pub pack: Vec<CouponTemplateId>,
    /// Packs in all.
    pub budget: u32,
    /// Assists one phone may give a day (default 3).
    pub daily_cap: Option<u8>,
    /// Helpers must be new to the brand (default false).
    #[serde(default)]
    pub new_to_brand: bool,
}

/// Create or replace an assist offer. DynamoDB: 1 GetItem + 1 Query (the other offers:
/// a template belongs to one offer's pack) + 1 TransactWriteItems (the campaign still
/// editable, the offer, its 4 budget counters).
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/assist-offers/{offer}", tag = "manage-campaign",
    request_body = OfferInput,
    responses((status = 200, body = AssistOffer), (status = 409, body = Problem, description = "campaign-not-editable")))]
pub async fn put_offer(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<OfferInput>,
) -> Result<Json<AssistOffer>, Problem> {
    let t = allowed.tenant;
    let id: CampaignId = params.id("campaign")?;
    let now = st.clock.now();
    let offer = AssistOffer {
        id: params.id("offer")?,
        name: input.name.trim().to_owned(),
        helpers: input.helpers,
        hours: input.hours,
        pack: input.pack,
        budget: input.budget,
        daily_cap: input.daily_cap.unwrap_or(3),
        new_to_brand: input.new_to_brand,
        updated_at: now,
    };
    let campaign = st.db.campaign(&t, &id, true).await?;
    offer.validate(&campaign.coupons)?;
    // An offer's templates are its own: its packs' coupons (and what they cost) are
    // told apart by template.
    for other in st.db.assist_offers(&t, &id).await? {
        if other.id == offer.id {
            continue;
        }
        if let Some(i) = offer.pack.iter().position(|p| other.pack.contains(p)) {
            return Err(Problem::validation(
                format!("pack[{i}]"),
                format!("already in the pack of offer {}", other.id),
            ));
        }
    }
    campaign.ensure_editable(now)?;
    st.db
        .put_assist_offer(&t, &campaign, &offer, st.clock.now())
        .await?;
    Ok(Json(offer))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    pub offers: Vec<AssistOffer>,
}

/// A campaign's assist offers. DynamoDB: 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/assist-offers", tag = "manage-campaign",
    responses((status = 200, body = OfferList)))]
pub async fn list_offers(
    State(st): State<AppState>,
    Authenticated(_caller): Authenticated,
    params: Params,
) -> Result<Json<OfferList>, Problem> {
    let t = params.tenant()?;
    let id: CampaignId = params.id("campaign")?;
    Ok(Json(OfferList {
        offers: st.db.assist_offers(&t, &id).await?,
    }))
}
