//! The group-expiry worker: settles each group at its deadline. A message still early
//! is re-sent for the rest of its wait (SQS delays stop at 15 minutes); the sweeper over
//! the timer index catches a group whose message was lost.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::groups::expiry::Expired;
use crate::queue::messages::{delay_until, GroupMessage, OrderMessage, RefundMessage};

pub async fn expire_group(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: GroupMessage = parse(body)?;
    let now = st.clock.now();
    if let Some(due) = msg.due.filter(|d| *d > now) {
        st.queue.post(&msg, Some(delay_until(due, now))).await?;
        return Ok(());
    }
    match st.db.expire_group(&msg.tenant, &msg.group, now).await? {
        Expired::NotYet(due) => {
            let again = GroupMessage {
                due: Some(due),
                ..msg
            };
            st.queue.post(&again, Some(delay_until(due, now))).await?;
        }
        Expired::Settled {
            group,
            cancelled,
            refunds,
            dispatch,
        } => {
            for r in &refunds {
                let m = RefundMessage {
                    tenant: msg.tenant.clone(),
                    refund: r.id.clone(),
                    due: None,
                };
                st.queue.post(&m, None).await?;
            }
            for order in dispatch {
                let m = OrderMessage {
                    tenant: msg.tenant.clone(),
                    order,
                };
                st.queue.post(&m, None).await?;
            }
            tracing::info!(group = %group.id, status = ?group.status, cancelled, refunded = refunds.len(), "group settled");
        }
    }
    Ok(())
}
