//! Pickup appointments: a store's slots (a length and a number of places, within its
//! opening hours on its local day) and a parcel's booking of one. A place is taken on
//! condition one is free (the slot's counter), so no race overbooks; a booking not
//! honoured by the slot's end is a no-show, and its place is given back.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::campaign::TimeOfDay;
use super::opening::Opening;
use super::DomainError;

/// A store's pickup slots: `minutes` long from its opening time, `capacity` places each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupSlots {
    /// 15 to 240.
    pub minutes: u16,
    /// Places per slot: 1 to 100.
    pub capacity: u16,
}

impl PickupSlots {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if !(15..=240).contains(&self.minutes) {
            return Err(DomainError::invalid(
                format!("{field}.minutes"),
                "15 to 240 minutes",
            ));
        }
        if !(1..=100).contains(&self.capacity) {
            return Err(DomainError::invalid(
                format!("{field}.capacity"),
                "1 to 100 places",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    /// The parcel was collected (in the slot or not).
    Honoured,
    /// Not collected by the slot's end: its place was given back.
    NoShow,
}

/// A parcel's pickup appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Appointment {
    /// The store's local date.
    #[schema(value_type = String)]
    pub date: NaiveDate,
    #[schema(value_type = String)]
    pub starts: TimeOfDay,
    #[schema(value_type = String)]
    pub ends: TimeOfDay,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub booked_at: DateTime<Utc>,
}

impl Appointment {
    /// The slot's name within its day (`1030`), as its counter is keyed.
    pub fn slot(&self) -> String {
        slot_name(self.starts)
    }
}

/// A slot's name within its day: its start without the colon (`1030`).
pub fn slot_name(start: TimeOfDay) -> String {
    format!("{:04}", start.minutes() / 60 * 100 + start.minutes() % 60)
}

/// The slot of a store (its `opening` and `slots`) on its local `date` starting at
/// `start`, bookable at `now`: the store takes appointments, the slot lies on its grid
/// (from opening, `minutes` apart) within that day's hours (not a closed date), and it
/// has not ended.
pub fn slot_at(
    opening: &Opening,
    slots: Option<PickupSlots>,
    date: NaiveDate,
    start: TimeOfDay,
    now: DateTime<Utc>,
) -> Result<Appointment, DomainError> {
    let slots = slots.ok_or_else(|| {
        DomainError::conflict("no-appointments", "this store takes no pickup appointments")
    })?;
    let (opens, _) = opening
        .hours_on(date)
        .ok_or_else(|| DomainError::invalid("date", "the store is closed that day"))?;
    let from = start.minutes();
    let to = from + slots.minutes;
    if from < opens.minutes() || !(from - opens.minutes()).is_multiple_of(slots.minutes) {
        return Err(DomainError::invalid(
            "start",
            format!(
                "slots start at {opens} and every {} minutes after",
                slots.minutes
            ),
        ));
    }
    if !opening.open_between(date, from, to) {
        return Err(DomainError::invalid(
            "start",
            "the slot falls outside the store's opening hours",
        ));
    }
    let tz = opening.zone();
    let at = |m: u16| {
        date.and_hms_opt(u32::from(m / 60), u32::from(m % 60), 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| DomainError::invalid("start", "not a time of that day"))
    };
    let (starts_at, ends_at) = (at(from)?, at(to)?);
    if ends_at <= now {
        return Err(DomainError::invalid("start", "that slot has ended"));
    }
    let ends = TimeOfDay::parse(&format!("{:02}:{:02}", to / 60, to % 60))
        .map_err(|e| DomainError::invalid("start", e))?;
    Ok(Appointment {
        date,
        starts: start,
        ends,
        starts_at,
        ends_at,
        status: AppointmentStatus::Booked,
        booked_at: now,
    })
}
