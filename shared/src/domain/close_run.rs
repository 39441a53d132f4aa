//! A campaign's close as it runs: where it is, its step and cursor, its timer, and the
//! report it last published. Plain data kept on the campaign item; the rules that move
//! it are `domain::close`'s (which depends on campaigns, not the other way round).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::figures::{Edition, Figures, OpenWork};

/// Where the close is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// Marking every stock shard closed, a page of the campaign's items at a time.
    Fence,
    /// Cancelling the unpaid orders, a page at a time.
    Unpaid,
    /// Waiting for the grace to end, then finishing every open group buy.
    Groups,
    /// Counting pass `pass`, source by source ([`crate::domain::close::COUNT_SOURCES`]); at the last, the
    /// count is published.
    Count {
        pass: u32,
        source: u8,
    },
    /// Settling: waiting to count again.
    Waiting,
    Done,
}

/// The published report: where its files are, and its headline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportRef {
    pub edition: Edition,
    pub pass: u32,
    pub generated_at: DateTime<Utc>,
    /// Blob keys of the JSON, CSV and HTML files.
    pub json: String,
    pub csv: String,
    pub html: String,
    pub totals: Figures,
    pub open: OpenWork,
}

/// The close as it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CloseRun {
    pub started_at: DateTime<Utc>,
    /// Who closed it: a staff subject, or `schedule`.
    pub by: String,
    /// Open group buys are finished by then at the latest.
    pub groups_by: DateTime<Utc>,
    #[serde(flatten)]
    pub phase: Phase,
    /// Bumped by every step; a message names the step it is for.
    pub step: u64,
    /// Where the current phase's paging stands (an opaque page cursor).
    #[serde(default)]
    pub cursor: Option<String>,
    /// The blob holding the running count of the current pass.
    #[serde(default)]
    pub tally: Option<String>,
    /// When the next step is due: the timer the sweeper watches.
    pub wake_at: DateTime<Utc>,
    pub passes: u32,
    #[serde(default)]
    pub report: Option<ReportRef>,
}
