//! The provider's signed word on a refund it was asked for.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::http::Problem;
use crate::payments::{RefundOutcome, SIGNATURE_HEADER};

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundNoticeResult {
    /// The refund's money as recorded: `succeeded` or `failed`.
    pub money: String,
}

/// The provider's refund result, signed like payment notices (HMAC-SHA256 over the raw
/// body in `X-Clearance-Signature`). It settles only a refund the provider was asked
/// for (409 `refund-not-submitted` otherwise), for exactly its amount (422); a success
/// is announced to guide attribution as the worker announces it. Idempotent: a settled
/// refund stays as it is. DynamoDB: 1 GetItem + at most 1 conditional PutItem (+1
/// GetItem of the order to announce a credited sale's refund).
#[utoipa::path(post, path = "/v1/payments/refund-notify", tag = "validate-refund", security(()),
    request_body = crate::payments::RefundNotice,
    responses((status = 200, body = RefundNoticeResult), (status = 401, body = Problem, description = "invalid-signature"),
        (status = 409, body = Problem, description = "refund-not-submitted"), (status = 422, body = Problem, description = "amount_fen")))]
pub async fn refund_notify(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RefundNoticeResult>, Problem> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let notice = st
        .payments
        .verify_refund(&body, signature)
        .map_err(|e| match e {
            DomainError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-signature",
                "The notification's signature does not verify",
            ),
            other => other.into(),
        })?;
    let t = Tenant::parse_scoped(&notice.tenant).map_err(|e| Problem::from(e).field("tenant"))?;
    let succeeded = notice.status == RefundOutcome::Succeeded;
    let (refund, changed) = crate::workers::refunds::settle_by_notice(
        &st,
        &t,
        &notice.refund,
        succeeded,
        notice.amount_fen,
        st.clock.now(),
    )
    .await?;
    if changed {
        tracing::info!(refund = %refund.id, ?refund.money, "refund settled by the provider's notice");
        // A refusal is asked again later: its timer.
        super::after_write(&st, &refund).await;
    }
    let money = serde_json::to_value(refund.money)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(Json(RefundNoticeResult { money }))
}
