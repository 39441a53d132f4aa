//! Moving a refund on: its timers (escalation, a return not sent back, a refused refund
//! asked again) and its money (asked of the provider once per refund id, then
//! recorded). The refund worker and the provider's notice drive these
//! (`workers::refunds`); each is one conditional write on the refund (and its order,
//! when a closed return gives units back).

use chrono::{DateTime, Utc};

use super::{refund_item, version_is};
use crate::db::orders::order_item;
use crate::db::retry::lost_race;
use crate::db::retry::{optimistic, Attempt};
use crate::db::Db;
use crate::domain::ids::RefundId;
use crate::domain::refund::{release_from_order, Refund};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::Write;

/// The outcome of one conditional write of a refund.
// One per call, returned at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    Saved(Refund),
    /// Someone else wrote it first: read it again.
    Stale,
}

impl Db {
    /// Writes `next` over `current`; when `next` no longer holds its units (closed
    /// unreturned, rejected) and `current` did, its order gets them back in the same
    /// transaction. 1 PutItem, or 1 BatchGetItem + 1 TransactWriteItems.
    pub async fn advance_refund(
        &self,
        t: &Tenant,
        current: &Refund,
        next: Refund,
    ) -> Result<Saved> {
        let result = if next.released() && !current.released() {
            let (_, order) = self.refund_and_order(t, &current.id).await?;
            let mut o = order.clone();
            release_from_order(&mut o, &next);
            self.table
                .transact(vec![
                    Write::Put {
                        item: refund_item(&next)?,
                        condition: Some(version_is(current.version)),
                    },
                    Write::Put {
                        item: order_item(&o)?,
                        condition: Some(version_is(order.version)),
                    },
                ])
                .await
        } else {
            self.save_refund(&next, current.version).await
        };
        match result {
            Ok(()) => Ok(Saved::Saved(next)),
            Err(e) if lost_race(&e) => Ok(Saved::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// A person asks the provider again for a refund it refused (same refund id).
    /// 1 GetItem + 1 conditional PutItem.
    pub async fn retry_refund(
        &self,
        t: &Tenant,
        id: &RefundId,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        optimistic("this refund", || async {
            let current = self.refund(t, id, true).await?;
            let mut next = current.clone();
            next.retry(now)?;
            match self.save_refund(&next, current.version).await {
                Ok(()) => Ok(Attempt::Done(next)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
