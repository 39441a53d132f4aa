//! The courier worker: a handed-over parcel's waybill followed at the courier
//! aggregator. Asked again (the message stays on the queue) while the aggregator is
//! unreachable; a refusal goes to the dead-letter queue, and the parcel's silence
//! timer still asks the carrier for its track.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::queue::messages::CourierMessage;

pub async fn follow_waybill(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: CourierMessage = parse(body)?;
    let sub = &msg.subscribe;
    st.couriers.subscribe(sub).await.map_err(|e| WorkerError {
        retryable: e.is_retryable(),
        message: e.to_string(),
    })?;
    tracing::info!(order = %sub.order, parcel = sub.parcel, carrier = %sub.carrier, "waybill followed");
    Ok(())
}
