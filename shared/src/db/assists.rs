//! Assists as records: the offers (in the campaign's partition, with their budget
//! counters), each assist (its own partition, indexed for its starter, for the
//! sweeper while open and for the close), the starter's one open assist per offer, and
//! a phone's assists (one per offer, numbered places per day).

use chrono::{DateTime, Utc};

use super::campaigns::{still_editable, KIND};
use super::Db;
use crate::domain::assist::{Assist, AssistOffer, AssistStatus, BUDGET_SHARDS};
use crate::domain::campaign::Campaign;
use crate::domain::ids::{AssistId, AssistOfferId, CampaignId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, s, to_item, Item, Key, Query, SortRange, TableError, Write, GSI1PK, GSI1SK,
    GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK,
};

pub fn assist_key(t: &Tenant, id: &AssistId) -> Key {
    Key::new(keys::assist_pk(t, id), keys::ASSIST_SK)
}

pub fn offer_key(t: &Tenant, c: &CampaignId, offer: &AssistOfferId) -> Key {
    Key::new(keys::campaign_pk(t, c), keys::assist_offer_sk(offer))
}

pub fn budget_key(t: &Tenant, c: &CampaignId, offer: &AssistOfferId, shard: u8) -> Key {
    Key::new(
        keys::campaign_pk(t, c),
        keys::assist_budget_sk(offer, shard),
    )
}

/// An assist item: for its starter (GSI1), for the sweeper at its expiry while open
/// (GSI3), and among the campaign's records for the close (GSI4).
pub(crate) fn assist_item(a: &Assist) -> Result<Item, TableError> {
    let pk = keys::assist_pk(&a.tenant, &a.id);
    let mut k = vec![
        (PK, pk.clone()),
        (SK, keys::ASSIST_SK.to_owned()),
        (GSI1PK, keys::starter_assists_gsi1pk(&a.starter)),
        (GSI1SK, a.id.to_string()),
        (GSI4PK, keys::records_gsi4pk(&a.tenant, &a.campaign, &pk)),
        (GSI4SK, keys::records_gsi4sk(&pk, keys::ASSIST_SK)),
        (KIND, "assist".to_owned()),
    ];
    if a.status == AssistStatus::Open {
        k.push((GSI3PK, keys::due_gsi3pk(&pk)));
        k.push((GSI3SK, keys::due_gsi3sk(a.expires_at, &pk)));
    }
    to_item(a, &k)
}

/// A campaign's close fences its offers (as it fences stock): no assist starts,
/// gains a helper or completes after it, so the report's count of assists is final.
pub(crate) fn ensure_unfenced(offer: &Item) -> Result<(), DomainError> {
    if crate::table::string_attr(offer, crate::db::orders::FENCE).is_some() {
        return Err(DomainError::conflict(
            "assist-closed",
            "the campaign is closing: its assists are over",
        ));
    }
    Ok(())
}

/// The write every assist transaction carries: its offer is not fenced yet.
pub(crate) fn unfenced(t: &Tenant, c: &CampaignId, offer: &AssistOfferId) -> Write {
    Write::Check {
        key: offer_key(t, c, offer),
        condition: crate::table::Condition::Missing(crate::table::AttrPath::top(
            crate::db::orders::FENCE,
        )),
    }
}

impl Db {
    /// The offer, or 404; 409 `assist-closed` once its campaign's close has fenced it.
    /// 1 GetItem.
    pub async fn assist_offer(
        &self,
        t: &Tenant,
        c: &CampaignId,
        offer: &AssistOfferId,
    ) -> Result<AssistOffer> {
        let item =
            self.table
                .get(&offer_key(t, c, offer), true)
                .await?
                .ok_or(DomainError::NotFound {
                    what: "assist offer",
                })?;
        ensure_unfenced(&item)?;
        Ok(from_item(item)?)
    }

    /// A campaign's offers. 1 Query.
    pub async fn assist_offers(&self, t: &Tenant, c: &CampaignId) -> Result<Vec<AssistOffer>> {
        let q = Query::new(
            crate::table::Index::Primary,
            keys::campaign_pk(t, c),
            SortRange::BeginsWith(keys::ASSIST_OFFER_PREFIX.into()),
        );
        let page = self.table.query(q).await?;
        Ok(page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<AssistOffer>, _>>()?)
    }

    /// Adds or replaces an offer and resets its budget counters, on condition the
    /// campaign is still editable at `now` (nothing given yet). 1 TransactWriteItems.
    pub async fn put_assist_offer(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        offer: &AssistOffer,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let key = offer_key(t, &campaign.id, &offer.id);
        let mut writes = vec![
            Write::Check {
                key: super::campaigns::campaign_key(t, &campaign.id),
                condition: still_editable(campaign.version, now),
            },
            Write::Put {
                item: to_item(
                    offer,
                    &[(PK, key.pk), (SK, key.sk), (KIND, "assist_offer".into())],
                )?,
                condition: None,
            },
        ];
        for shard in 0..BUDGET_SHARDS {
            let k = budget_key(t, &campaign.id, &offer.id, shard);
            let item: std::collections::HashMap<String, serde_dynamo::AttributeValue> =
                std::collections::HashMap::from([
                    (PK.to_owned(), s(k.pk)),
                    (SK.to_owned(), s(k.sk)),
                    (KIND.to_owned(), s("assist_budget")),
                    ("remaining".to_owned(), n(offer.shard_budget(shard))),
                ]);
            writes.push(Write::Put {
                item: item.into(),
                condition: None,
            });
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(DomainError::conflict(
                    "campaign-not-editable",
                    "offers are set until a minute before the campaign goes live",
                )
                .into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// An assist, or 404. 1 GetItem.
    pub async fn assist(&self, t: &Tenant, id: &AssistId) -> Result<Assist> {
        let item = self.table.get(&assist_key(t, id), true).await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "assist" })?,
        )?)
    }

    /// Writes an assist whose version moved on from `expected`. 1 PutItem.
    pub async fn save_assist(&self, a: &Assist, expected: u64) -> Result<(), TableError> {
        self.table
            .put(assist_item(a)?, Some(super::orders::version_is(expected)))
            .await
    }

    /// A member's assists across tenants, newest first: 1 Query (GSI1).
    pub async fn my_assists(
        &self,
        user: &crate::domain::ids::UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<super::page::Paged<Assist>> {
        let mut q = Query::new(
            crate::table::Index::Gsi1,
            keys::starter_assists_gsi1pk(user),
            SortRange::All,
        );
        q.forward = false;
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }
}
