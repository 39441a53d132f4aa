//! The close worker: each message on the close queue moves a campaign's close one
//! step (a page of one phase, or publishing a count), then sends the message of the
//! next step. A message for any other step than the run's current one is stale and
//! does nothing; a step's work is safe to repeat, and only the delivery whose
//! conditional write of the campaign wins sends the next message. The sweep on its
//! schedule closes campaigns at their end and re-sends the step of any close whose
//! message was lost.

use chrono::{DateTime, Utc};

use super::{groups::settle_group, parse, WorkerError};
use crate::app::AppState;
use crate::blobs::BlobError;
use crate::domain::campaign::Campaign;
use crate::domain::close::{self, Begun, Phase, ReportRef, Stepped, COUNT_SOURCES};
use crate::domain::report::{self, Report, Tally};
use crate::domain::tenancy::Tenant;
use crate::queue::messages::{delay_until, CloseMessage};
use crate::table::keys::Due;

impl From<BlobError> for WorkerError {
    fn from(e: BlobError) -> Self {
        WorkerError {
            message: e.to_string(),
            retryable: !matches!(e, BlobError::InvalidKey(_)),
        }
    }
}

/// Where a campaign's report files live (the latest edition; each pass replaces them).
pub fn report_key(t: &Tenant, c: &Campaign, ext: &str) -> String {
    format!("reports/{}/{}/{}/report.{ext}", t.brand, t.group, c.id)
}

fn tally_key(t: &Tenant, c: &Campaign, pass: u32, step: u64) -> String {
    // A fresh name per attempt: two deliveries of one step never overwrite each other's
    // count; the one whose campaign write wins is the one the run points at.
    format!(
        "close-work/{}/{}/{}/{pass}-{step}-{}.json",
        t.brand,
        t.group,
        c.id,
        ulid::Ulid::new()
    )
}

/// Handles one close message.
pub async fn step_close(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: CloseMessage = parse(body)?;
    let now = st.clock.now();
    run_step(st, &msg, now).await
}

async fn run_step(
    st: &AppState,
    msg: &CloseMessage,
    now: DateTime<Utc>,
) -> Result<(), WorkerError> {
    let t = &msg.tenant;
    let c = match st.db.campaign(t, &msg.campaign, true).await {
        Ok(c) => c,
        Err(crate::Error::Domain(crate::domain::DomainError::NotFound { .. })) => {
            return Err(WorkerError::permanent("no such campaign"))
        }
        Err(e) => return Err(e.into()),
    };
    let Some(run) = &c.close else {
        // The schedule's message: a published campaign past its end starts closing.
        if c.stage == crate::domain::campaign::Stage::Published && now >= c.ends_at {
            begin(st, t, &c, "schedule", close::GROUP_GRACE_MINUTES, now).await?;
        }
        return Ok(());
    };
    if msg.step.is_some_and(|s| s != run.step) {
        return Ok(()); // stale: that step is done
    }
    if let Some(until) = waits(st, t, &c, run, now).await? {
        // Early: the timer message waits on (SQS delays stop at 15 minutes); a sweep's
        // nudge before time does nothing.
        if msg.step.is_some() {
            st.queue.post(msg, Some(delay_until(until, now))).await?;
        }
        return Ok(());
    }
    let cursor = run.cursor.as_deref();
    let stepped = match run.phase {
        Phase::Fence => Stepped::Page {
            next: st.db.fence_page(t, &c, cursor).await?,
            tally: None,
        },
        Phase::Unpaid => {
            let (next, cancelled) = st.db.unpaid_page(t, &c, cursor, now).await?;
            if cancelled > 0 {
                tracing::info!(campaign = %c.id, cancelled, "close cancelled unpaid orders");
            }
            Stepped::Page { next, tally: None }
        }
        Phase::Groups => {
            let (groups, next, more) = st.db.open_groups_page(t, &c, cursor).await?;
            for g in &groups {
                settle_group(st, t, g, now, Some(run.groups_by)).await?;
            }
            if more {
                Stepped::Again // its listings still have open groups
            } else {
                Stepped::Page { next, tally: None }
            }
        }
        Phase::Count { pass, source } if source < COUNT_SOURCES => {
            let mut tally = load_tally(st, run.tally.as_deref()).await?;
            let next = st.db.count_page(t, &c, source, cursor, &mut tally).await?;
            let key = tally_key(t, &c, pass, run.step);
            let body = serde_json::to_vec(&tally)
                .map_err(|e| WorkerError::permanent(format!("count not serializable: {e}")))?;
            st.blobs.put(&key, body, "application/json").await?;
            Stepped::Page {
                next,
                tally: Some(key),
            }
        }
        Phase::Count { pass, .. } => {
            let tally = load_tally(st, run.tally.as_deref()).await?;
            Stepped::Published(publish(st, t, &c, &tally, pass, now).await?)
        }
        Phase::Waiting => Stepped::Page {
            next: None,
            tally: None,
        },
        Phase::Done => return Ok(()),
    };
    save_and_continue(st, t, &c, stepped, now).await
}

/// Until when the run's phase waits, if it does. The grace for open groups applies
/// only while a group can still form: with none open, the close goes on at once.
async fn waits(
    st: &AppState,
    t: &Tenant,
    c: &Campaign,
    run: &close::CloseRun,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, WorkerError> {
    let wait = close::waiting_until(run, now);
    if run.phase == Phase::Groups && wait.is_some() && !st.db.any_open_groups(t, c).await? {
        return Ok(None);
    }
    Ok(wait)
}

async fn load_tally(st: &AppState, key: Option<&str>) -> Result<Tally, WorkerError> {
    let Some(key) = key else {
        return Ok(Tally::default());
    };
    let bytes = st.blobs.get(key).await?.ok_or_else(|| WorkerError {
        message: format!("running count {key} not found"),
        retryable: true,
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| WorkerError::permanent(format!("running count {key} unreadable: {e}")))
}

/// Finishes a count into the report, decides its edition, and writes it as JSON, CSV
/// and HTML.
async fn publish(
    st: &AppState,
    t: &Tenant,
    c: &Campaign,
    tally: &Tally,
    pass: u32,
    now: DateTime<Utc>,
) -> Result<ReportRef, WorkerError> {
    let (guides, stores) = st.db.boards(t, c).await?;
    let report: Report = tally.finish(t, c, guides, stores, now);
    let json = serde_json::to_vec_pretty(&report)
        .map_err(|e| WorkerError::permanent(format!("report not serializable: {e}")))?;
    let keys = (
        report_key(t, c, "json"),
        report_key(t, c, "csv"),
        report_key(t, c, "html"),
    );
    st.blobs.put(&keys.0, json, "application/json").await?;
    st.blobs
        .put(
            &keys.1,
            report::to_csv(&report).into_bytes(),
            "text/csv; charset=utf-8",
        )
        .await?;
    st.blobs
        .put(
            &keys.2,
            report::to_html(&report).into_bytes(),
            "text/html; charset=utf-8",
        )
        .await?;
    tracing::info!(campaign = %c.id, pass, edition = ?report.edition, "campaign report published");
    Ok(ReportRef {
        edition: report.edition,
        pass,
        generated_at: now,
        json: keys.0,
        csv: keys.1,
        html: keys.2,
        totals: report.totals,
        open: report.open,
    })
}

/// Writes the run's next state; if this delivery won, sends the next step's message
/// (delayed to its time when the next phase waits).
async fn save_and_continue(
    st: &AppState,
    t: &Tenant,
    c: &Campaign,
    stepped: Stepped,
    now: DateTime<Utc>,
) -> Result<(), WorkerError> {
    let Some(next) = close::advance(c, stepped, now) else {
        return Ok(());
    };
    if !st.db.put_campaign_at(t, &next, c.version).await? {
        return Ok(()); // another delivery of this step won; it sends the next
    }
    send_next(st, t, &next, now).await
}

async fn send_next(
    st: &AppState,
    t: &Tenant,
    c: &Campaign,
    now: DateTime<Utc>,
) -> Result<(), WorkerError> {
    let Some(run) = &c.close else {
        return Ok(());
    };
    if run.phase == Phase::Done {
        tracing::info!(campaign = %c.id, "campaign closed; its report is final");
        return Ok(());
    }
    let delay = waits(st, t, c, run, now)
        .await?
        .map(|until| delay_until(until, now));
    let msg = CloseMessage {
        tenant: t.clone(),
        campaign: c.id.clone(),
        step: Some(run.step),
    };
    st.queue.post(&msg, delay).await?;
    Ok(())
}

/// Begins the close of a published campaign (an operator's request or the schedule)
/// and sends its first step. Returns the campaign as it stands after.
pub async fn begin(
    st: &AppState,
    t: &Tenant,
    c: &Campaign,
    by: &str,
    grace_minutes: u32,
    now: DateTime<Utc>,
) -> Result<Campaign, crate::Error> {
    match close::begin(c, by, grace_minutes, now)? {
        Begun::Already => Ok(c.clone()),
        Begun::Now(next) => {
            if st.db.put_campaign_at(t, &next, c.version).await? {
                tracing::info!(campaign = %c.id, by, "campaign closing");
                if let Err(e) = send_next(st, t, &next, now).await {
                    // The sweeper re-sends a stalled step within minutes.
                    tracing::warn!(campaign = %c.id, error = %e.message, "first close step not sent");
                }
                Ok(next)
            } else {
                // Someone else began it (or changed it) first: theirs stands.
                Ok(st.db.campaign(t, &c.id, true).await?)
            }
        }
    }
}

/// The close worker's schedule: every campaign timer due (a campaign at its end, or a
/// close step whose message was lost) gets a message. 1 Query (GSI3) per timer bucket.
pub async fn sweep_campaigns(st: &AppState) -> Result<serde_json::Value, WorkerError> {
    let now = st.clock.now();
    let due = st.db.due_timers(now, super::timeouts::SWEEP_MAX).await?;
    let mut sent = 0;
    for d in &due {
        if let Due::Campaign(t, id) = d {
            let msg = CloseMessage {
                tenant: t.clone(),
                campaign: id.clone(),
                step: None,
            };
            st.queue.post(&msg, None).await?;
            sent += 1;
        }
    }
    Ok(serde_json::json!({"due": due.len(), "campaigns": sent}))
}
