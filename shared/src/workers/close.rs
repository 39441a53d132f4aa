//! The close worker: decodes each message on the close queue and moves its campaign's
//! close one step ([`crate::cases::close`]); on its schedule it sweeps for campaigns at
//! their end and close steps whose message was lost.

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::queue::messages::CloseMessage;

/// Handles one close message.
pub async fn step_close(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: CloseMessage = parse(body)?;
    Ok(st.step_close(&msg, st.clock.now()).await?)
}

/// The schedule's sweep: every campaign timer due gets a message.
pub async fn sweep_campaigns(st: &AppState) -> Result<serde_json::Value, WorkerError> {
    Ok(st.sweep_campaigns().await?)
}
