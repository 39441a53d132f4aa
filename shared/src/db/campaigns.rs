//! Campaigns: create, edit (conditioned on still being editable), publish, list.
//! Each states its DynamoDB calls.

use chrono::{DateTime, Utc};

use super::Db;
use crate::domain::campaign::{Campaign, Stage};
use crate::domain::ids::CampaignId;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, to_item, AttrPath, Condition, Index, Item, Key, Query, SortRange, TableError,
    GSI3PK, GSI3SK, PK, SK,
};

pub(crate) const KIND: &str = "kind";
/// The campaign item's number that every edit's write is conditioned on.
const EDITABLE_UNTIL: &str = "editable_until";

pub(crate) fn campaign_key(t: &Tenant, id: &CampaignId) -> Key {
    Key::new(keys::tenant_pk(t), keys::campaign_sk(id))
}

/// The campaign item; on the timer index (GSI3) at its end while published (the
/// schedule closes it then) and at its close's next step while closing or settling.
pub(crate) fn campaign_item(t: &Tenant, c: &Campaign) -> Result<Item, TableError> {
    let pk = keys::tenant_pk(t);
    let mut k = vec![
        (PK, pk.clone()),
        (SK, keys::campaign_sk(&c.id)),
        (KIND, "campaign".into()),
    ];
    if let Some(due) = crate::domain::close::due_at(c) {
        k.push((GSI3PK, keys::due_gsi3pk(&pk)));
        k.push((
            GSI3SK,
            keys::due_gsi3sk(due, &format!("{pk}#{}", keys::campaign_sk(&c.id))),
        ));
    }
    let mut item = to_item(c, &k)?;
    item.insert(EDITABLE_UNTIL.to_owned(), n(c.editable_until()));
    Ok(item)
}

/// The campaign is still at `version` and still editable at `now`: the condition of
/// every write that changes what buyers will be sold (campaign, listings, coupons).
pub(crate) fn still_editable(version: u64, now: DateTime<Utc>) -> Condition {
    Condition::All(vec![
        Condition::Equals(AttrPath::top("version"), n(version as i64)),
        Condition::AtLeast(
            AttrPath::top(EDITABLE_UNTIL),
            now.timestamp_millis().saturating_add(1),
        ),
    ])
}

impl Db {
    /// 1 GetItem.
    pub async fn campaign(
        &self,
        t: &Tenant,
        id: &CampaignId,
        consistent: bool,
    ) -> Result<Campaign> {
        let item = self.table.get(&campaign_key(t, id), consistent).await?;
        let item = item.ok_or(DomainError::NotFound { what: "campaign" })?;
        Ok(from_item(item)?)
    }

    /// 1 conditional PutItem.
    pub async fn create_campaign(&self, t: &Tenant, c: &Campaign) -> Result<()> {
        match self
            .table
            .put(campaign_item(t, c)?, Some(Condition::NotExists))
            .await
        {
            Err(TableError::ConditionFailed) => {
                Err(DomainError::AlreadyExists { what: "campaign" }.into())
            }
            other => Ok(other?),
        }
    }

    /// Writes `next` if the stored campaign is still at `expected_version`.
    /// 1 conditional PutItem.
    pub async fn replace_campaign(
        &self,
        t: &Tenant,
        next: &Campaign,
        expected_version: u64,
    ) -> Result<()> {
        if self.put_campaign_at(t, next, expected_version).await? {
            Ok(())
        } else {
            Err(concurrent(TableError::ConditionFailed, "campaign"))
        }
    }

    /// Writes `next` if the stored campaign is still at `expected_version`; false when
    /// it has moved on (a close step: another delivery of it got there first).
    /// 1 conditional PutItem.
    pub async fn put_campaign_at(
        &self,
        t: &Tenant,
        next: &Campaign,
        expected_version: u64,
    ) -> Result<bool> {
        let cond = Condition::Equals(AttrPath::top("version"), n(expected_version as i64));
        match self.table.put(campaign_item(t, next)?, Some(cond)).await {
            Ok(()) => {
                self.heads.forget(t, &next.id);
                Ok(true)
            }
            Err(TableError::ConditionFailed) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes an edit of a campaign if it is still at `expected_version` and still
    /// editable at `now` (a minute before it goes live at the latest).
    /// 1 conditional PutItem (+ 1 GetItem to say why, when refused).
    pub async fn edit_campaign(
        &self,
        t: &Tenant,
        next: &Campaign,
        expected_version: u64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let cond = still_editable(expected_version, now);
        match self.table.put(campaign_item(t, next)?, Some(cond)).await {
            Ok(()) => {
                self.heads.forget(t, &next.id);
                Ok(())
            }
            Err(TableError::ConditionFailed) => Err(self.why_refused(t, &next.id, now).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Why a write conditioned by [`still_editable`] was refused: the campaign can no
    /// longer be edited, or someone else changed it first. 1 GetItem.
    pub(crate) async fn why_refused(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
    ) -> crate::Error {
        match self.campaign(t, id, true).await {
            Ok(current) => match current.ensure_editable(now) {
                Err(e) => e.into(),
                Ok(()) => concurrent(TableError::ConditionFailed, "campaign"),
            },
            Err(e) => e,
        }
    }

    /// Lists the tenant's campaigns. 1 Query per 1 MB page (one in practice).
    pub async fn campaigns(&self, t: &Tenant) -> Result<Vec<Campaign>> {
        let items = self
            .query_all(Query::new(
                Index::Primary,
                keys::tenant_pk(t),
                SortRange::BeginsWith(keys::CAMPAIGN_PREFIX.into()),
            ))
            .await?;
        items
            .into_iter()
            .map(|i| from_item(i).map_err(Into::into))
            .collect()
    }

    /// Publishes a complete draft: 1 GetItem + 1 Query + 1 conditional PutItem.
    pub async fn publish(
        &self,
        t: &Tenant,
        id: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Campaign> {
        let current = self.campaign(t, id, true).await?;
        let has_listings = self.has_listings(t, id).await?;
        current.ensure_publishable(now, usize::from(has_listings))?;
        let next = Campaign {
            stage: Stage::Published,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        self.replace_campaign(t, &next, current.version).await?;
        self.heads.forget(t, id);
        Ok(next)
    }

    /// Follows pages to the end. For partitions that hold a few hundred items at most.
    pub(crate) async fn query_all(&self, mut q: Query) -> Result<Vec<Item>, TableError> {
        let mut all = Vec::new();
        loop {
            let page = self.table.query(q.clone()).await?;
            all.extend(page.items);
            match page.last {
                Some(last) => q.start_after = Some(last),
                None => return Ok(all),
            }
        }
    }
}

/// A failed version check means someone else changed the campaign first.
pub(crate) fn concurrent(e: TableError, what: &'static str) -> crate::Error {
    match e {
        TableError::ConditionFailed | TableError::TransactionCancelled { .. } => {
            DomainError::conflict(
                "concurrent-update",
                format!("the {what} was changed by someone else; read it again and retry"),
            )
            .into()
        }
        other => other.into(),
    }
}
