//! A guide's share poster: read what it shows (the listing, or a group and its listing;
//! the guide's store; the brand's copy template), decide its facts and their hash, then
//! either find it already drawn under that hash (one ranged GetObject) or draw it and store
//! it. Either way the guide gets a presigned link to the PNG. Nothing is written to
//! the table: a poster is a picture of records, kept by content.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::OnceCell;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::attribution::{ShareLink, ShareTarget};
use crate::domain::catalog::Guide;
use crate::domain::group_buy::GroupStatus;
use crate::domain::ids::{CampaignId, Sku};
use crate::domain::poster::{self, PosterFacts, PosterWho};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::{Error, Result};

/// The poster font's key in the bucket (see `assets/fonts/`): shared by every tenant.
pub const FONT_KEY: &str = "assets/fonts/poster-sc.ttf";

/// How long a poster's presigned link lasts.
pub const POSTER_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

/// The font, read from the bucket by the first poster a process draws (a cold start
/// never pays for it; a poster served from the cache never needs it).
static FONT: OnceCell<ab_glyph::FontArc> = OnceCell::const_new();

/// A poster, as its guide receives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Poster {
    /// The PNG, presigned for a day.
    pub url: String,
    /// Its key in the bucket: a hash of everything it shows.
    pub key: String,
    /// Whether it was already drawn (served without drawing).
    pub cached: bool,
    pub width: u32,
    pub height: u32,
    /// The PNG's size, when it was drawn now.
    pub bytes: Option<u64>,
    /// The share link its QR code carries (issued at the start of the campaign's day,
    /// so one day's posters of a product are one picture).
    pub link: ShareLink,
    pub facts: PosterFacts,
}

/// Where a poster is kept: by tenant and campaign, named by its content.
pub fn poster_key(t: &Tenant, campaign: &CampaignId, hash: &str) -> String {
    format!("posters/{}/{}/{campaign}/{hash}.png", t.brand, t.group)
}

/// The start of `now`'s day in `tz`: when a poster's link is issued.
fn day_start(now: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let day = now.with_timezone(&tz).date_naive();
    day.and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

impl AppState {
    /// The poster of `target` (a product or an open group buy) for `guide` in
    /// `campaign`. DynamoDB: the cached campaign read + 1 BatchGetItem (+1 Query for a
    /// group); S3: 1 GetObject of its first byte, and for a poster not yet drawn 1 PutObject (+1
    /// GetObject for the listing's picture, +1 for the font on a process's first).
    pub async fn guide_poster(
        &self,
        t: &Tenant,
        guide: &Guide,
        campaign: &CampaignId,
        target: ShareTarget,
        now: DateTime<Utc>,
    ) -> Result<Poster> {
        let campaign = self.db.visible_campaign(t, campaign, now).await?;
        let (sku, group): (Sku, _) = match &target {
            ShareTarget::Listing(sku) => (sku.clone(), None),
            ShareTarget::Group(id) => {
                let (g, _) = self.db.group(t, id, false).await?;
                if g.campaign != campaign.id {
                    return Err(DomainError::NotFound { what: "group buy" }.into());
                }
                if g.status != GroupStatus::Open || now >= g.expires_at {
                    return Err(DomainError::conflict(
                        "group-not-open",
                        format!("group buy {id} is no longer open"),
                    )
                    .into());
                }
                (g.sku.clone(), Some(g))
            }
        };
        let link = self.share_link(
            t,
            guide,
            &campaign,
            Some(target),
            day_start(now, campaign.time_zone),
        )?;
        let snap = self
            .db
            .poster_snapshot(t, &campaign.id, &sku, &guide.store)
            .await?;
        let offer = match (&group, &snap.listing.group) {
            (Some(g), Some(terms)) => Some((terms, Some(g.free))),
            (None, Some(terms)) => Some((terms, None)),
            _ => None,
        };
        let facts = poster::facts(
            &campaign,
            &snap.listing,
            offer,
            PosterWho {
                guide_name: &guide.name,
                store_name: &snap.store.name,
                link: &link.url,
            },
            &snap.template,
            now,
        );
        let key = poster_key(t, &campaign.id, &facts.content_hash());
        let cached = self.blobs.exists(&key).await?;
        let mut bytes = None;
        if !cached {
            let png = self.draw(&facts).await?;
            bytes = Some(png.len() as u64);
            self.blobs.put(&key, png, "image/png").await?;
            tracing::info!(guide = %guide.id, campaign = %campaign.id, %key, "poster drawn");
        }
        Ok(Poster {
            url: self.blobs.presign_get(&key, POSTER_LINK_TTL).await?,
            key,
            cached,
            width: poster::WIDTH,
            height: poster::HEIGHT,
            bytes,
            link,
            facts,
        })
    }

    /// Draws a poster off the async threads (a few milliseconds of CPU).
    async fn draw(&self, facts: &PosterFacts) -> Result<Vec<u8>> {
        let font = FONT
            .get_or_try_init(|| async {
                let bytes = self.blobs.get(FONT_KEY).await?.ok_or_else(|| {
                    Error::Blob(crate::blobs::BlobError::Unavailable(format!(
                        "the poster font is not in the bucket ({FONT_KEY})"
                    )))
                })?;
                crate::poster::font_from(bytes).map_err(|e| Error::Internal(e.to_string()))
            })
            .await?
            .clone();
        let image = match &facts.image {
            Some(key) => {
                let found = self.blobs.get(key).await?;
                if found.is_none() {
                    tracing::warn!(%key, "listing picture not in the bucket; poster drawn without it");
                }
                found
            }
            None => None,
        };
        let facts = facts.clone();
        let drawn = tokio::task::spawn_blocking(move || {
            crate::poster::render(&facts, &font, image.as_deref())
        })
        .await
        .map_err(|e| Error::Internal(format!("poster drawing stopped: {e}")))?
        .map_err(|e| Error::Internal(e.to_string()))?;
        if !drawn.missing.is_empty() {
            tracing::warn!(
                missing = drawn.missing.len(),
                "poster font lacks characters"
            );
        }
        Ok(drawn.png)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posters_link_is_issued_at_the_start_of_the_campaigns_day() {
        let tz = chrono_tz::Asia::Shanghai;
        // 00:30 in Shanghai is 16:30 UTC the day before
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 16, 30, 0).single();
        let start = now.map(|n| day_start(n, tz));
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 6, 16, 0, 0).single());
    }
}
