//! Unpaid orders at their payment deadline (the delayed message), and the sweeper over
//! every timer.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::queue::messages::{
    delay_until, AttributionMessage, GroupMessage, MemberMessage, RefundMessage, TimeoutMessage,
    VisitTimer,
};
use crate::table::keys::Due;

pub use crate::db::timers::SWEEP_MAX;

/// An order's timer, or a try-on visit's end (its holds given back): cancels an order still unpaid at its deadline, or moves a parcel
/// waiting for pickup through its window (the reminder, then the cancellation and
/// refund of a parcel never collected). Before its time (SQS delays are at most 15
/// minutes) it puts the message back for the rest of the wait.
pub async fn expire_unpaid(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let now = st.clock.now();
    // A try-on visit's end shares the queue (its fields are not an order's).
    if let Ok(visit) = serde_json::from_str::<VisitTimer>(body) {
        if let Some(due) = st
            .release_visit(&visit.tenant, &visit.campaign, &visit.buyer, now)
            .await?
        {
            let again = VisitTimer { due, ..visit };
            st.queue.post(&again, Some(delay_until(due, now))).await?;
        }
        return Ok(());
    }
    let msg: TimeoutMessage = parse(body)?;
    if let Some(deadline) = st.order_timer(&msg.tenant, &msg.order, now).await? {
        let again = TimeoutMessage { deadline, ..msg };
        st.queue
            .post(&again, Some(delay_until(deadline, now)))
            .await?;
    }
    Ok(())
}

/// The scheduled sweep behind every delayed message: each timer due in the timer
/// index, in every tenant, is acted on however its message was lost: an order's timer
/// (an unpaid order past its deadline, a parcel's pickup window) and a try-on visit's
/// end run here, a refund's step is handed to the refund worker,
/// an expired group to the group-expiry worker, a member's window looks to the member
/// worker, an order event the table's stream
/// did not relay to its subscribers.
pub async fn sweep_timers(st: &AppState) -> Result<serde_json::Value, WorkerError> {
    let now = st.clock.now();
    let due = st.db.due_timers(now, SWEEP_MAX).await?;
    let (mut orders, mut refunds, mut groups, mut confirmations) = (0, 0, 0, 0);
    let (mut events, mut visits) = (0, 0);
    for d in &due {
        match d {
            Due::Order(t, id) => {
                st.order_timer(t, id, now).await?;
                orders += 1;
            }
            Due::GroupExpiry(t, id) => {
                let msg = GroupMessage {
                    tenant: t.clone(),
                    group: id.clone(),
                    due: None,
                };
                st.queue.post(&msg, None).await?;
                groups += 1;
            }
            Due::SaleConfirmation(t, order) => {
                let msg = AttributionMessage::Confirm {
                    tenant: t.clone(),
                    order: order.clone(),
                };
                st.queue.post(&msg, None).await?;
                confirmations += 1;
            }
            // The close worker's own sweep takes these.
            Due::Campaign(..) => {}
            Due::Points(member, brand) => {
                let msg = MemberMessage::Release {
                    member: member.clone(),
                    brand: brand.clone(),
                };
                st.queue.post(&msg, None).await?;
                confirmations += 1;
            }
            Due::Event(t, order, id) => {
                if st.relay_event(t, order, id).await? {
                    events += 1;
                }
            }
            Due::Visit(t, campaign, buyer) => {
                st.release_visit(t, campaign, buyer, now).await?;
                visits += 1;
            }
            Due::Assist(t, id) => {
                let msg = MemberMessage::ExpireAssist {
                    tenant: t.clone(),
                    assist: id.clone(),
                    due: now,
                };
                st.queue.post(&msg, None).await?;
                confirmations += 1;
            }
            Due::Refund(t, id) => {
                let msg = RefundMessage {
                    tenant: t.clone(),
                    refund: id.clone(),
                    due: None,
                };
                st.queue.post(&msg, None).await?;
                refunds += 1;
            }
        }
    }
    if events > 0 {
        tracing::warn!(events, "sweeper relayed order events the stream did not");
    }
    if orders > 0 {
        tracing::warn!(
            orders,
            "sweeper ran order timers whose message was lost or is late"
        );
    }
    Ok(
        serde_json::json!({"due": due.len(), "orders": orders, "refunds": refunds, "groups": groups, "confirmations": confirmations, "events": events, "visits": visits}),
    )
}
