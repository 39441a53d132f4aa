//! Campaigns: a short window of days in one time zone, sold in flash-sale slots.
//!
//! Slots are times of day in the campaign's time zone and may cross midnight
//! (20:00-10:00 runs into the next morning). Which slot is open is a pure function of
//! the campaign and an instant, so it is tested without a clock.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

use super::ids::{CampaignId, CategoryId, SlotId, StoreId};
use super::DomainError;

/// The stored lifecycle. What callers see is [`CampaignStatus`], worked out from the
/// stage and the window by [`Campaign::status_at`] (the one place that decides it):
/// a published campaign is scheduled before its start, live in its window and ended
/// after it, so going live needs no write at the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    Published,
    /// Selling has stopped; unpaid orders and open groups are being finished.
    Closing,
    /// Selling is over; returns and commissions stay open until the last return
    /// window closes, and the report is interim.
    Settling,
    /// Nothing is open: the report is final.
    Closed,
}

/// Edits stop this long before a published campaign starts. The write itself is
/// conditioned on it (see [`Campaign::editable_until`]), so an edit sent just before
/// the start can never commit after it, whatever the network does in between.
pub const EDIT_FREEZE_SECONDS: i64 = 60;

/// Up to 32 stock items per listing: DynamoDB takes roughly 500 transactional writes a
/// second on one item, so 32 shards carry a single hot size past 10,000 orders a second
/// (about 310 writes a second each). An order reads only the shards a listing has (the
/// campaign records each listing's count), not all 32.
pub const MAX_SHARDS: u8 = 32;

/// The status a caller sees at a given instant: staff and buyers alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Live,
    /// Past its end, waiting for the close step.
    Ended,
    Closing,
    Settling,
    Closed,
}

/// A time of day, minutes after midnight, written "HH:MM".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| "expected HH:MM".to_string())?;
        Ok(Self::from_naive(t))
    }

    fn from_naive(t: NaiveTime) -> Self {
        use chrono::Timelike;
        TimeOfDay((t.hour() * 60 + t.minute()) as u16)
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    fn naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(u32::from(self.0 / 60), u32::from(self.0 % 60), 0)
            .unwrap_or(NaiveTime::MIN)
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        TimeOfDay::parse(&s)
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl utoipa::PartialSchema for TimeOfDay {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-2][0-9]:[0-5][0-9]$"))
            .examples(["10:00"])
            .into()
    }
}
impl ToSchema for TimeOfDay {}

/// A flash-sale slot: `starts` to `ends` every day of the campaign; `ends <= starts`
/// means it crosses midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub id: SlotId,
    pub starts: TimeOfDay,
    pub ends: TimeOfDay,
}

impl Slot {
    fn length(&self) -> u16 {
        (self.ends.0 + 1440 - self.starts.0) % 1440
    }

    /// Whether minute-of-day `m` falls in this slot.
    pub fn contains(&self, m: u16) -> bool {
        (m + 1440 - self.starts.0) % 1440 < self.length()
    }
}

/// Checks a set of slots: distinct ids, no empty slot, no overlap.
pub fn validate_slots(slots: &[Slot]) -> Result<(), DomainError> {
    if slots.len() > 24 {
        return Err(DomainError::invalid("slots", "at most 24 slots"));
    }
    for (i, s) in slots.iter().enumerate() {
        let field = format!("slots[{i}]");
        if s.starts == s.ends {
            return Err(DomainError::invalid(
                format!("{field}.ends"),
                "a slot must not be empty",
            ));
        }
        for other in &slots[..i] {
            if other.id == s.id {
                return Err(DomainError::invalid(
                    format!("{field}.id"),
                    "duplicate slot id",
                ));
            }
            if other.contains(s.starts.0) || s.contains(other.starts.0) {
                return Err(DomainError::invalid(
                    field,
                    format!("overlaps slot {}", other.id),
                ));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
}

pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;
pub const DEFAULT_PAYMENT_WINDOW_MINUTES: u32 = 15;
/// A campaign is a short clearance, not a season: longer windows are refused.
pub const MAX_WINDOW_DAYS: i64 = 31;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub stage: Stage,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[schema(value_type = String, example = "Asia/Shanghai")]
    pub time_zone: Tz,
    pub slots: Vec<Slot>,
    pub categories: Vec<Category>,
    pub stores: Vec<StoreId>,
    pub payment_window_minutes: u32,
    /// The coupon templates buyers may claim (their budgets are counted in separate items).
    #[serde(default)]
    pub coupons: Vec<super::coupon::CouponTemplate>,
    #[serde(default)]
    pub coupon_rules: super::pricing::CouponRules,
    /// How returns are decided.
    #[serde(default)]
    pub returns: super::terms::ReturnPolicy,
    /// How sales are credited to guides, and their commission.
    #[serde(default)]
    pub attribution: super::attribution::AttributionPolicy,
    /// How many stock shards each listing has (written with the listing), so an order
    /// reads only those; a listing missing here is read over every possible shard.
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, u8>)]
    pub shard_counts: std::collections::BTreeMap<super::ids::Sku, u8>,
    /// Members of a level may buy a set time before `starts_at`.
    #[serde(default)]
    pub early_access: Option<EarlyAccess>,
    /// The close, once begun: where it is, and the last report it published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<super::close_run::CloseRun>,
    /// Bumped by every change; writes are conditional on the version they read.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    /// Closing, settling or closed: nothing is sold any more.
    pub fn is_closed(&self) -> bool {
        matches!(self.stage, Stage::Closing | Stage::Settling | Stage::Closed)
    }

    /// The status as seen at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> CampaignStatus {
        match self.stage {
            Stage::Draft => CampaignStatus::Draft,
            Stage::Closing => CampaignStatus::Closing,
            Stage::Settling => CampaignStatus::Settling,
            Stage::Closed => CampaignStatus::Closed,
            Stage::Published if now < self.starts_at => CampaignStatus::Scheduled,
            Stage::Published if now < self.ends_at => CampaignStatus::Live,
            Stage::Published => CampaignStatus::Ended,
        }
    }

    /// When the first buyer may buy: `starts_at`, or earlier for early access.
    pub fn earliest_open(&self) -> DateTime<Utc> {
        match &self.early_access {
            Some(e) => self.starts_at - Duration::minutes(i64::from(e.minutes)),
            None => self.starts_at,
        }
    }

    /// Whether a member of `level` may buy at `now` though the campaign has not started:
    /// it is published, gives early access to that level, and its early window is open.
    pub fn opens_early_for(&self, level: u8, now: DateTime<Utc>) -> bool {
        self.stage == Stage::Published
            && now < self.starts_at
            && now >= self.earliest_open()
            && self
                .early_access
                .as_ref()
                .is_some_and(|e| level >= e.min_level)
    }

    /// Whether an order now may depend on the buyer's level (the early window, or
    /// before it).
    pub fn early_window_ahead(&self, now: DateTime<Utc>) -> bool {
        self.stage == Stage::Published && self.early_access.is_some() && now < self.starts_at
    }

    /// The last instant (milliseconds since the epoch) at which its listings, slots and
    /// coupons may still change: forever for a draft, until [`EDIT_FREEZE_SECONDS`]
    /// before the start once published, never after. Stored on the campaign item, so
    /// every edit's write is conditioned on it.
    pub fn editable_until(&self) -> i64 {
        match self.stage {
            Stage::Draft => i64::MAX,
            // Edits stop before the first buyer may buy (early access included).
            Stage::Published => {
                self.earliest_open().timestamp_millis() - EDIT_FREEZE_SECONDS * 1000
            }
            Stage::Closing | Stage::Settling | Stage::Closed => i64::MIN,
        }
    }

    /// Operators may change a campaign until shortly before it goes live; after that,
    /// prices and stock are promises made to buyers.
    pub fn ensure_editable(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        if now.timestamp_millis() < self.editable_until() {
            return Ok(());
        }
        match self.status_at(now) {
            CampaignStatus::Scheduled => Err(DomainError::conflict(
                "campaign-not-editable",
                format!("the campaign goes live in less than {EDIT_FREEZE_SECONDS} seconds"),
            )),
            other => Err(DomainError::conflict(
                "campaign-not-editable",
                format!(
                    "campaign is {} and can no longer be changed",
                    status_name(other)
                ),
            )),
        }
    }

    /// The slot open at `now`, if the campaign is live and a slot covers that time.
    pub fn open_slot_at(&self, now: DateTime<Utc>) -> Option<&Slot> {
        if self.status_at(now) != CampaignStatus::Live {
            return None;
        }
        let local = now.with_timezone(&self.time_zone);
        let m = TimeOfDay::from_naive(local.time()).0;
        self.slots.iter().find(|s| s.contains(m))
    }

    /// When the slot open at `now` closes (or the campaign ends, if sooner).
    pub fn open_slot_ends(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let slot = self.open_slot_at(now)?;
        let local = now.with_timezone(&self.time_zone);
        let m = TimeOfDay::from_naive(local.time()).0;
        let date = if slot.ends.0 > m {
            local.date_naive()
        } else {
            local.date_naive() + Duration::days(1)
        };
        let end = self
            .time_zone
            .from_local_datetime(&date.and_time(slot.ends.naive()))
            .earliest()?;
        Some(end.with_timezone(&Utc).min(self.ends_at))
    }

    /// The next instant after `now` (and inside the window) at which a slot opens.
    pub fn next_slot_start(&self, now: DateTime<Utc>) -> Option<(SlotId, DateTime<Utc>)> {
        // Before the campaign, look from its start instead of from now.
        let from = now.max(self.starts_at - Duration::nanoseconds(1));
        let local_date = from.with_timezone(&self.time_zone).date_naive();
        let mut best: Option<(SlotId, DateTime<Utc>)> = None;
        // Today and tomorrow cover every next start; a start lost to a DST gap is skipped.
        for day in 0..2 {
            let date = local_date + Duration::days(day);
            for slot in &self.slots {
                let local = date.and_time(slot.starts.naive());
                let Some(start) = self.time_zone.from_local_datetime(&local).earliest() else {
                    continue;
                };
                let start = start.with_timezone(&Utc);
                let wanted = start > from && start < self.ends_at;
                if wanted && best.as_ref().is_none_or(|(_, b)| start < *b) {
                    best = Some((slot.id.clone(), start));
                }
            }
        }
        best
    }

    /// The stock shards an order of `sku` reads.
    pub fn shards_of(&self, sku: &super::ids::Sku) -> u8 {
        self.shard_counts.get(sku).copied().unwrap_or(MAX_SHARDS)
    }

    /// What publish requires: a window still ahead, a store, a listing.
    pub fn ensure_publishable(
        &self,
        now: DateTime<Utc>,
        listings: usize,
    ) -> Result<(), DomainError> {
        if self.stage != Stage::Draft {
            return Err(DomainError::conflict(
                "campaign-not-draft",
                "only a draft campaign can be published",
            ));
        }
        if self.ends_at <= now {
            return Err(DomainError::invalid(
                "ends_at",
                "the campaign window has already ended",
            ));
        }
        if self.stores.is_empty() {
            return Err(DomainError::invalid(
                "stores",
                "a campaign needs at least one store",
            ));
        }
        if listings == 0 {
            return Err(DomainError::invalid(
                "listings",
                "a campaign needs at least one listing",
            ));
        }
        Ok(())
    }
}

pub fn status_name(s: CampaignStatus) -> &'static str {
    match s {
        CampaignStatus::Draft => "draft",
        CampaignStatus::Scheduled => "scheduled",
        CampaignStatus::Live => "live",
        CampaignStatus::Ended => "ended",
        CampaignStatus::Closing => "closing",
        CampaignStatus::Settling => "settling",
        CampaignStatus::Closed => "closed",
    }
}

/// Members of `min_level` and above may buy `minutes` before the campaign starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyAccess {
    /// 1-9: the member level (per brand) that opens early.
    pub min_level: u8,
    /// 1-1440 minutes before `starts_at`.
    pub minutes: u32,
}

impl EarlyAccess {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(1..=9).contains(&self.min_level) {
            return Err(DomainError::invalid(
                "early_access.min_level",
                "must be 1 to 9",
            ));
        }
        if !(1..=1440).contains(&self.minutes) {
            return Err(DomainError::invalid(
                "early_access.minutes",
                "must be 1 to 1440",
            ));
        }
        Ok(())
    }
}

/// Checks a campaign's window.
pub fn validate_window(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), DomainError> {
    if ends_at <= starts_at {
        return Err(DomainError::invalid("ends_at", "must be after starts_at"));
    }
    if ends_at - starts_at > Duration::days(MAX_WINDOW_DAYS) {
        return Err(DomainError::invalid(
            "ends_at",
            format!("a campaign lasts at most {MAX_WINDOW_DAYS} days"),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn slot(id: &str, a: &str, b: &str) -> Slot {
        Slot {
            id: SlotId::parse(id).unwrap(),
            starts: TimeOfDay::parse(a).unwrap(),
            ends: TimeOfDay::parse(b).unwrap(),
        }
    }

    pub(crate) fn demo(now: DateTime<Utc>) -> Campaign {
        Campaign {
            id: CampaignId::parse("c").unwrap(),
            name: "c".into(),
            stage: Stage::Published,
            starts_at: now - Duration::days(1),
            ends_at: now + Duration::days(3),
            time_zone: DEFAULT_TIME_ZONE,
            slots: vec![
                slot("morning", "10:00", "16:00"),
                slot("evening", "16:00", "20:00"),
                slot("night", "20:00", "10:00"),
            ],
            categories: vec![],
            stores: vec![],
            payment_window_minutes: 15,
            coupons: vec![],
            coupon_rules: Default::default(),
            returns: Default::default(),
            attribution: Default::default(),
            shard_counts: Default::default(),
            early_access: None,
            close: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_open_slot_follows_the_campaign_time_zone_across_midnight() {
        // 2026-11-23 01:30 UTC is 09:30 in Shanghai: still the night slot.
        let now = at("2026-11-23T01:30:00Z");
        let c = demo(now);
        assert_eq!(c.open_slot_at(now).map(|s| s.id.as_str()), Some("night"));
        // 02:00 UTC = 10:00 Shanghai: the morning slot opens, inclusive start.
        assert_eq!(
            c.open_slot_at(at("2026-11-23T02:00:00Z"))
                .map(|s| s.id.as_str()),
            Some("morning")
        );
        // 07:59 UTC = 15:59: morning; 08:00 = 16:00: evening; 12:00 = 20:00: night.
        assert_eq!(
            c.open_slot_at(at("2026-11-23T07:59:00Z"))
                .map(|s| s.id.as_str()),
            Some("morning")
        );
        assert_eq!(
            c.open_slot_at(at("2026-11-23T08:00:00Z"))
                .map(|s| s.id.as_str()),
            Some("evening")
        );
        assert_eq!(
            c.open_slot_at(at("2026-11-23T16:00:00Z"))
                .map(|s| s.id.as_str()),
            Some("night")
        );
        // The night slot opened at 20:00 closes at 10:00 the next morning.
        assert_eq!(
            c.open_slot_ends(at("2026-11-23T16:00:00Z")),
            Some(at("2026-11-24T02:00:00Z"))
        );
    }

    #[test]
    fn no_slot_is_open_outside_the_window_or_in_a_gap() {
        let now = at("2026-11-23T03:00:00Z");
        let mut c = demo(now);
        c.slots = vec![slot("lunch", "12:00", "13:00")];
        assert!(c.open_slot_at(now).is_none()); // 11:00 in Shanghai
        assert!(c.open_slot_at(at("2026-11-23T04:30:00Z")).is_some());
        c.stage = Stage::Draft;
        assert!(c.open_slot_at(at("2026-11-23T04:30:00Z")).is_none());
    }

    #[test]
    fn next_slot_start_is_the_nearest_future_start_inside_the_window() {
        let now = at("2026-11-23T03:00:00Z"); // 11:00 Shanghai, morning slot open
        let c = demo(now);
        let (id, when) = c.next_slot_start(now).unwrap();
        assert_eq!(id.as_str(), "evening");
        assert_eq!(when, at("2026-11-23T08:00:00Z"));
        // Past the last start before the end, there is none.
        let mut short = demo(now);
        short.ends_at = at("2026-11-23T07:00:00Z");
        assert!(short.next_slot_start(now).is_none());
    }

    #[test]
    fn overlapping_or_empty_slots_are_refused() {
        assert!(validate_slots(&[
            slot("a", "10:00", "16:00"),
            slot("b", "16:00", "20:00"),
            slot("c", "20:00", "10:00")
        ])
        .is_ok());
        assert!(
            validate_slots(&[slot("a", "10:00", "16:00"), slot("b", "15:00", "20:00")]).is_err()
        );
        assert!(
            validate_slots(&[slot("a", "20:00", "10:00"), slot("b", "09:00", "11:00")]).is_err()
        );
        assert!(validate_slots(&[slot("a", "10:00", "10:00")]).is_err());
        assert!(
            validate_slots(&[slot("a", "10:00", "11:00"), slot("a", "12:00", "13:00")]).is_err()
        );
    }

    #[test]
    fn status_is_derived_from_the_window() {
        let now = at("2026-11-23T03:00:00Z");
        let c = demo(now);
        assert_eq!(c.status_at(now), CampaignStatus::Live);
        assert_eq!(
            c.status_at(c.starts_at - Duration::seconds(1)),
            CampaignStatus::Scheduled
        );
        assert_eq!(c.status_at(c.ends_at), CampaignStatus::Ended);
        assert!(c.ensure_editable(now).is_err());
        assert!(c.ensure_editable(c.starts_at - Duration::hours(1)).is_ok());
    }

    #[test]
    fn windows_must_be_ordered_and_short() {
        let now = at("2026-11-23T03:00:00Z");
        assert!(validate_window(now, now + Duration::days(5)).is_ok());
        assert!(validate_window(now, now).is_err());
        assert!(validate_window(now, now + Duration::days(40)).is_err());
    }
}
