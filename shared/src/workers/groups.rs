//! The group-expiry worker: settles each group at its deadline. A message still early
//! is re-sent for the rest of its wait (SQS delays stop at 15 minutes); the sweeper over
//! the timer index catches a group whose message was lost.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::groups::expiry::Expired;
use chrono::{DateTime, Utc};

use crate::domain::ids::GroupBuyId;
use crate::domain::tenancy::Tenant;
use crate::queue::messages::{delay_until, GroupMessage, OrderMessage, RefundMessage};

pub async fn expire_group(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: GroupMessage = parse(body)?;
    let now = st.clock.now();
    if let Some(due) = msg.due.filter(|d| *d > now) {
        st.queue.post(&msg, Some(delay_until(due, now))).await?;
        return Ok(());
    }
    if let Expired::NotYet(due) = settle_group(st, &msg.tenant, &msg.group, now, None).await? {
        let again = GroupMessage {
            due: Some(due),
            ..msg
        };
        st.queue.post(&again, Some(delay_until(due, now))).await?;
    }
    Ok(())
}

/// Expires a group at `now` and sends what follows: the refunds of a failed group's
/// paid members to the refund worker, a completed group's orders to fulfillment.
pub async fn settle_group(
    st: &AppState,
    t: &Tenant,
    id: &GroupBuyId,
    now: DateTime<Utc>,
    close_by: Option<DateTime<Utc>>,
) -> Result<Expired, WorkerError> {
    let expired = st.db.expire_group(t, id, now, close_by).await?;
    if let Expired::Settled {
        group,
        cancelled,
        refunds,
        dispatch,
    } = &expired
    {
        for r in refunds {
            let m = RefundMessage {
                tenant: t.clone(),
                refund: r.id.clone(),
                due: None,
            };
            st.queue.post(&m, None).await?;
        }
        for order in dispatch {
            let m = OrderMessage {
                tenant: t.clone(),
                order: order.clone(),
            };
            st.queue.post(&m, None).await?;
        }
        tracing::info!(group = %group.id, status = ?group.status, cancelled, refunded = refunds.len(), "group settled");
    }
    Ok(expired)
}
