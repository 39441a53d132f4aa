//! The goods back at the counter of the store they return to.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ensure_return_store_staff, RefundView};
use crate::app::AppState;
use crate::domain::ids::RefundId;
use crate::domain::refund::Inspection;
use crate::http::auth::{Allowed, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    /// Per returned line: units fit to sell again, units damaged.
    #[schema(max_items = 5)]
    pub units: Vec<Inspection>,
}

/// A clerk of the store the goods return to records what came back, unit by unit.
/// Resaleable units go back to that store's stock (and, while the campaign sells, to its
/// sellable stock); the refund is then paid. DynamoDB: 1 GetItem + 1 BatchGetItem (the
/// clerk's store) + 1 BatchGetItem + 1 TransactWriteItems (+ the cached campaign read).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/refunds/{refund}/receive", tag = "validate-refund",
    request_body = ReceiveInput,
    responses((status = 200, body = RefundView), (status = 409, body = Problem, description = "refund-not-awaiting-return")))]
pub async fn receive(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<ReceiveInput>,
) -> Result<Json<RefundView>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id: RefundId = params.id("refund")?;
    if input.units.len() > 5 {
        return Err(Problem::validation("units", "at most 5 lines"));
    }
    let refund = st.db.refund(t, &id, true).await?;
    // Only a clerk of the store the goods return to has them in hand.
    ensure_return_store_staff(&st, caller, t, &refund, false).await?;
    let now = st.clock.now();
    let selling = st.db.selling(t, &refund.campaign, now).await;
    let refund = st
        .receive_refund(t, &id, &caller.user, &input.units, selling, now)
        .await?;
    tracing::info!(refund = %id, by = %caller.user, "return received");
    Ok(Json(RefundView {
        refund,
        rma_url: None,
    }))
}
