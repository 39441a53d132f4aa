//! Members' points, moved by order events and by time: each order event is applied to
//! its buyer's account in its brand (read the account, decide with
//! [`crate::domain::member`], write the account on condition of its version with the
//! entry it made, in one transaction); an account with an order whose return window
//! may have closed is looked at when its timer is due, and that order's points become
//! available.

use chrono::{DateTime, Duration, Utc};

use crate::app::AppState;
use crate::db::members::{account_write, entry_write};
use crate::db::orders::order_key;
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::catalog::Phone;
use crate::domain::ids::{BrandId, UserId};
use crate::domain::member::{decide_binding, Binding, Follow, OrderFact, PointsEntry, Profile};
use crate::domain::order::Order;
use crate::error::Result;
use crate::queue::messages::{OrderEvent, OrderEventKind};
use crate::table::from_item;

/// One new member on the guide's and the store's board for the campaign (a random
/// counter shard, like attribution's).
fn new_member_counted(
    t: &crate::domain::tenancy::Tenant,
    campaign: &crate::domain::ids::CampaignId,
    guide: &crate::domain::ids::GuideId,
    store: &crate::domain::ids::StoreId,
) -> Vec<crate::table::Write> {
    use crate::db::attribution::{counter_add, Counted, STAT_SHARDS};
    let shard = (crate::db::orders::random() % u64::from(STAT_SHARDS)) as u8;
    [Counted::Guide(guide.clone()), Counted::Store(store.clone())]
        .iter()
        .map(|who| counter_add(t, campaign, shard, who, &[("new_members", 1)]))
        .collect()
}

/// How long before an order not yet received is looked at again.
const RECHECK_HOURS: i64 = 24;

impl AppState {
    /// Applies an order event to its buyer's points, once by the event's id: 1
    /// BatchGetItem (the account, the brand's terms) + 1 TransactWriteItems (the
    /// account, the entry), or nothing for a duplicate. The first sale credited to a
    /// guide of a bound member in the brand also counts them on that guide's board
    /// (+1 GetItem: the profile; +1 counter update in the transaction). Returns the
    /// entry written.
    pub async fn apply_member_event(&self, e: &OrderEvent) -> Result<Option<PointsEntry>> {
        let brand = &e.tenant.brand;
        optimistic("this member's points", || async {
            let (mut account, version, terms) = self.db.account(&e.buyer, brand).await?;
            let recruits = match (&e.guide, e.kind) {
                (Some(_), OrderEventKind::Paid) if account.recruited_by.is_none() => self
                    .db
                    .profile(&e.buyer, None)
                    .await?
                    .0
                    .phone_hash
                    .is_some(),
                _ => false,
            };
            let fact = match e.kind {
                OrderEventKind::Paid => OrderFact::Paid {
                    amount_fen: e.amount_fen.get(),
                    tenant: e.tenant.clone(),
                    window_days: e.window_days,
                },
                OrderEventKind::Refunded | OrderEventKind::Cancelled => OrderFact::Refunded {
                    refund: e.id.clone(),
                    amount_fen: e.amount_fen.get(),
                },
            };
            let before = account.clone();
            let entry = account.apply(&terms, &e.id, &e.order, &fact, e.at);
            if account == before {
                return Ok(Attempt::Done(None)); // a duplicate: nothing, not even a recruit
            }
            if recruits {
                account.recruited_by = e.guide.as_ref().map(ToString::to_string);
            }
            account.version = version.map_or(1, |v| v + 1);
            let mut writes = vec![account_write(&e.buyer, brand, &account, version)?];
            if let Some(entry) = &entry {
                writes.push(entry_write(&e.buyer, brand, entry)?);
            }
            if let (true, Some(guide), Some(store)) = (recruits, &e.guide, &e.store) {
                writes.extend(new_member_counted(&e.tenant, &e.campaign, guide, store));
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(entry)),
                Err(err) if lost_race(&err) => Ok(Attempt::Again),
                Err(err) => Err(err.into()),
            }
        })
        .await
    }

    /// Looks at a member's orders in a brand whose window look is due: each whose
    /// return window has closed (or that was cancelled) has its points released; the
    /// others are looked at again when their window closes (or, not yet received, in a
    /// day). 1 BatchGetItem (the account, the terms) + 1 BatchGetItem (the orders) + 1
    /// TransactWriteItems. Returns the entries written.
    pub async fn release_points(
        &self,
        member: &UserId,
        brand: &BrandId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PointsEntry>> {
        optimistic("this member's points", || async {
            let (mut account, version, _) = self.db.account(member, brand).await?;
            let due = account.due_checks(now);
            if due.is_empty() {
                return Ok(Attempt::Done(Vec::new()));
            }
            let keys: Vec<_> = due.iter().map(|(o, t)| order_key(t, o)).collect();
            let found = self.db.batch_get_map(&keys, true).await?;
            let mut entries = Vec::new();
            for (id, t) in &due {
                let order: Option<Order> = found
                    .get(&order_key(t, id))
                    .map(|i| from_item(i.clone()))
                    .transpose()?;
                // An order gone is a window closed.
                let closes = order.map_or(Some(now), |o| {
                    o.returns_close_at(o.returns_policy.window_days, now)
                });
                match closes {
                    Some(at) if at <= now => entries.extend(account.release(id, now)),
                    Some(at) => account.check_again(id, at),
                    None => account.check_again(id, now + Duration::hours(RECHECK_HOURS)),
                }
            }
            account.version = version.map_or(1, |v| v + 1);
            let mut writes = vec![account_write(member, brand, &account, version)?];
            for e in &entries {
                writes.push(entry_write(member, brand, e)?);
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(entries.clone())),
                Err(err) if lost_race(&err) => Ok(Attempt::Again),
                Err(err) => Err(err.into()),
            }
        })
        .await
    }
}

impl AppState {
    /// Binds the caller's verified phone to their member profile, and links them to
    /// the group's membership (enrolled there if new): 1 BatchGetItem (the profile, the
    /// phone's holder), the CRM call, 1 TransactWriteItems (the phone index on
    /// condition no one holds it, the profile on condition of its version). Binding
    /// the same phone again changes nothing; a phone another account holds is refused.
    pub async fn bind_member_phone(
        &self,
        member: &UserId,
        phone: &Phone,
        now: DateTime<Utc>,
    ) -> Result<Profile> {
        let hash = self.phones.lookup_hash(phone);
        optimistic("this member", || async {
            let (profile, version, holder) = self.db.profile(member, Some(&hash)).await?;
            let holder = holder.as_ref().map(UserId::as_str);
            if decide_binding(&profile, &hash, holder, member.as_str())? == Binding::Already {
                return Ok(Attempt::Done(profile));
            }
            let crm = self.membership.enrol(phone).await?;
            let next = Profile {
                phone_sealed: Some(self.phones.seal(phone)),
                phone_hash: Some(hash.clone()),
                bound_at: Some(now),
                crm_member_id: Some(crm.member_id),
                crm_levels: crm.levels,
                follows: profile.follows.clone(),
                version: version.map_or(1, |v| v + 1),
            };
            match self.db.bind_phone(member, &next, version, &hash).await {
                Ok(()) => Ok(Attempt::Done(next)),
                // Someone bound it, or the profile moved: read again (and refuse).
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

impl AppState {
    /// Staff's adjustment of a member's available points, once by `key`: 1
    /// BatchGetItem + 1 TransactWriteItems (the account on condition of its version,
    /// the entry on condition it is new). A replay answers the entry written first.
    #[allow(clippy::too_many_arguments)]
    pub async fn adjust_points(
        &self,
        member: &UserId,
        brand: &BrandId,
        key: &str,
        points: i64,
        reason: &str,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(PointsEntry, bool)> {
        optimistic("this member's points", || async {
            if let Some(done) = self.db.points_entry(member, brand, key).await? {
                return Ok(Attempt::Done((done, false)));
            }
            let (mut account, version, _) = self.db.account(member, brand).await?;
            let note = format!("{reason} (by {by})");
            let Some(entry) = account.adjust(key, points, &note, now)? else {
                return Ok(Attempt::Again); // applied by a racing request: read its entry
            };
            account.version = version.map_or(1, |v| v + 1);
            let writes = vec![
                account_write(member, brand, &account, version)?,
                entry_write(member, brand, &entry)?,
            ];
            match self.db.table().transact(writes).await {
                Ok(()) => {
                    tracing::info!(%member, %brand, points, %by, "points adjusted by staff");
                    Ok(Attempt::Done((entry, true)))
                }
                Err(err) if lost_race(&err) => Ok(Attempt::Again),
                Err(err) => Err(err.into()),
            }
        })
        .await
    }
}

impl AppState {
    /// Replaces what a member follows: 1 BatchGetItem + 1 conditional PutItem.
    pub async fn set_follows(&self, member: &UserId, follows: Vec<Follow>) -> Result<Vec<Follow>> {
        optimistic("this member", || async {
            let (mut profile, version, _) = self.db.profile(member, None).await?;
            profile.follows = follows.clone();
            profile.version = version.map_or(1, |v| v + 1);
            match self.db.put_profile(member, &profile, version).await {
                Ok(()) => Ok(Attempt::Done(profile.follows)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
