//! Dispatching paid orders to stores.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::orders::dispatch::DispatchOutcome;
use crate::queue::messages::{delay_until, OrderMessage, TimeoutMessage};

/// Dispatches a paid order as parcels. A duplicate delivery finds it dispatched
/// already; an order no store can cover is held for a person (and listed for staff),
/// never retried into the dead-letter queue.
pub async fn fulfill(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: OrderMessage = parse(body)?;
    match st
        .db
        .dispatch(&msg.tenant, &msg.order, st.clock.now())
        .await?
    {
        DispatchOutcome::Dispatched(o) => {
            tracing::info!(order = %o.id, status = ?o.status, parcels = o.parcels.len(), "dispatched");
            // A pickup parcel's window: the reminder, then its end (the sweeper is
            // behind this message).
            if let Some(due) = o.pickup_due() {
                let timer = TimeoutMessage {
                    tenant: msg.tenant.clone(),
                    order: o.id.clone(),
                    deadline: due,
                };
                let now = st.clock.now();
                st.queue.post(&timer, Some(delay_until(due, now))).await?;
            }
        }
        DispatchOutcome::NothingToDo(status) => {
            tracing::info!(order = %msg.order, ?status, "nothing to dispatch");
        }
        DispatchOutcome::HeldForGroup => {
            tracing::info!(order = %msg.order, "paid into a group not formed yet: held");
        }
        DispatchOutcome::HeldForAttention(o) => {
            tracing::warn!(order = %o.id, reason = o.attention.as_deref().unwrap_or_default(), "no store can dispatch it: held for a person");
        }
    }
    Ok(())
}
