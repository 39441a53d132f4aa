//! The payment provider's confirmation: verified, settled, and what follows queued.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::orders::payment::Settled;
use crate::domain::tenancy::Tenant;
use crate::http::extract::Signed;
use crate::http::Problem;
use crate::payments::PaymentNotice;
use crate::queue::messages::{AttributionMessage, OrderEvent, OrderMessage, RefundMessage};

#[derive(Debug, Serialize, ToSchema)]
pub struct NotifyResult {
    /// `paid`, `already_paid` or `refund_due` (a payment the order cannot take, recorded
    /// and refunded).
    pub status: String,
}

/// Payment confirmation from the provider, signed with HMAC-SHA256 over the raw body in
/// `X-Clearance-Signature: sha256=<hex>`. A bad signature is a 401 and changes nothing.
/// DynamoDB: 1 GetItem + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/payments/notify", tag = "place-order", security(()),
    request_body = crate::payments::PaymentNotice,
    responses((status = 200, body = NotifyResult), (status = 401, body = Problem, description = "invalid-signature")))]
pub async fn payment_notify(
    State(st): State<AppState>,
    Signed(notice): Signed<PaymentNotice>,
) -> Result<Json<NotifyResult>, Problem> {
    let t = Tenant::parse_scoped(&notice.tenant).map_err(|e| Problem::from(e).field("tenant"))?;
    settle(&st, &t, &notice).await
}

/// Records a confirmed payment and queues what follows: fulfillment, or the refund of
/// a payment the order could not take (answered 200 `refund_due`, so the provider does
/// not resend it; a replay finds the same refund).
pub async fn settle(
    st: &AppState,
    t: &Tenant,
    notice: &crate::payments::PaymentNotice,
) -> Result<Json<NotifyResult>, Problem> {
    let (order, amount, payment_ref) = (&notice.order, notice.amount_fen, &notice.payment_ref);
    let outcome = st
        .db
        .settle_payment(t, order, amount, payment_ref, st.clock.now())
        .await?;
    let paid_now = matches!(outcome, Settled::Paid(_));
    let unavailable = |e: crate::queue::QueueError| {
        // Answer 503 so the provider retries; the retry finds the order paid and queues again.
        tracing::error!(order = %order, error = %e, "could not queue after payment");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Busy, try again shortly",
        )
    };
    let status = match outcome {
        Settled::Paid(o) | Settled::AlreadyPaid(o) => {
            // Queued on every confirmation: fulfillment ignores an order it has
            // dispatched. A group seat waits for its group: the payment that forms it
            // sends every member's order.
            let mut to_dispatch = vec![o.id.clone()];
            if let Some(group) = &o.group {
                let (g, members) = st.db.group(t, group, true).await?;
                to_dispatch = if g.dispatchable() {
                    members
                        .iter()
                        .filter(|m| m.paid)
                        .map(|m| m.order.clone())
                        .collect()
                } else {
                    Vec::new()
                };
            }
            // The sale, to guide attribution (when credited): sent on every notice, it
            // is counted once by its id.
            if let Some(event) = OrderEvent::paid(&o, st.clock.now()) {
                st.queue
                    .post(&AttributionMessage::Event(event), None)
                    .await
                    .map_err(unavailable)?;
            }
            for order in to_dispatch {
                let msg = OrderMessage {
                    tenant: t.clone(),
                    order,
                };
                st.queue.post(&msg, None).await.map_err(unavailable)?;
            }
            if paid_now {
                "paid"
            } else {
                "already_paid"
            }
        }
        Settled::Unapplied { refund, fresh } => {
            // Queued on every notice: the refund worker pays a refund id once.
            let msg = RefundMessage {
                tenant: t.clone(),
                refund: refund.id.clone(),
                due: None,
            };
            st.queue.post(&msg, None).await.map_err(unavailable)?;
            if fresh {
                tracing::warn!(order = %order, refund = %refund.id, "a payment the order cannot take: refund queued");
            }
            "refund_due"
        }
    };
    Ok(Json(NotifyResult {
        status: status.into(),
    }))
}
