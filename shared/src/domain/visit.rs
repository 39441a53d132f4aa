//! Try-on visits: before buying, a buyer books a slot at a store to try up to
//! [`MAX_TRIES`] SKU and size pairs the store holds. One unit of each is held for the
//! visit, in both ledgers: taken from the store's count (so fulfilment cannot ship it
//! meanwhile) and from a sellable shard (so no online buyer is sold a unit that is on a
//! visitor's feet). Both come back at the slot's end unless an order of the visit used
//! it. A clerk or a guide of the store checks the visitor in with the visit's code (the
//! pickup code's lockout); an order placed within the slot for a tried SKU is then
//! credited to the checking-in guide ([`trial_for`], rule `in_store_trial`), takes the
//! held units first ([`Visit::holds_for`]: they become the order's, in the store's
//! count again for its dispatch) and is dispatched from that store, the guide's.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::appointment::{Appointment, AppointmentStatus};
use super::attribution::TrialGuide;
use super::ids::{CampaignId, GuideId, OrderId, Size, Sku, StoreId, UserId, VisitId};
use super::order::{same_code, wrong_code};
use super::DomainError;

/// At most this many SKU and size pairs per visit.
pub const MAX_TRIES: usize = 3;

/// A check-in is taken from this long before the slot's start.
pub const EARLY_CHECK_IN_MINUTES: i64 = 30;

/// One pair to try, as the buyer asks for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryOn {
    pub sku: Sku,
    pub size: Size,
}

/// One unit held for the visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hold {
    pub sku: Sku,
    pub size: Size,
    /// The sellable shard it was taken from (and goes back to).
    pub shard: u8,
    /// The visit's order that took this unit (it is not given back).
    pub used_by: Option<OrderId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    Booked,
    CheckedIn,
    /// Not checked in by the slot's end.
    NoShow,
    Cancelled,
}

/// Who checked the visitor in, and the guide credited with what they then buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckIn {
    pub by: UserId,
    pub guide: Option<GuideId>,
    /// The guide's login: a guide checking in their own visit earns nothing.
    pub guide_user: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// A try-on visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Visit {
    pub id: VisitId,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub store: StoreId,
    /// The slot (its `status` follows the visit's: honoured once checked in).
    pub slot: Appointment,
    pub holds: Vec<Hold>,
    pub status: VisitStatus,
    /// What the buyer shows at the store (never in the clerks' list).
    pub code: Option<String>,
    #[serde(default)]
    pub failed_attempts: u32,
    #[serde(default)]
    pub locked_until: Option<DateTime<Utc>>,
    pub checked_in: Option<CheckIn>,
    /// When its unused holds (and its place, unless checked in) were given back.
    pub released_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What a check-in did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckInOutcome {
    CheckedIn,
    /// The code was wrong; this many more tries before the visit locks.
    WrongCode {
        attempts_left: u32,
    },
    /// Too many wrong codes: locked until then, and the buyer has a new code.
    Locked {
        until: DateTime<Utc>,
    },
}

/// The pairs of a booking, parsed: 1 to [`MAX_TRIES`], no pair twice.
pub fn parse_tries(mut tries: Vec<TryOn>) -> Result<Vec<TryOn>, DomainError> {
    if tries.is_empty() || tries.len() > MAX_TRIES {
        return Err(DomainError::invalid(
            "items",
            format!("1 to {MAX_TRIES} SKU and size pairs"),
        ));
    }
    tries.sort();
    let n = tries.len();
    tries.dedup();
    if tries.len() != n {
        return Err(DomainError::invalid("items", "a pair is named twice"));
    }
    Ok(tries)
}

impl Visit {
    /// A new visit of `buyer` at `store` in `slot`, holding one unit of each pair.
    /// `tries` with the sellable shard each unit is taken from.
    pub fn book(
        campaign: CampaignId,
        buyer: UserId,
        store: StoreId,
        slot: Appointment,
        tries: &[(TryOn, u8)],
        code: String,
        now: DateTime<Utc>,
    ) -> Visit {
        Visit {
            id: VisitId::generate(slot.date, &slot.slot(), now),
            campaign,
            buyer,
            store,
            slot,
            holds: tries
                .iter()
                .map(|(t, shard)| Hold {
                    sku: t.sku.clone(),
                    size: t.size.clone(),
                    shard: *shard,
                    used_by: None,
                })
                .collect(),
            status: VisitStatus::Booked,
            code: Some(code),
            failed_attempts: 0,
            locked_until: None,
            checked_in: None,
            released_at: None,
            version: 1,
        }
    }

    /// The pairs it was booked for, as asked (sorted when booked).
    pub fn tries(&self) -> Vec<TryOn> {
        self.holds
            .iter()
            .map(|h| TryOn {
                sku: h.sku.clone(),
                size: h.size.clone(),
            })
            .collect()
    }

    /// Whether it still holds units and a place (not yet released).
    pub fn active(&self) -> bool {
        self.released_at.is_none()
    }

    /// The units it holds now, not used by an order: what a release gives back.
    pub fn held(&self) -> impl Iterator<Item = &Hold> {
        self.holds
            .iter()
            .filter(|h| self.active() && h.used_by.is_none())
    }

    /// The buyer cancels before the slot ends: everything held is given back.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != VisitStatus::Booked || !self.active() {
            return Err(DomainError::conflict(
                "visit-not-booked",
                "only a booked visit that has not begun can be cancelled",
            ));
        }
        self.status = VisitStatus::Cancelled;
        self.released_at = Some(now);
        self.version += 1;
        Ok(())
    }

    /// At the slot's end: its unused holds go back (and a visitor never checked in is a
    /// no-show, their place back too). `None` before the end or when already released.
    pub fn release(&mut self, now: DateTime<Utc>) -> Option<()> {
        if !self.active() || now < self.slot.ends_at {
            return None;
        }
        if self.status == VisitStatus::Booked {
            self.status = VisitStatus::NoShow;
            self.slot.status = AppointmentStatus::NoShow;
        }
        self.released_at = Some(now);
        self.version += 1;
        Some(())
    }

    /// Whether releasing it gives its place in the slot back (nobody came, or the buyer
    /// cancelled); a visitor who came kept theirs.
    pub fn gives_place_back(&self) -> bool {
        self.checked_in.is_none()
    }

    /// A clerk or guide (`by`) checks the visitor in with the code they show, crediting
    /// `guide` (with their login) with what the visitor then buys. A wrong code is
    /// counted; the fifth locks the visit for 15 minutes and replaces its code with
    /// `next_code`. Every outcome changes the visit, and the caller saves it.
    pub fn check_in(
        &mut self,
        by: &UserId,
        guide: Option<(GuideId, UserId)>,
        code: &str,
        next_code: String,
        now: DateTime<Utc>,
    ) -> Result<CheckInOutcome, DomainError> {
        if self.status != VisitStatus::Booked || !self.active() {
            return Err(DomainError::conflict(
                "visit-not-booked",
                "this visit is not waiting for its visitor",
            ));
        }
        if now < self.slot.starts_at - Duration::minutes(EARLY_CHECK_IN_MINUTES)
            || now >= self.slot.ends_at
        {
            return Err(DomainError::conflict(
                "visit-not-now",
                format!(
                    "check-in opens {EARLY_CHECK_IN_MINUTES} minutes before the slot and closes at its end"
                ),
            ));
        }
        if let Some(until) = self.locked_until.filter(|u| now < *u) {
            return Ok(CheckInOutcome::Locked { until });
        }
        self.version += 1;
        if !same_code(self.code.as_deref().unwrap_or_default(), code) {
            let lock = (&mut self.failed_attempts, &mut self.locked_until);
            return Ok(match wrong_code(lock, &mut self.code, next_code, now) {
                Ok(attempts_left) => CheckInOutcome::WrongCode { attempts_left },
                Err(until) => CheckInOutcome::Locked { until },
            });
        }
        self.status = VisitStatus::CheckedIn;
        self.slot.status = AppointmentStatus::Honoured;
        let (guide, guide_user) = guide.unzip();
        self.checked_in = Some(CheckIn {
            by: by.clone(),
            guide,
            guide_user,
            at: now,
        });
        Ok(CheckInOutcome::CheckedIn)
    }

    /// The holds an order of these `(sku, size, quantity)` lines takes first: unused,
    /// while the visit holds, at most a line's quantity of each pair.
    pub fn holds_for(&self, lines: &[(&Sku, &Size, u32)]) -> Vec<usize> {
        let mut out = Vec::new();
        if !self.active() {
            return out;
        }
        for (sku, size, qty) in lines {
            let matching = self.holds.iter().enumerate().filter(|(i, h)| {
                h.used_by.is_none() && &&h.sku == sku && &&h.size == size && !out.contains(i)
            });
            let take: Vec<usize> = matching.take(*qty as usize).map(|(i, _)| i).collect();
            out.extend(take);
        }
        out
    }

    /// `order` takes the holds `used` (see [`Visit::holds_for`]).
    pub fn use_holds(&mut self, used: &[usize], order: &OrderId) {
        for &i in used {
            if let Some(h) = self.holds.get_mut(i) {
                h.used_by = Some(order.clone());
            }
        }
        if !used.is_empty() {
            self.version += 1;
        }
    }

    /// The visit as the store's clerks see it: without its code.
    pub fn for_staff(mut self) -> Visit {
        self.code = None;
        self
    }
}

/// Who an order of `skus` placed at `now` is credited to for this visit: the guide who
/// checked the visitor in, while the slot lasts, for a SKU they tried.
pub fn trial_for<'a>(
    visit: &Visit,
    mut skus: impl Iterator<Item = &'a Sku>,
    now: DateTime<Utc>,
) -> Option<TrialGuide> {
    let c = visit.checked_in.as_ref()?;
    let (guide, user) = (c.guide.clone()?, c.guide_user.clone()?);
    if visit.status != VisitStatus::CheckedIn
        || now < visit.slot.starts_at
        || now >= visit.slot.ends_at
        || !skus.any(|s| visit.holds.iter().any(|h| &h.sku == s))
    {
        return None;
    }
    Some(TrialGuide {
        visit: visit.id.clone(),
        guide,
        store: visit.store.clone(),
        user,
    })
}

/// The local date and slot name a visit id was made with (its day's key).
pub fn day_of(id: &VisitId) -> Option<(NaiveDate, String)> {
    let s = id.as_str();
    let date = NaiveDate::parse_from_str(s.get(1..9)?, "%Y%m%d").ok()?;
    Some((date, s.get(9..13)?.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::TimeOfDay;
    use crate::domain::order::{MAX_PICKUP_ATTEMPTS, PICKUP_LOCK_MINUTES};
    use chrono::TimeZone;

    fn visit() -> Visit {
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap();
        let slot = Appointment {
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            starts: TimeOfDay::parse("10:00").unwrap(),
            ends: TimeOfDay::parse("10:30").unwrap(),
            starts_at: at(2),
            ends_at: at(2) + Duration::minutes(30),
            status: AppointmentStatus::Booked,
            booked_at: at(1),
        };
        let tries: Vec<(TryOn, u8)> = parse_tries(vec![TryOn {
            sku: Sku::parse("SD-1").unwrap(),
            size: Size::parse("38").unwrap(),
        }])
        .unwrap()
        .into_iter()
        .map(|t| (t, 0))
        .collect();
        Visit::book(
            CampaignId::parse("c").unwrap(),
            UserId::parse("buyer").unwrap(),
            StoreId::parse("s").unwrap(),
            slot,
            &tries,
            "123456".into(),
            at(1),
        )
    }

    #[test]
    fn a_visit_id_names_its_day_and_slot() {
        let v = visit();
        assert_eq!(
            day_of(&v.id),
            Some((
                NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                "1000".into()
            ))
        );
    }

    #[test]
    fn the_fifth_wrong_code_locks_the_visit_and_changes_its_code() {
        let mut v = visit();
        let clerk = UserId::parse("clerk").unwrap();
        let now = v.slot.starts_at;
        for left in (1..MAX_PICKUP_ATTEMPTS).rev() {
            let out = v.check_in(&clerk, None, "000000", "654321".into(), now);
            assert_eq!(
                out,
                Ok(CheckInOutcome::WrongCode {
                    attempts_left: left
                })
            );
        }
        let out = v.check_in(&clerk, None, "000000", "654321".into(), now);
        assert!(matches!(out, Ok(CheckInOutcome::Locked { .. })));
        assert_eq!(v.code.as_deref(), Some("654321"));
        let out = v.check_in(&clerk, None, "654321", "x".into(), now);
        assert!(
            matches!(out, Ok(CheckInOutcome::Locked { .. })),
            "still locked"
        );
        let later = now + Duration::minutes(PICKUP_LOCK_MINUTES);
        assert_eq!(
            v.check_in(&clerk, None, "654321", "x".into(), later),
            Ok(CheckInOutcome::CheckedIn)
        );
    }

    #[test]
    fn only_a_checked_in_visit_in_its_slot_credits_a_tried_sku() {
        let mut v = visit();
        let sku = Sku::parse("SD-1").unwrap();
        let other = Sku::parse("SD-2").unwrap();
        let now = v.slot.starts_at + Duration::minutes(5);
        assert!(
            trial_for(&v, [&sku].into_iter(), now).is_none(),
            "not checked in"
        );
        let guide = (
            GuideId::parse("g").unwrap(),
            UserId::parse("g-user").unwrap(),
        );
        let clerk = UserId::parse("clerk").unwrap();
        v.check_in(&clerk, Some(guide), "123456", "x".into(), now)
            .unwrap();
        assert!(trial_for(&v, [&sku].into_iter(), now).is_some());
        assert!(
            trial_for(&v, [&other].into_iter(), now).is_none(),
            "not tried"
        );
        assert!(
            trial_for(&v, [&sku].into_iter(), v.slot.ends_at).is_none(),
            "over"
        );
    }

    #[test]
    fn an_order_uses_the_held_units_once_and_a_release_gives_back_the_rest() {
        let mut v = visit();
        let (sku, size) = (Sku::parse("SD-1").unwrap(), Size::parse("38").unwrap());
        let o = OrderId::parse("o1").unwrap();
        let used = v.holds_for(&[(&sku, &size, 2)]);
        assert_eq!(used, vec![0], "one unit held");
        v.use_holds(&used, &o);
        assert!(v.holds_for(&[(&sku, &size, 1)]).is_empty(), "used once");
        assert!(v.release(v.slot.starts_at).is_none(), "not before its end");
        assert!(v.release(v.slot.ends_at).is_some());
        assert_eq!(v.status, VisitStatus::NoShow);
        assert_eq!(v.held().count(), 0);
        assert!(v.release(v.slot.ends_at).is_none(), "released once");
    }
}
