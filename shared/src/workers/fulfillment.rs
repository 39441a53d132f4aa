//! Dispatching paid orders to stores.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::cases::orders::dispatch::DispatchOutcome;
use crate::queue::messages::OrderMessage;

/// Dispatches a paid order as parcels. A duplicate delivery finds it dispatched
/// already; an order no store can cover is held for a person (and listed for staff),
/// never retried into the dead-letter queue.
pub async fn fulfill(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: OrderMessage = parse(body)?;
    match st.dispatch(&msg.tenant, &msg.order, st.clock.now()).await? {
        DispatchOutcome::Dispatched(o) => {
            tracing::info!(order = %o.id, status = ?o.status, parcels = o.parcels.len(), "dispatched");
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
