//! The provider's signed word on a refund it was asked for.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::tenancy::Tenant;
use crate::http::extract::Signed;
use crate::http::Problem;
use crate::payments::RefundNotice;
use crate::payments::RefundOutcome;

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
    Signed(notice): Signed<RefundNotice>,
) -> Result<Json<RefundNoticeResult>, Problem> {
    let t = Tenant::parse_scoped(&notice.tenant).map_err(|e| Problem::from(e).field("tenant"))?;
    let (refund, _) = st
        .settle_by_notice(
            &t,
            &notice.refund,
            notice.status == RefundOutcome::Succeeded,
            notice.amount_fen,
            st.clock.now(),
        )
        .await?;
    let money = serde_json::to_value(refund.money)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(Json(RefundNoticeResult { money }))
}
