//! Closing a campaign: a state machine kept on the campaign item, moved one page at a
//! time by messages on the close queue, so it finishes at any size and survives a crash
//! at any point.
//!
//! `live -> closing`: every stock shard is fenced (an order's transaction is
//! conditioned on its shards being open, so no order commits after its shards are
//! fenced: it is either counted or refused), unpaid orders are cancelled, and open
//! group buys are finished by the earlier of their expiry and the close plus a grace.
//! `closing -> settling`: the report is counted and published as interim, and counted
//! again every few hours while returns, refunds or commissions are open.
//! `settling -> closed`: once nothing is open and the last return window has passed,
//! the report is counted a last time and published as final.
//!
//! Each step carries the run's `step` number; a message for any other step is stale
//! and does nothing, and the campaign's write is conditioned on its version, so a
//! duplicate or a racing delivery changes nothing twice.

use chrono::{DateTime, Duration, Utc};

use super::campaign::{Campaign, Stage};
use super::figures::{Edition, OpenWork};
use super::DomainError;

/// Open group buys get this long after the close to fill their seats, unless the
/// operator closing it says otherwise (0 to 24 hours).
pub const GROUP_GRACE_MINUTES: u32 = 120;
pub const MAX_GROUP_GRACE_MINUTES: u32 = 24 * 60;
/// While settling, the interim report is counted again this often.
pub const REFRESH_HOURS: i64 = 6;
/// A running step not followed by the next within this is re-sent by the sweeper.
pub const STALL_MINUTES: i64 = 10;
/// The partitions a campaign's records (orders, refunds, group buys) are spread over
/// for counting: the table layer's key schema follows this.
pub const RECORD_SHARDS: u8 = 16;
/// Counting sources: 0 the listings, 1 the stores' stock counts, then one per
/// partition of the campaign's records.
pub const RECORD_SOURCES_FROM: u8 = 2;
pub const COUNT_SOURCES: u8 = RECORD_SOURCES_FROM + RECORD_SHARDS;

pub use super::close_run::{CloseRun, Phase, ReportRef};

/// What beginning a close did.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Begun {
    /// The campaign as it is now closing.
    Now(Campaign),
    /// It was closing, settling or closed already.
    Already,
}

/// Starts the close of a published campaign at `now` (by an operator, or by the
/// schedule once it has ended), open groups given `grace_minutes` to fill.
pub fn begin(
    c: &Campaign,
    by: &str,
    grace_minutes: u32,
    now: DateTime<Utc>,
) -> Result<Begun, DomainError> {
    if grace_minutes > MAX_GROUP_GRACE_MINUTES {
        return Err(DomainError::invalid(
            "grace_minutes",
            format!("at most {MAX_GROUP_GRACE_MINUTES} (a day)"),
        ));
    }
    match c.stage {
        Stage::Draft => Err(DomainError::conflict(
            "campaign-not-published",
            "a draft campaign has nothing to close",
        )),
        Stage::Closing | Stage::Settling | Stage::Closed => Ok(Begun::Already),
        Stage::Published => {
            let mut next = c.clone();
            next.stage = Stage::Closing;
            next.close = Some(CloseRun {
                started_at: now,
                by: by.to_owned(),
                groups_by: now + Duration::minutes(i64::from(grace_minutes)),
                phase: Phase::Fence,
                step: 1,
                cursor: None,
                tally: None,
                wake_at: now + Duration::minutes(STALL_MINUTES),
                passes: 0,
                report: None,
            });
            next.version += 1;
            next.updated_at = now;
            Ok(Begun::Now(next))
        }
    }
}

/// What one step did, for [`advance`].
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    /// A page of the current phase (or source) is done; `next` is where the next
    /// starts, `None` when it was the last.
    Page {
        next: Option<String>,
        tally: Option<String>,
    },
    /// The page needs another go (it still has work): the same page again.
    Again,
    /// A pass's count is published.
    Published(ReportRef),
}

/// The run after a step at `now`: the next phase, source or page, and its timer.
pub fn advance(c: &Campaign, stepped: Stepped, now: DateTime<Utc>) -> Option<Campaign> {
    let run = c.close.as_ref()?;
    let mut next = c.clone();
    let mut r = run.clone();
    r.step += 1;
    r.wake_at = now + Duration::minutes(STALL_MINUTES);
    match (stepped, &run.phase) {
        (Stepped::Again, _) => {}
        (
            Stepped::Page {
                next: Some(cursor),
                tally,
            },
            _,
        ) => {
            r.cursor = Some(cursor);
            r.tally = tally;
        }
        (Stepped::Page { next: None, tally }, phase) => {
            r.cursor = None;
            r.tally = tally;
            r.phase = match phase {
                Phase::Fence => Phase::Unpaid,
                Phase::Unpaid => {
                    r.wake_at = run.groups_by.max(now);
                    Phase::Groups
                }
                Phase::Groups | Phase::Waiting => {
                    r.tally = None;
                    Phase::Count {
                        pass: run.passes + 1,
                        source: 0,
                    }
                }
                Phase::Count { pass, source } => Phase::Count {
                    pass: *pass,
                    // COUNT_SOURCES itself means: publish.
                    source: (*source + 1).min(COUNT_SOURCES),
                },
                Phase::Done => Phase::Done,
            };
        }
        (Stepped::Published(report), _) => {
            r.passes += 1;
            r.cursor = None;
            r.tally = None;
            match report.edition {
                Edition::Final => {
                    next.stage = Stage::Closed;
                    r.phase = Phase::Done;
                }
                Edition::Interim => {
                    next.stage = Stage::Settling;
                    r.phase = Phase::Waiting;
                    r.wake_at = next_count(&report.open, now);
                }
            }
            r.report = Some(report);
        }
    }
    next.close = Some(r);
    next.version += 1;
    next.updated_at = now;
    Some(next)
}

/// When to count again while settling: every few hours, and soon after the last
/// return window closes (its commissions are confirmed by then).
fn next_count(open: &OpenWork, now: DateTime<Utc>) -> DateTime<Utc> {
    let refresh = now + Duration::hours(REFRESH_HOURS);
    match open.last_window_closes_at {
        Some(at) if at > now => refresh.min(at + Duration::minutes(STALL_MINUTES)),
        _ => refresh,
    }
}

/// Whether open group buys may still fill at `now`: the close has begun but not yet
/// finished its groups, and the grace the operator gave them has not run out. During
/// the grace, members of open groups may pay and open groups may be joined; nothing
/// new opens and nothing else is sold.
pub fn grace_open(c: &Campaign, now: DateTime<Utc>) -> bool {
    match (c.stage, &c.close) {
        (Stage::Closing, Some(run)) => {
            matches!(run.phase, Phase::Fence | Phase::Unpaid | Phase::Groups) && now < run.groups_by
        }
        _ => false,
    }
}

/// Whether the phase waits for a time rather than running at once.
pub fn waiting_until(run: &CloseRun, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match run.phase {
        Phase::Groups if run.cursor.is_none() && now < run.groups_by => Some(run.groups_by),
        Phase::Waiting if now < run.wake_at => Some(run.wake_at),
        _ => None,
    }
}

/// A pass counted at `now` is final when nothing is open and every window has passed.
pub fn edition(open: &OpenWork, stage: Stage, now: DateTime<Utc>) -> Edition {
    // The first count is interim whatever it finds: selling has only just stopped.
    if stage == Stage::Settling && open.settled(now) {
        Edition::Final
    } else {
        Edition::Interim
    }
}

/// The timer the campaign item carries: its end while published (the schedule closes
/// it then), its run's next step while closing or settling, none once closed.
pub fn due_at(c: &Campaign) -> Option<DateTime<Utc>> {
    match (c.stage, &c.close) {
        (Stage::Published, _) => Some(c.ends_at),
        (Stage::Closing | Stage::Settling, Some(run)) => Some(run.wake_at),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::tests::demo;

    fn page(next: Option<&str>) -> Stepped {
        Stepped::Page {
            next: next.map(str::to_owned),
            tally: None,
        }
    }

    #[test]
    fn a_close_walks_fence_unpaid_groups_then_every_source_and_publishes() {
        let t0 = Utc::now();
        let c = demo(t0);
        let Ok(Begun::Now(mut c)) = begin(&c, "ops-1", GROUP_GRACE_MINUTES, t0) else {
            panic!("a published campaign closes")
        };
        assert_eq!(c.stage, Stage::Closing);
        let phases = |c: &Campaign| c.close.as_ref().map(|r| r.phase.clone());
        c = advance(&c, page(Some("k")), t0).unwrap();
        assert_eq!(phases(&c), Some(Phase::Fence));
        c = advance(&c, page(None), t0).unwrap();
        assert_eq!(phases(&c), Some(Phase::Unpaid));
        c = advance(&c, page(None), t0).unwrap();
        assert_eq!(phases(&c), Some(Phase::Groups));
        let run = c.close.clone().unwrap();
        assert_eq!(waiting_until(&run, t0), Some(run.groups_by));
        assert_eq!(due_at(&c), Some(run.groups_by));
        let later = run.groups_by;
        c = advance(&c, page(None), later).unwrap();
        for source in 0..COUNT_SOURCES {
            assert_eq!(phases(&c), Some(Phase::Count { pass: 1, source }));
            c = advance(&c, page(None), later).unwrap();
        }
        assert_eq!(
            phases(&c),
            Some(Phase::Count {
                pass: 1,
                source: COUNT_SOURCES
            })
        );
        assert_eq!(
            c.close.as_ref().unwrap().step,
            1 + 4 + u64::from(COUNT_SOURCES)
        );
    }

    #[test]
    fn only_a_settled_campaign_past_its_windows_gets_a_final_report() {
        let now = Utc::now();
        let mut open = OpenWork::default();
        assert_eq!(edition(&open, Stage::Closing, now), Edition::Interim);
        assert_eq!(edition(&open, Stage::Settling, now), Edition::Final);
        open.last_window_closes_at = Some(now + Duration::days(1));
        assert_eq!(edition(&open, Stage::Settling, now), Edition::Interim);
        open.last_window_closes_at = None;
        open.returns_in_transit = 1;
        assert_eq!(edition(&open, Stage::Settling, now), Edition::Interim);
    }

    #[test]
    fn a_draft_cannot_close_and_a_closing_one_is_not_begun_twice() {
        let now = Utc::now();
        let mut c = demo(now);
        c.stage = Stage::Draft;
        assert!(begin(&c, "ops", GROUP_GRACE_MINUTES, now).is_err());
        c.stage = Stage::Published;
        assert!(begin(&c, "ops", MAX_GROUP_GRACE_MINUTES + 1, now).is_err());
        c.stage = Stage::Settling;
        assert_eq!(begin(&c, "ops", 0, now), Ok(Begun::Already));
    }
}
