//! The payment provider's confirmation: verified, settled, and what follows queued.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::cases::orders::payment::Settled;
use crate::domain::tenancy::Tenant;
use crate::http::extract::Signed;
use crate::http::Problem;
use crate::payments::PaymentNotice;

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

/// Records a confirmed payment (and what follows), answered by what became of it:
/// `paid`, `already_paid`, or `refund_due` for a payment the order cannot take (so the
/// provider does not resend it; a replay finds the same refund). A message that could
/// not be sent answers 503: the provider retries, and the retry sends it.
pub async fn settle(
    st: &AppState,
    t: &Tenant,
    notice: &crate::payments::PaymentNotice,
) -> Result<Json<NotifyResult>, Problem> {
    let outcome = st
        .settle_payment(
            t,
            &notice.order,
            notice.amount_fen,
            &notice.payment_ref,
            st.clock.now(),
        )
        .await?;
    let status = match outcome {
        Settled::Paid(_) => "paid",
        Settled::AlreadyPaid(_) => "already_paid",
        Settled::Unapplied { .. } => "refund_due",
    };
    Ok(Json(NotifyResult {
        status: status.into(),
    }))
}
