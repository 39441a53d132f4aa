//! Staff ask the provider again for a refund it refused.

use axum::extract::State;
use axum::Json;

use super::{ensure_return_store_staff, RefundView};
use crate::app::AppState;
use crate::domain::ids::RefundId;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Params, Problem};

/// Ask the provider again for a refund it refused (`money` `failed`, listed on
/// `status=refund_failed` once its automatic attempts are spent). The same refund id
/// is sent, so the provider still pays it at most once. Ops, brand admins and hq, or
/// the staff of the store the goods returned to. DynamoDB: 1 GetItem + 1 BatchGetItem
/// (the caller's store, for store staff) + 1 GetItem + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/refunds/{refund}/retry", tag = "validate-refund",
    responses((status = 200, body = RefundView), (status = 409, body = Problem, description = "refund-not-failed")))]
pub async fn retry(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<RefundView>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id: RefundId = params.id("refund")?;
    let refund = st.db.refund(t, &id, true).await?;
    ensure_return_store_staff(&st, caller, t, &refund, true).await?;
    let refund = st.retry_refund(t, &id, st.clock.now()).await?;
    tracing::info!(refund = %id, by = %caller.user, attempts = refund.attempts, "refund asked again by a person");
    Ok(Json(RefundView {
        refund,
        rma_url: None,
    }))
}
