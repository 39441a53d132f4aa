//! Staff decide a refund the rules sent to review.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ensure_return_store_staff, rma_link, RefundView};
use crate::app::AppState;
use crate::domain::ids::RefundId;
use crate::domain::text::validate_name;
use crate::http::auth::{Allowed, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub approve: bool,
    /// Why, for the record (and the buyer).
    pub note: Option<String>,
}

/// Approve or reject a refund waiting for review, with a note; recorded with who and
/// when. Ops, brand admins and hq, or the staff of the store the goods return to.
/// DynamoDB: 1 GetItem + 1 BatchGetItem (the caller's store, for store staff) +
/// 1 BatchGetItem (refund and order) + 1 TransactWriteItems (+1 GetItem of the return
/// store's address when approved).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/refunds/{refund}/decision", tag = "validate-refund",
    request_body = DecisionInput,
    responses((status = 200, body = RefundView), (status = 409, body = Problem, description = "refund-not-pending")))]
pub async fn decide(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<DecisionInput>,
) -> Result<Json<RefundView>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id: RefundId = params.id("refund")?;
    if let Some(note) = &input.note {
        validate_name("note", note, 500)?;
    }
    let refund = st.db.refund(t, &id, true).await?;
    ensure_return_store_staff(&st, caller, t, &refund, true).await?;
    let refund = st
        .review_refund(
            t,
            &id,
            &caller.user,
            input.approve,
            input.note.clone(),
            st.clock.now(),
        )
        .await?;
    tracing::info!(refund = %id, by = %caller.user, approve = input.approve, "refund reviewed");
    let rma_url = rma_link(&st, &refund).await;
    Ok(Json(RefundView { refund, rma_url }))
}
