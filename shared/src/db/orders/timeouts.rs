//! Unpaid orders at their payment deadline: cancelled, and everything they held given
//! back. Reached by the delayed timeout message, and by the sweeper over the timer
//! index (GSI3) behind it, so a lost message costs minutes, not stock.

use chrono::{DateTime, Utc};

use super::{order_item, release_writes, version_is};
use crate::db::Db;
use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::domain::tenancy::{keys, Due, Tenant};
use crate::error::Result;
use crate::table::{Index, Query, SortRange, TableError, Write, SK};

#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Cancelled(crate::domain::order::Order),
    NotYet(DateTime<Utc>),
    NothingToDo(OrderStatus),
}

/// What one sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub due: usize,
    pub cancelled: usize,
}

/// Timers read per query page of a sweep.
const SWEEP_PAGE: u32 = 100;

impl Db {
    /// Cancels an unpaid order whose window has passed and puts back exactly what it
    /// took: stock to its shards, the coupons, the purchase-limit units.
    /// 1 GetItem + 1 TransactWriteItems; a no-op when already paid or cancelled.
    pub async fn cancel_unpaid(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome> {
        let current = self.order(t, id, true).await?;
        if current.status != OrderStatus::AwaitingPayment {
            return Ok(CancelOutcome::NothingToDo(current.status));
        }
        if !current.payment_expired(now) {
            return Ok(CancelOutcome::NotYet(current.payment_deadline));
        }
        let mut order = current.clone();
        order.cancel(now, "payment window passed")?;
        let mut writes = vec![Write::Put {
            item: order_item(&order)?,
            condition: Some(version_is(current.version)),
        }];
        writes.extend(release_writes(&order));
        match self.table.transact(writes).await {
            Ok(()) => Ok(CancelOutcome::Cancelled(order)),
            // Paid or cancelled in the meantime: whoever won decides.
            Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => Ok(
                CancelOutcome::NothingToDo(self.order(t, id, true).await?.status),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Cancels every unpaid order whose deadline has passed, in every tenant, up to
    /// `max` of them: per timer bucket 1 Query (GSI3) per page, then per due order the
    /// cancel's 1 GetItem + 1 TransactWriteItems. Safe beside the timeout messages:
    /// whichever comes second finds nothing to do.
    pub async fn sweep_unpaid(&self, now: DateTime<Utc>, max: usize) -> Result<Swept> {
        let mut swept = Swept::default();
        let until = format!("{}#{}", keys::instant(now), keys::HIGH);
        for bucket in 0..keys::DUE_BUCKETS {
            let mut q = Query::new(
                Index::Gsi3,
                keys::due_bucket_pk(bucket),
                SortRange::Between("0".into(), until.clone()),
            );
            q.limit = Some(SWEEP_PAGE);
            loop {
                let page = self.table.query(q.clone()).await?;
                for item in &page.items {
                    let (Some(pk), Some(sk)) = (
                        crate::table::string_attr(item, crate::table::PK),
                        crate::table::string_attr(item, SK),
                    ) else {
                        continue;
                    };
                    if let Some(Due::UnpaidOrder(t, id)) = Due::parse(pk, sk) {
                        swept.due += 1;
                        if let CancelOutcome::Cancelled(_) =
                            self.cancel_unpaid(&t, &id, now).await?
                        {
                            swept.cancelled += 1;
                        }
                    }
                    if swept.due >= max {
                        return Ok(swept);
                    }
                }
                match page.last {
                    Some(last) => q.start_after = Some(last),
                    None => break,
                }
            }
        }
        Ok(swept)
    }
}
