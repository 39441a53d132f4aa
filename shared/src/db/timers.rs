//! The timer index (GSI3): every item with a deadline (an unpaid order, a refund's
//! next step) sits in one of a few buckets, sorted by due time. Delayed messages do the
//! timely work; this is what the scheduled sweeper reads to catch any message lost.

use chrono::{DateTime, Utc};

use super::Db;
use crate::error::Result;
use crate::table::keys::{self, Due};
use crate::table::{string_attr, Index, Query, SortRange, PK, SK};

/// At most this many due timers per sweep; a schedule every 5 minutes clears far more
/// than lost messages leave.
pub const SWEEP_MAX: usize = 2_000;

/// Timers read per query page.
const PAGE: u32 = 100;

impl Db {
    /// Up to `max` timers due by `now`, in every tenant, earliest first per bucket:
    /// 1 Query (GSI3, keys only) per bucket and page.
    pub async fn due_timers(&self, now: DateTime<Utc>, max: usize) -> Result<Vec<Due>> {
        let mut due = Vec::new();
        let until = format!("{}#{}", keys::instant(now), keys::HIGH);
        for bucket in 0..keys::DUE_BUCKETS {
            let mut q = Query::new(
                Index::Gsi3,
                keys::due_bucket_pk(bucket),
                // DynamoDB refuses an empty key value: every instant sorts after "0".
                SortRange::Between("0".into(), until.clone()),
            );
            q.limit = Some(PAGE);
            loop {
                let page = self.table.query(q.clone()).await?;
                for item in &page.items {
                    if let (Some(pk), Some(sk)) = (string_attr(item, PK), string_attr(item, SK)) {
                        if let Some(d) = Due::parse(pk, sk) {
                            due.push(d);
                            if due.len() >= max {
                                return Ok(due);
                            }
                        }
                    }
                }
                match page.last {
                    Some(last) => q.start_after = Some(last),
                    None => break,
                }
            }
        }
        Ok(due)
    }
}
