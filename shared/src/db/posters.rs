//! What a guide's poster is drawn from, read in one batch (the listing, the guide's
//! store, the brand's copy template), and the copy template itself: one item per
//! tenant, replaced on condition of the version it was read at.

use chrono::{DateTime, Utc};

use super::Db;
use crate::domain::catalog::{Listing, Store};
use crate::domain::ids::{CampaignId, Sku, StoreId};
use crate::domain::poster::CopyTemplate;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, n, to_item, Condition, Key, TableError, PK, SK};

fn template_key(t: &Tenant) -> Key {
    Key::new(keys::tenant_pk(t), keys::COPY_TEMPLATE_SK)
}

/// A poster's records as they stand.
pub struct PosterSnapshot {
    pub listing: Listing,
    pub store: Store,
    pub template: CopyTemplate,
}

impl Db {
    /// The listing, the store and the brand's copy template (its default when the brand
    /// wrote none). 1 BatchGetItem.
    pub async fn poster_snapshot(
        &self,
        t: &Tenant,
        campaign: &CampaignId,
        sku: &Sku,
        store: &StoreId,
    ) -> Result<PosterSnapshot> {
        let listing_key = Key::new(keys::campaign_pk(t, campaign), keys::listing_sk(sku));
        let store_key = Key::new(keys::tenant_pk(t), keys::store_sk(store));
        let template_key = template_key(t);
        let mut found = self
            .batch_get_map(
                &[listing_key.clone(), store_key.clone(), template_key.clone()],
                false,
            )
            .await?;
        let listing: Listing = from_item(
            found
                .remove(&listing_key)
                .ok_or(DomainError::NotFound { what: "listing" })?,
        )?;
        let store: Store = from_item(
            found
                .remove(&store_key)
                .ok_or(DomainError::NotFound { what: "store" })?,
        )?;
        let template = match found.remove(&template_key) {
            Some(item) => from_item(item)?,
            None => CopyTemplate::default(),
        };
        Ok(PosterSnapshot {
            listing,
            store,
            template,
        })
    }

    /// The brand's copy template (its default when it wrote none). 1 GetItem.
    pub async fn copy_template(&self, t: &Tenant) -> Result<CopyTemplate> {
        Ok(match self.table.get(&template_key(t), false).await? {
            Some(item) => from_item(item)?,
            None => CopyTemplate::default(),
        })
    }

    /// Replaces the brand's copy template with `lines` as version `read.version + 1`,
    /// on condition it is still at `read.version` (409 `concurrent-update` otherwise).
    /// 1 PutItem.
    pub async fn put_copy_template(
        &self,
        t: &Tenant,
        read: &CopyTemplate,
        lines: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<CopyTemplate> {
        let next = CopyTemplate {
            lines,
            version: read.version + 1,
            updated_at: Some(now),
        };
        let key = template_key(t);
        let item = to_item(&next, &[(PK, key.pk.clone()), (SK, key.sk.clone())])?;
        let condition = if read.version == 0 {
            Condition::NotExists
        } else {
            Condition::Equals(
                crate::table::AttrPath::top("version"),
                n(i64::from(read.version)),
            )
        };
        match self.table.put(item, Some(condition)).await {
            Ok(()) => Ok(next),
            Err(TableError::ConditionFailed) => Err(DomainError::conflict(
                "concurrent-update",
                "the copy template changed since it was read: read it again",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }
}
