//! The group-expiry worker: settles each group at its deadline. A message still early
//! is re-sent for the rest of its wait (SQS delays stop at 15 minutes); the sweeper over
//! the timer index catches a group whose message was lost.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::cases::group_expiry::Expired;

use crate::queue::messages::{delay_until, GroupMessage};

pub async fn expire_group(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: GroupMessage = parse(body)?;
    let now = st.clock.now();
    if let Some(due) = msg.due.filter(|d| *d > now) {
        st.queue.post(&msg, Some(delay_until(due, now))).await?;
        return Ok(());
    }
    if let Expired::NotYet(due) = st.settle_group(&msg.tenant, &msg.group, now, None).await? {
        let again = GroupMessage {
            due: Some(due),
            ..msg
        };
        st.queue.post(&again, Some(delay_until(due, now))).await?;
    }
    Ok(())
}
