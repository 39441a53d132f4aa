//! The refund worker: moves each refund on, whatever the message that woke it.
//!
//! - A timer message (`due` set) still early is re-sent for the rest of its wait
//!   (SQS delays stop at 15 minutes) without reading anything.
//! - Otherwise the refund is read and moved on as far as it goes: its timers fire
//!   (escalation, a return not sent back closes and gives its units back to the order),
//!   queued money is asked of the provider under the refund's own id (so a duplicate
//!   delivery, a second worker, or a retry after a crash between the provider's answer
//!   and our write asks again under the same id, and the provider pays it once), then
//!   recorded as submitted; a submitted refund's result is read from the provider.
//! - A refund the provider paid is announced (`refunded`, with its units and amounts)
//!   to the attribution queue *before* it is recorded as paid, so a crash in between
//!   repeats the announcement (harmless: it is idempotent by refund id) rather than
//!   losing it. The provider's signed notice settles a refund through the same steps
//!   ([`settle_by_notice`]), so a refund confirmed by notice is announced too.
//! - A refund the provider refuses is asked again after a backoff (5 minutes, 30, 3
//!   hours: [`crate::domain::refund::retry_backoff`]); after
//!   [`AUTO_ATTEMPTS`] it waits on the staff list for a person's retry.
//! - Then the refund's next timer, if any, is sent as a delayed message; the sweeper
//!   over the timer index is behind every one of them.

use chrono::{DateTime, Utc};

use super::{parse, WorkerError};
use crate::app::AppState;
use crate::db::refunds::money::Saved;
use crate::domain::ids::RefundId;
use crate::domain::money::Fen;
use crate::domain::refund::{MoneyStatus, Refund, RefundKind, AUTO_ATTEMPTS};
use crate::domain::tenancy::Tenant;
use crate::payments::{PaymentError, RefundState};
use crate::queue::messages::{
    delay_until, AttributionMessage, EventLine, OrderEvent, OrderEventKind, RefundMessage,
};
use crate::table::TableError;

impl From<PaymentError> for WorkerError {
    fn from(e: PaymentError) -> Self {
        WorkerError {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// Rounds of read-and-write before the message is left for a retry.
const ROUNDS: usize = 8;

/// Handles one message of the refunds queue.
pub async fn handle_refund(st: &AppState, body: &str) -> Result<(), WorkerError> {
    let msg: RefundMessage = parse(body)?;
    let now = st.clock.now();
    if let Some(due) = msg.due.filter(|d| *d > now) {
        // Still early: the rest of the wait, in SQS-sized hops.
        st.queue.post(&msg, Some(delay_until(due, now))).await?;
        return Ok(());
    }
    let refund = advance(st, &msg.tenant, &msg.refund, now).await?;
    if let Some(due) = refund.next_due().filter(|d| *d > now) {
        let timer = RefundMessage {
            tenant: msg.tenant.clone(),
            refund: refund.id.clone(),
            due: Some(due),
        };
        st.queue.post(&timer, Some(delay_until(due, now))).await?;
    }
    Ok(())
}

/// Moves a refund on as far as it goes now; returns it as it was left.
pub async fn advance(
    st: &AppState,
    t: &Tenant,
    id: &RefundId,
    now: DateTime<Utc>,
) -> Result<Refund, WorkerError> {
    for _ in 0..ROUNDS {
        let current = st.db.refund(t, id, true).await?;
        let mut next = current.clone();
        if next.on_timer(now) {
            if save(st, t, &current, next).await? {
                tracing::info!(refund = %id, escalated = current.escalated, goods = ?current.goods, money = ?current.money, "refund timer fired");
            }
            continue;
        }
        match current.money {
            MoneyStatus::Queued => {
                match st
                    .payments
                    .refund(&current.id, &current.payment_ref, current.amount_fen)
                    .await
                {
                    Ok(()) => next.submitted(now),
                    Err(PaymentError::Refused(why)) => {
                        refused(&current, &why);
                        next.refused(now);
                    }
                    Err(e) => return Err(e.into()),
                }
                save(st, t, &current, next).await?;
            }
            MoneyStatus::Submitted => match st.payments.refund_state(&current.id).await? {
                RefundState::Succeeded => {
                    announce(st, &current, now).await?;
                    next.succeeded(now);
                    if save(st, t, &current, next).await? {
                        tracing::info!(refund = %id, amount_fen = current.amount_fen.get(), "refunded");
                    }
                }
                RefundState::Failed(why) => {
                    refused(&current, &why);
                    next.refused(now);
                    save(st, t, &current, next).await?;
                }
                // Not settled yet: its notice, or the money timer, comes back to it.
                RefundState::Pending | RefundState::Unknown => return Ok(current),
            },
            _ => return Ok(current),
        }
    }
    Err(WorkerError {
        message: format!("refund {id} kept changing under the worker"),
        retryable: true,
    })
}

fn refused(r: &Refund, why: &str) {
    if r.attempts + 1 < AUTO_ATTEMPTS {
        tracing::warn!(refund = %r.id, reason = %why, attempt = r.attempts + 1, "the provider refused the refund: asked again later");
    } else {
        tracing::error!(refund = %r.id, reason = %why, attempts = r.attempts + 1, "the provider refused the refund: listed for a person");
    }
}

/// The provider's signed word on a refund it was asked for: settled here exactly as
/// the worker settles it (a success announced before it is recorded). A notice for a
/// refund the provider was never asked for, or for another amount, is refused.
/// Returns the refund as it stands, and whether the notice changed it.
pub async fn settle_by_notice(
    st: &AppState,
    t: &Tenant,
    id: &RefundId,
    succeeded: bool,
    amount: Fen,
    now: DateTime<Utc>,
) -> Result<(Refund, bool), crate::Error> {
    for _ in 0..ROUNDS {
        let current = st.db.refund(t, id, true).await?;
        let mut next = current.clone();
        if !next.on_notice(succeeded, amount, now)? {
            return Ok((current, false));
        }
        if next.money == MoneyStatus::Succeeded {
            announce(st, &current, now)
                .await
                .map_err(|e| TableError::Unavailable(e.message))?;
        }
        if let Saved::Saved(r) = st.db.advance_refund(t, &current, next).await? {
            return Ok((r, true));
        }
    }
    Err(TableError::Unavailable(format!("refund {id} is contended; try again")).into())
}

/// Writes a step; whether it landed (false: someone else moved it first, go round).
async fn save(
    st: &AppState,
    t: &Tenant,
    current: &Refund,
    next: Refund,
) -> Result<bool, WorkerError> {
    Ok(matches!(
        st.db.advance_refund(t, current, next).await?,
        Saved::Saved(_)
    ))
}

/// Tells attribution what was refunded of a sale credited to a guide. A payment the
/// order never took is no sale. 1 GetItem (the order's attribution).
async fn announce(st: &AppState, r: &Refund, now: DateTime<Utc>) -> Result<(), WorkerError> {
    if r.kind == RefundKind::UnappliedPayment {
        return Ok(());
    }
    let order = st.db.order(&r.tenant, &r.order, false).await?;
    let Some(paid) = OrderEvent::paid(&order, now) else {
        return Ok(()); // credited to nobody
    };
    let event = OrderEvent {
        id: r.id.to_string(),
        kind: OrderEventKind::Refunded,
        lines: r
            .lines
            .iter()
            .map(|l| EventLine {
                line: l.line,
                sku: l.sku.clone(),
                size: l.size.clone(),
                units: l.quantity,
                amount_fen: l.amount_fen,
            })
            .collect(),
        amount_fen: r.amount_fen,
        ..paid
    };
    st.queue
        .post(&AttributionMessage::Event(event), None)
        .await?;
    Ok(())
}
