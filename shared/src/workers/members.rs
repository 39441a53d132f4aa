//! The member worker: order events applied to the buyer's points (once by event id),
//! and members' window looks (their orders' points released when the return window
//! has closed).

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::queue::messages::MemberMessage;

/// Handles one message. A duplicate or reordered event changes nothing it should not
/// (the account keeps what each event did).
pub async fn apply_member(st: &AppState, body: &str) -> Result<(), WorkerError> {
    match parse::<MemberMessage>(body)? {
        MemberMessage::Event(e) => {
            if let Some(entry) = st.apply_member_event(&e).await? {
                tracing::info!(event = %e.id, pending = entry.pending, available = entry.available, "points entry");
            }
        }
        MemberMessage::ExpireAssist { tenant, assist, .. } => {
            let now = st.clock.now();
            if let Some(due) = st.expire_assist(&tenant, &assist, now).await? {
                // Not yet (SQS delays are at most 15 minutes): back for the rest.
                let again = MemberMessage::ExpireAssist {
                    tenant,
                    assist,
                    due,
                };
                st.queue
                    .post(&again, Some(crate::queue::messages::delay_until(due, now)))
                    .await?;
            }
        }
        MemberMessage::Release { member, brand } => {
            let released = st.release_points(&member, &brand, st.clock.now()).await?;
            if !released.is_empty() {
                tracing::info!(%brand, orders = released.len(), "points released");
            }
        }
    }
    Ok(())
}
