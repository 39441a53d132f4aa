//! A campaign's close as it runs: each step (a page of one phase, or publishing a
//! count) moves the run kept on the campaign item and sends the message of the next
//! step. A message for any other step than the run's current one is stale and does
//! nothing; a step's work is safe to repeat, and only the delivery whose conditional
//! write of the campaign wins sends the next message. The schedule's sweep closes
//! campaigns at their end and re-sends the step of any close whose message was lost.
//! (The pages themselves: [`super::close_pages`].)

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::domain::campaign::Campaign;
use crate::domain::close::{self, Begun, Phase, ReportRef, Stepped, COUNT_SOURCES};
use crate::domain::report::{self, Report, Tally};
use crate::domain::tenancy::Tenant;
use crate::error::{Error, Result};
use crate::queue::messages::{delay_until, CloseMessage};
use crate::table::keys::Due;

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

/// The report lists this many of the searches that found nothing.
pub const MISSED_SEARCHES_LISTED: usize = 20;

impl AppState {
    /// Moves a campaign's close one step, the step `msg` names (a stale message does
    /// nothing), then sends the next step's message.
    pub async fn step_close(&self, msg: &CloseMessage, now: DateTime<Utc>) -> Result<()> {
        let t = &msg.tenant;
        let c = match self.db.campaign(t, &msg.campaign, true).await {
            Ok(c) => c,
            Err(crate::Error::Domain(crate::domain::DomainError::NotFound { .. })) => {
                return Err(crate::domain::DomainError::NotFound { what: "campaign" }.into())
            }
            Err(e) => return Err(e),
        };
        let Some(run) = &c.close else {
            // The schedule's message: a published campaign past its end starts closing.
            if c.stage == crate::domain::campaign::Stage::Published && now >= c.ends_at {
                self.begin_close(t, &c, "schedule", close::GROUP_GRACE_MINUTES, now)
                    .await?;
            }
            return Ok(());
        };
        if msg.step.is_some_and(|s| s != run.step) {
            return Ok(()); // stale: that step is done
        }
        if let Some(until) = self.waits(t, &c, run, now).await? {
            // Early: the timer message waits on (SQS delays stop at 15 minutes); a sweep's
            // nudge before time does nothing.
            if msg.step.is_some() {
                self.queue.post(msg, Some(delay_until(until, now))).await?;
            }
            return Ok(());
        }
        let cursor = run.cursor.as_deref();
        let stepped = match run.phase {
            Phase::Fence => Stepped::Page {
                next: self.fence_page(t, &c, cursor).await?,
                tally: None,
            },
            Phase::Unpaid => {
                let (next, cancelled) = self.unpaid_page(t, &c, cursor, now).await?;
                if cancelled > 0 {
                    tracing::info!(campaign = %c.id, cancelled, "close cancelled unpaid orders");
                }
                Stepped::Page { next, tally: None }
            }
            Phase::Groups => {
                let (groups, next, more) = self.open_groups_page(t, &c, cursor).await?;
                for g in &groups {
                    self.settle_group(t, g, now, Some(run.groups_by)).await?;
                }
                if more {
                    Stepped::Again // its listings still have open groups
                } else {
                    Stepped::Page { next, tally: None }
                }
            }
            Phase::Count { pass, source } if source < COUNT_SOURCES => {
                let mut tally = self.load_tally(run.tally.as_deref()).await?;
                let next = self.count_page(t, &c, source, cursor, &mut tally).await?;
                let key = tally_key(t, &c, pass, run.step);
                let body = serde_json::to_vec(&tally)
                    .map_err(|e| Error::Internal(format!("count not serializable: {e}")))?;
                self.blobs.put(&key, body, "application/json").await?;
                Stepped::Page {
                    next,
                    tally: Some(key),
                }
            }
            Phase::Count { pass, .. } => {
                let tally = self.load_tally(run.tally.as_deref()).await?;
                Stepped::Published(self.publish(t, &c, &tally, pass, now).await?)
            }
            Phase::Waiting => Stepped::Page {
                next: None,
                tally: None,
            },
            Phase::Done => return Ok(()),
        };
        self.save_and_continue(t, &c, stepped, now).await
    }

    /// Until when the run's phase waits, if it does. The grace for open groups applies
    /// only while a group can still form: with none open, the close goes on at once.
    async fn waits(
        &self,
        t: &Tenant,
        c: &Campaign,
        run: &close::CloseRun,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let wait = close::waiting_until(run, now);
        if run.phase == Phase::Groups && wait.is_some() && !self.any_open_groups(t, c).await? {
            return Ok(None);
        }
        Ok(wait)
    }

    async fn load_tally(&self, key: Option<&str>) -> Result<Tally> {
        let Some(key) = key else {
            return Ok(Tally::default());
        };
        let bytes = self.blobs.get(key).await?.ok_or_else(|| {
            Error::Blob(crate::blobs::BlobError::Unavailable(format!(
                "running count {key} not found"
            )))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("running count {key} unreadable: {e}")))
    }

    /// Finishes a count into the report, decides its edition, and writes it as JSON, CSV
    /// and HTML.
    async fn publish(
        &self,
        t: &Tenant,
        c: &Campaign,
        tally: &Tally,
        pass: u32,
        now: DateTime<Utc>,
    ) -> Result<ReportRef> {
        let (guides, stores) = self.boards(t, c).await?;
        let mut report: Report = tally.finish(t, c, guides, stores, now);
        report.missed_searches = self.db.missed_searches(t, &c.id).await?;
        report.missed_searches.truncate(MISSED_SEARCHES_LISTED);
        report.assists = tally.assist_lines(&self.db.assist_offers(t, &c.id).await?);
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| Error::Internal(format!("report not serializable: {e}")))?;
        let keys = (
            report_key(t, c, "json"),
            report_key(t, c, "csv"),
            report_key(t, c, "html"),
        );
        self.blobs.put(&keys.0, json, "application/json").await?;
        self.blobs
            .put(
                &keys.1,
                report::to_csv(&report).into_bytes(),
                "text/csv; charset=utf-8",
            )
            .await?;
        self.blobs
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
        &self,
        t: &Tenant,
        c: &Campaign,
        stepped: Stepped,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(next) = close::advance(c, stepped, now) else {
            return Ok(());
        };
        if !self.db.put_campaign_at(t, &next, c.version).await? {
            return Ok(()); // another delivery of this step won; it sends the next
        }
        self.send_next(t, &next, now).await
    }

    async fn send_next(&self, t: &Tenant, c: &Campaign, now: DateTime<Utc>) -> Result<()> {
        let Some(run) = &c.close else {
            return Ok(());
        };
        if run.phase == Phase::Done {
            tracing::info!(campaign = %c.id, "campaign closed; its report is final");
            return Ok(());
        }
        let delay = self
            .waits(t, c, run, now)
            .await?
            .map(|until| delay_until(until, now));
        let msg = CloseMessage {
            tenant: t.clone(),
            campaign: c.id.clone(),
            step: Some(run.step),
        };
        self.queue.post(&msg, delay).await?;
        Ok(())
    }

    /// Begins the close of a published campaign (an operator's request or the schedule)
    /// and sends its first step. Returns the campaign as it stands after.
    pub async fn begin_close(
        &self,
        t: &Tenant,
        c: &Campaign,
        by: &str,
        grace_minutes: u32,
        now: DateTime<Utc>,
    ) -> Result<Campaign> {
        match close::begin(c, by, grace_minutes, now)? {
            Begun::Already => {
                // Asked again while it waits for groups: once none can still form, the
                // step waiting out the grace goes now instead of at the grace's end.
                if c.close.as_ref().is_some_and(|r| r.phase == Phase::Groups)
                    && !self.any_open_groups(t, c).await?
                {
                    self.send_next(t, c, now).await?;
                }
                Ok(c.clone())
            }
            Begun::Now(next) => {
                if self.db.put_campaign_at(t, &next, c.version).await? {
                    tracing::info!(campaign = %c.id, by, "campaign closing");
                    if let Err(e) = self.send_next(t, &next, now).await {
                        // The sweeper re-sends a stalled step within minutes.
                        tracing::warn!(campaign = %c.id, error = %e, "first close step not sent");
                    }
                    Ok(next)
                } else {
                    // Someone else began it (or changed it) first: theirs stands.
                    Ok(self.db.campaign(t, &c.id, true).await?)
                }
            }
        }
    }

    /// The close worker's schedule: every campaign timer due (a campaign at its end, or a
    /// close step whose message was lost) gets a message. 1 Query (GSI3) per timer bucket.
    pub async fn sweep_campaigns(&self) -> Result<serde_json::Value> {
        let now = self.clock.now();
        let due = self
            .db
            .due_timers(now, crate::db::timers::SWEEP_MAX)
            .await?;
        let mut sent = 0;
        for d in &due {
            if let Due::Campaign(t, id) = d {
                let msg = CloseMessage {
                    tenant: t.clone(),
                    campaign: id.clone(),
                    step: None,
                };
                self.queue.post(&msg, None).await?;
                sent += 1;
            }
        }
        Ok(serde_json::json!({"due": due.len(), "campaigns": sent}))
    }
}
