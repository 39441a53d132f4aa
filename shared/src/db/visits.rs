//! Try-on visits as records. One visit is written twice, always together and on
//! condition of its version: as the buyer's latest visit in the campaign (what an
//! order reads by the buyer alone; on the timer index at its slot's end while it holds
//! units) and under its store's day (the clerks' list, and among the campaign's
//! records for the report). Its holds are units taken from the store's count
//! (`W#{sku}`) and given back at the release.

use super::orders::{unless_fenced, version_is, Tally};
use super::Db;
use crate::db::campaigns::KIND;
use crate::domain::ids::{CampaignId, StoreId, UserId, VisitId};
use crate::domain::tenancy::Tenant;
use crate::domain::visit::{day_of, Hold, Visit};
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, to_item, Condition, Key, TableError, Write, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK,
};

/// The buyer's latest visit in a campaign.
pub fn visit_key(t: &Tenant, c: &CampaignId, buyer: &UserId) -> Key {
    Key::new(keys::campaign_pk(t, c), keys::visit_sk(buyer))
}

/// A visit under its store's day, found from its id alone.
pub fn visit_day_key(t: &Tenant, store: &StoreId, id: &VisitId) -> Option<Key> {
    let (date, slot) = day_of(id)?;
    Some(Key::new(
        keys::appointments_pk(t, store, date),
        keys::visit_day_sk(&slot, id),
    ))
}

/// Both records of a visit changed from the one read at version `as_read`, on
/// condition both still are.
pub(crate) fn visit_writes(
    t: &Tenant,
    v: &Visit,
    as_read: u64,
) -> std::result::Result<Vec<Write>, TableError> {
    records(t, v, version_is(as_read), version_is(as_read))
}

/// Both records of a new visit: its day record must not exist, and the buyer's latest
/// visit (at version `replacing`, if any) is replaced only as read.
pub(crate) fn new_visit_writes(
    t: &Tenant,
    v: &Visit,
    replacing: Option<u64>,
) -> std::result::Result<Vec<Write>, TableError> {
    let latest = replacing.map_or(Condition::NotExists, version_is);
    records(t, v, latest, Condition::NotExists)
}

/// The buyer's latest (on the timer index while it holds) and the store's day record
/// (among the campaign's records), each on its condition.
fn records(
    t: &Tenant,
    v: &Visit,
    latest_condition: Condition,
    day_condition: Condition,
) -> std::result::Result<Vec<Write>, TableError> {
    let latest = visit_key(t, &v.campaign, &v.buyer);
    let mut attrs = vec![
        (PK, latest.pk.clone()),
        (SK, latest.sk.clone()),
        (KIND, "visit".to_owned()),
    ];
    if v.active() {
        attrs.push((GSI3PK, keys::due_gsi3pk(&latest.pk)));
        attrs.push((GSI3SK, keys::due_gsi3sk(v.slot.ends_at, &latest.pk)));
    }
    let day = visit_day_key(t, &v.store, &v.id)
        .ok_or_else(|| TableError::Invalid(format!("{} is not a visit id", v.id)))?;
    let day_attrs = vec![
        (PK, day.pk.clone()),
        (SK, day.sk.clone()),
        (KIND, "visit".to_owned()),
        (GSI4PK, keys::records_gsi4pk(t, &v.campaign, &day.pk)),
        (GSI4SK, keys::records_gsi4sk(&day.pk, &day.sk)),
    ];
    Ok(vec![
        Write::Put {
            item: to_item(v, &attrs)?,
            condition: Some(latest_condition),
        },
        Write::Put {
            item: to_item(v, &day_attrs)?,
            condition: Some(day_condition),
        },
    ])
}

/// Takes one unit of each pair from the store's count and from its sellable shard, on
/// condition both are there (and the shard not fenced by the close).
pub(crate) fn take_holds(t: &Tenant, v: &Visit) -> Vec<Write> {
    let (counts, sellable) = tallies(v, v.holds.iter(), true);
    let pk = keys::campaign_pk(t, &v.campaign);
    let mut writes = counts.take(&pk);
    writes.extend(sellable.take(&pk).into_iter().map(unless_fenced));
    writes
}

/// Gives `holds` back to their shards and the store's count (a release).
pub(crate) fn release_holds<'a>(
    t: &Tenant,
    v: &Visit,
    holds: impl Iterator<Item = &'a Hold>,
) -> Vec<Write> {
    let (counts, sellable) = tallies(v, holds, true);
    let pk = keys::campaign_pk(t, &v.campaign);
    let mut writes = counts.give_back(&pk);
    writes.extend(sellable.give_back(&pk));
    writes
}

/// Gives `holds` back to the store's count only (an order of the visit took them: its
/// dispatch takes them from there).
pub(crate) fn give_back_holds<'a>(
    t: &Tenant,
    v: &Visit,
    holds: impl Iterator<Item = &'a Hold>,
) -> Vec<Write> {
    let (counts, _) = tallies(v, holds, false);
    counts.give_back(&keys::campaign_pk(t, &v.campaign))
}

/// One unit of each hold, in the store's count (`W#{sku}`) and, with `shards`, in the
/// sellable shard it came from.
fn tallies<'a>(v: &Visit, holds: impl Iterator<Item = &'a Hold>, shards: bool) -> (Tally, Tally) {
    let (mut counts, mut sellable) = (Tally::default(), Tally::default());
    for h in holds {
        counts.add(
            keys::store_stock_sk(&h.sku),
            &["units", v.store.as_str(), h.size.as_str()],
            1,
        );
        if shards {
            sellable.add(
                keys::stock_sk(&h.sku, h.shard),
                &["units", h.size.as_str()],
                1,
            );
        }
    }
    (counts, sellable)
}

impl Db {
    /// The buyer's latest visit in the campaign. 1 GetItem, consistent.
    pub async fn latest_visit(
        &self,
        t: &Tenant,
        c: &CampaignId,
        buyer: &UserId,
    ) -> Result<Option<Visit>> {
        match self.table.get(&visit_key(t, c, buyer), true).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// A visit of `store` by its id. 1 GetItem, consistent.
    pub async fn visit(&self, t: &Tenant, store: &StoreId, id: &VisitId) -> Result<Visit> {
        let key = visit_day_key(t, store, id).ok_or(DomainError::NotFound { what: "visit" })?;
        let item = self
            .table
            .get(&key, true)
            .await?
            .ok_or(DomainError::NotFound { what: "visit" })?;
        Ok(from_item(item)?)
    }

    /// A store's try-on visits of a local date, by slot. 1 Query.
    pub async fn day_visits(
        &self,
        t: &Tenant,
        store: &StoreId,
        date: chrono::NaiveDate,
    ) -> Result<Vec<Visit>> {
        self.store_day(t, store, date, keys::VISIT_DAY_PREFIX).await
    }
}
