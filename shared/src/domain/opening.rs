//! When a store is open: hours per weekday and closed dates, in the store's own time
//! zone (Asia/Shanghai unless it says otherwise). A moment belongs to the store's local
//! day: 00:30 in Shanghai is that day, not the UTC day before.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::campaign::TimeOfDay;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub fn of(date: NaiveDate) -> Day {
        match date.weekday() {
            Weekday::Mon => Day::Mon,
            Weekday::Tue => Day::Tue,
            Weekday::Wed => Day::Wed,
            Weekday::Thu => Day::Thu,
            Weekday::Fri => Day::Fri,
            Weekday::Sat => Day::Sat,
            Weekday::Sun => Day::Sun,
        }
    }
}

/// One weekday's hours: open from `opens` until `closes` (the same day; a store does
/// not open past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    pub day: Day,
    #[schema(value_type = String, example = "10:00")]
    pub opens: TimeOfDay,
    #[schema(value_type = String, example = "22:00")]
    pub closes: TimeOfDay,
}

/// A store's week and its exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// At most one entry per weekday; a weekday without one is closed.
    #[serde(default)]
    pub hours: Vec<OpeningHours>,
    /// Local dates it is closed whatever the weekday (holidays, stocktakes).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub closed_dates: Vec<NaiveDate>,
    /// Its time zone (IANA name); Asia/Shanghai when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Tz>,
}

impl Opening {
    /// The same hours every day of the week, no closed dates, Asia/Shanghai.
    pub fn every_day(opens: TimeOfDay, closes: TimeOfDay) -> Opening {
        Opening {
            hours: [
                Day::Mon,
                Day::Tue,
                Day::Wed,
                Day::Thu,
                Day::Fri,
                Day::Sat,
                Day::Sun,
            ]
            .map(|day| OpeningHours { day, opens, closes })
            .to_vec(),
            closed_dates: Vec::new(),
            time_zone: None,
        }
    }

    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        for (i, h) in self.hours.iter().enumerate() {
            if h.opens >= h.closes {
                return Err(DomainError::invalid(
                    format!("{field}.hours[{i}]"),
                    "opens before it closes, the same day",
                ));
            }
            if self.hours[..i].iter().any(|o| o.day == h.day) {
                return Err(DomainError::invalid(
                    format!("{field}.hours[{i}].day"),
                    "one entry per weekday",
                ));
            }
        }
        if self.closed_dates.len() > 366 {
            return Err(DomainError::invalid(
                format!("{field}.closed_dates"),
                "at most 366 dates",
            ));
        }
        Ok(())
    }

    pub fn zone(&self) -> Tz {
        self.time_zone.unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The store's local date of a moment.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone()).date_naive()
    }

    /// Its hours on a local date: none on a closed date or a weekday without hours.
    pub fn hours_on(&self, date: NaiveDate) -> Option<(TimeOfDay, TimeOfDay)> {
        if self.closed_dates.contains(&date) {
            return None;
        }
        self.hours
            .iter()
            .find(|h| h.day == Day::of(date))
            .map(|h| (h.opens, h.closes))
    }

    /// Whether the stretch from `from` to `to` (minutes of the local date) lies within
    /// that day's hours.
    pub fn open_between(&self, date: NaiveDate, from: u16, to: u16) -> bool {
        self.hours_on(date)
            .is_some_and(|(o, c)| o.minutes() <= from && to <= c.minutes() && from < to)
    }

    /// Whether it is open at a moment (unknown when it has no hours at all).
    pub fn open_at(&self, at: DateTime<Utc>) -> Option<bool> {
        if self.hours.is_empty() {
            return None;
        }
        let local = at.with_timezone(&self.zone());
        let m = (local.time().num_seconds_from_midnight() / 60) as u16;
        Some(self.open_between(local.date_naive(), m, m + 1))
    }
}

use chrono::Timelike;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn week() -> Opening {
        let t = |s: &str| TimeOfDay::parse(s).unwrap_or_else(|e| panic!("{e}"));
        Opening {
            closed_dates: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default()],
            ..Opening::every_day(t("00:00"), t("22:00"))
        }
    }

    #[test]
    fn half_past_midnight_in_shanghai_is_that_days_not_the_utc_day_before() {
        let o = week();
        // 2026-12-06 00:30 in Shanghai is 2026-12-05 16:30 UTC
        let at = Utc
            .with_ymd_and_hms(2026, 12, 5, 16, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            o.local_date(at),
            NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default()
        );
        assert_eq!(o.open_at(at), Some(true));
    }

    #[test]
    fn a_closed_date_or_a_time_outside_the_hours_is_closed() {
        let o = week();
        let xmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default();
        assert!(!o.open_between(xmas, 600, 630));
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap_or_default();
        assert!(o.open_between(day, 600, 630));
        assert!(!o.open_between(day, 21 * 60 + 45, 22 * 60 + 15));
        assert!(o.validate("opening").is_ok());
        let mut twice = week();
        twice.hours.push(twice.hours[0]);
        assert!(twice.validate("opening").is_err());
    }
}
