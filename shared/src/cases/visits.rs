//! Try-on visits: a buyer books one (read the campaign, the store, its counts of the
//! pairs, the slot's counter and the buyer's latest visit in one batch; decide; write
//! the visit, the place and the holds in one transaction), cancels it, is checked in
//! by a clerk or guide with its code, and at the slot's end its unused holds come back
//! (the timer, the sweeper behind it). An order during the visit is credited in
//! `place.rs` and takes the held units in `dispatch.rs`.

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::AppState;
use crate::db::appointments::{free_of, give_back, slot_key_of, take_place};
use crate::db::orders::{map_of, number, random};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::db::store_finder::units_by_store;
use crate::db::visits::{new_visit_writes, release_holds, take_holds, visit_key, visit_writes};
use crate::domain::appointment::{slot_at, slot_name};
use crate::domain::campaign::{CampaignStatus, TimeOfDay};
use crate::domain::catalog::Store;
use crate::domain::ids::{CampaignId, GuideId, StoreId, UserId, VisitId};
use crate::domain::order::pickup_code;
use crate::domain::tenancy::Tenant;
use crate::domain::visit::{CheckInOutcome, TryOn, Visit};
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{delay_until, VisitTimer};
use crate::table::{from_item, keys, Key, Write};

/// A try-on visit's booking, parsed.
#[derive(Debug, Clone)]
pub struct VisitRequest {
    pub campaign: CampaignId,
    pub store: StoreId,
    pub date: NaiveDate,
    pub start: TimeOfDay,
    /// Sorted, 1 to 3, no pair twice.
    pub tries: Vec<TryOn>,
}

impl AppState {
    /// Books a try-on visit: one unit of each pair held for the slot (from the store's
    /// count and from a sellable shard), and a place of the slot taken, on condition
    /// all are there (409 `not-in-store`, `sold-out`, `slot-full`). The same booking
    /// again answers the visit as it is; another while one is active is 409
    /// `visit-active`. DynamoDB: the cached campaign read + 1 BatchGetItem + 1
    /// TransactWriteItems.
    pub async fn book_visit(
        &self,
        t: &Tenant,
        buyer: &UserId,
        req: &VisitRequest,
        now: DateTime<Utc>,
    ) -> Result<(Visit, bool)> {
        let campaign = self.db.visible_campaign(t, &req.campaign, now).await?;
        let cpk = keys::campaign_pk(t, &req.campaign);
        let store_key = Key::new(keys::tenant_pk(t), keys::store_sk(&req.store));
        let slot_key = slot_key_of(t, &req.store, req.date, &slot_name(req.start));
        let latest_key = visit_key(t, &req.campaign, buyer);
        let count_key = |sku| Key::new(cpk.clone(), keys::store_stock_sk(sku));
        let shard_key = |sku, shard| Key::new(cpk.clone(), keys::stock_sk(sku, shard));
        let mut wanted = vec![store_key.clone(), slot_key.clone(), latest_key.clone()];
        for tr in &req.tries {
            wanted.push(count_key(&tr.sku));
            for shard in 0..campaign.shards_of(&tr.sku) {
                wanted.push(shard_key(&tr.sku, shard));
            }
        }
        wanted.sort();
        wanted.dedup();
        let (visit, new) = optimistic("this slot", || async {
            let found = self.db.batch_get_map(&wanted, true).await?;
            if campaign.status_at(now) != CampaignStatus::Live {
                return Err(DomainError::conflict(
                    "campaign-not-live",
                    "try-on visits are booked while the campaign sells",
                )
                .into());
            }
            if !campaign.stores.contains(&req.store) {
                return Err(DomainError::invalid("store", "not a store of this campaign").into());
            }
            let store: Store = from_item(
                found
                    .get(&store_key)
                    .cloned()
                    .ok_or(DomainError::NotFound { what: "store" })?,
            )?;
            let slot = slot_at(&store.opening, store.pickup_slots, req.date, req.start, now)?;
            if slot.ends_at > campaign.ends_at {
                return Err(
                    DomainError::invalid("start", "the slot ends after the campaign").into(),
                );
            }
            let latest: Option<Visit> = match found.get(&latest_key) {
                Some(item) => Some(from_item(item.clone())?),
                None => None,
            };
            if let Some(v) = latest.as_ref().filter(|v| v.active()) {
                if v.store == req.store
                    && v.slot.starts_at == slot.starts_at
                    && v.tries() == req.tries
                {
                    return Ok(Attempt::Done((v.clone(), false)));
                }
                return Err(DomainError::conflict(
                    "visit-active",
                    format!("visit {} is booked: cancel it first", v.id),
                )
                .into());
            }
            let mut tries = Vec::new();
            for tr in &req.tries {
                let held = found
                    .get(&count_key(&tr.sku))
                    .map(units_by_store)
                    .and_then(|mut u| u.remove(&req.store))
                    .and_then(|sizes| sizes.get(&tr.size).copied())
                    .unwrap_or(0);
                if held == 0 {
                    return Err(DomainError::conflict(
                        "not-in-store",
                        format!("{} does not hold {} in size {}", req.store, tr.sku, tr.size),
                    )
                    .into());
                }
                // the sellable shard with most of the size (the close's fence: sold out)
                let shard = (0..campaign.shards_of(&tr.sku))
                    .filter_map(|k| {
                        let item = found.get(&shard_key(&tr.sku, k))?;
                        if item.contains_key(crate::db::orders::FENCE) {
                            return None;
                        }
                        let n = map_of(item, "units")
                            .and_then(|u| u.get(tr.size.as_str()))
                            .map(|n| number(Some(n)))
                            .unwrap_or(0);
                        (n > 0).then_some((n, k))
                    })
                    .max()
                    .map(|(_, k)| k)
                    .ok_or_else(|| {
                        DomainError::conflict(
                            "sold-out",
                            format!("{} in size {} is sold out", tr.sku, tr.size),
                        )
                    })?;
                tries.push((tr.clone(), shard));
            }
            let free = free_of(found.get(&slot_key));
            if free.is_some_and(|f| f < 1) {
                return Err(DomainError::conflict(
                    "slot-full",
                    format!("the {} slot of {} is full", slot.starts, req.date),
                )
                .into());
            }
            let capacity = store.pickup_slots.map_or(1, |s| s.capacity);
            let v = Visit::book(
                req.campaign.clone(),
                buyer.clone(),
                req.store.clone(),
                slot,
                &tries,
                pickup_code(random()),
                now,
            );
            let mut writes = new_visit_writes(t, &v, latest.as_ref().map(|l| l.version))?;
            writes.push(take_place(t, &req.store, &v.slot, capacity, free)?);
            writes.extend(take_holds(t, &v));
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done((v, true))),
                // the slot's places, a unit or the buyer's visit moved: read again
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        if new {
            let timer = VisitTimer {
                tenant: t.clone(),
                campaign: req.campaign.clone(),
                buyer: buyer.clone(),
                due: visit.slot.ends_at,
            };
            self.queue
                .post(&timer, Some(delay_until(timer.due, now)))
                .await?;
        }
        Ok((visit, new))
    }

    /// The buyer cancels their booked visit: its units and place go back. DynamoDB: 1
    /// GetItem + 1 TransactWriteItems.
    pub async fn cancel_visit(
        &self,
        t: &Tenant,
        c: &CampaignId,
        buyer: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Visit> {
        optimistic("this visit", || async {
            let current = self
                .db
                .latest_visit(t, c, buyer)
                .await?
                .ok_or(DomainError::NotFound { what: "visit" })?;
            let mut v = current.clone();
            v.cancel(now)?;
            let writes = release_writes(t, &current, &v)?;
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(v)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// A clerk of the visit's store, or one of its guides (`by`), checks the visitor in
    /// with their code, crediting `guide` (who must work there) with what they buy in
    /// the slot. Wrong codes are counted and saved (the fifth locks the visit).
    /// DynamoDB: 1 GetItem (the visit) + 1 GetItem (the guide, when named) + 1
    /// BatchGetItem (the store's clerks, unless the caller is the guide) + 1
    /// TransactWriteItems.
    pub async fn check_in_visit(
        &self,
        t: &Tenant,
        (store, id): (&StoreId, &VisitId),
        by: &UserId,
        guide: Option<&GuideId>,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(Visit, CheckInOutcome)> {
        let guide = match guide {
            Some(g) => Some(self.db.guide(t, g).await?),
            None => None,
        };
        // The store's guide checking in themself, or a clerk of the store.
        let themself = guide
            .as_ref()
            .is_some_and(|g| &g.user == by && &g.store == store);
        if !themself
            && self
                .db
                .stores_clerked_by(t, std::slice::from_ref(store), by)
                .await?
                .is_empty()
        {
            return Err(DomainError::Forbidden(
                "only a clerk or a guide of the visit's store checks a visitor in".into(),
            )
            .into());
        }
        if guide.as_ref().is_some_and(|g| &g.store != store) {
            return Err(DomainError::invalid("guide", "not a guide of this store").into());
        }
        let credited = guide.map(|g| (g.id, g.user));
        optimistic("this visit", || async {
            let current = self.db.visit(t, store, id).await?;
            let mut v = current.clone();
            let outcome = v.check_in(by, credited.clone(), code, pickup_code(random()), now)?;
            // The buyer's latest is this visit: a new one needs this one released.
            let writes = visit_writes(t, &v, current.version)?;
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done((v, outcome))),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// A visit at its slot's end: its unused holds (and, if nobody came, its place) go
    /// back; `Some(due)` when it is not due yet. Harmless twice. DynamoDB: 1 GetItem
    /// (+ 1 TransactWriteItems when due).
    pub async fn release_visit(
        &self,
        t: &Tenant,
        c: &CampaignId,
        buyer: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        optimistic("this visit", || async {
            let Some(current) = self.db.latest_visit(t, c, buyer).await? else {
                return Ok(Attempt::Done(None));
            };
            if !current.active() {
                return Ok(Attempt::Done(None));
            }
            let mut v = current.clone();
            if v.release(now).is_none() {
                return Ok(Attempt::Done(Some(v.slot.ends_at)));
            }
            let writes = release_writes(t, &current, &v)?;
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(None)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

/// A visit released (cancelled, or at its end), from `current` to `next`: both records,
/// its unused holds back in the store's count, and its place back unless the visitor
/// came.
fn release_writes(t: &Tenant, current: &Visit, next: &Visit) -> Result<Vec<Write>> {
    let mut writes = visit_writes(t, next, current.version)?;
    writes.extend(release_holds(t, next, current.held()));
    if next.gives_place_back() {
        writes.push(give_back(t, &next.store, &next.slot));
    }
    Ok(writes)
}
