//! A buyer asks for a refund: decided by the rules inside the request.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rma_link, RefundView};
use crate::app::AppState;
use crate::cases::refunds::request::Requested;
use crate::domain::ids::{OrderId, Size, Sku};
use crate::domain::refund::{DeclaredCondition, RefundRequest, ReturnReason};
use crate::domain::signing::digest;
use crate::http::extract::IdempotencyKeyHeader;
use crate::http::{Authenticated, JsonBody, Params, Problem};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    pub sku: Sku,
    pub size: Size,
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// The units to return; empty (or absent) to cancel an order not yet dispatched,
    /// or, with `parcel`, every unit of that parcel.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub lines: Vec<ReturnLineInput>,
    /// The parcel the units come from (`parcels[].id` of the order): needed when a
    /// line's units came in more than one parcel. A parcel still waiting for pickup is
    /// cancelled whole and refunded at once.
    pub parcel: Option<u8>,
    pub reason: ReturnReason,
    /// Required for a return of units received: what the buyer declares of them.
    pub condition: Option<DeclaredCondition>,
    /// Keys of photos already uploaded (at most 5).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub photos: Vec<String>,
}

impl RefundInput {
    fn parse(&self) -> Result<RefundRequest, Problem> {
        if self.lines.len() > 5 {
            return Err(Problem::validation("lines", "at most 5 lines"));
        }
        if self.photos.len() > 5 {
            return Err(Problem::validation("photos", "at most 5 photos"));
        }
        for (i, p) in self.photos.iter().enumerate() {
            crate::blobs::check_key(p)
                .map_err(|_| Problem::validation(format!("photos[{i}]"), "not a photo key"))?;
        }
        Ok(RefundRequest {
            lines: self
                .lines
                .iter()
                .map(|l| (l.sku.clone(), l.size.clone(), l.quantity))
                .collect(),
            parcel: self.parcel,
            reason: self.reason,
            condition: self.condition,
            photos: self.photos.clone(),
        })
    }
}

/// Ask for a refund of your order: a return of units (with their declared condition),
/// or, before it is dispatched, a cancellation. Units of a parcel still waiting for
/// pickup are not returned but the parcel is cancelled, whole (`"parcel": n` and no
/// lines asks for that), refunded in full at once, its pickup code dead. The rules decide in the request:
/// `approved` (a return gets its code, the address of the store that fulfilled it and
/// a printable return document), `pending_review` with every reason, or `rejected`.
/// The same `Idempotency-Key` answers with the same refund (as it stands now).
/// DynamoDB: 1 BatchGetItem + 1 TransactWriteItems (+1 GetItem of the return store's
/// address when approved).
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/refunds", tag = "validate-refund",
    request_body = RefundInput,
    params(("Idempotency-Key" = String, Header, description = "1-64 letters, digits, - or _; one per refund request")),
    responses((status = 201, body = RefundView),
        (status = 409, body = Problem, description = "order-not-paid, order-not-dispatched, refund-exceeds-payment, returns-closed, idempotency-key-reused")))]
pub async fn request_refund(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(input): JsonBody<RefundInput>,
) -> Result<Response, Problem> {
    let t = params.tenant()?;
    let order: OrderId = params.id("order")?;
    let req = input.parse()?;
    let hash = digest(
        format!(
            "{t}|{order}|{}",
            serde_json::to_string(&input).unwrap_or_default()
        )
        .as_bytes(),
    );
    let now = st.clock.now();
    let (refund, status) = match st
        .request_refund(&t, &order, &caller.user, &req, &key, &hash, now)
        .await?
    {
        Requested::Created(refund) => {
            tracing::info!(refund = %refund.id, decision = ?refund.decision, amount_fen = refund.amount_fen.get(), "refund decided");
            (refund, StatusCode::CREATED)
        }
        Requested::Replayed(refund) => (refund, StatusCode::CREATED),
    };
    // The return document is written before the answer, so its link works at once.
    let rma_url = rma_link(&st, &refund).await;
    Ok((status, Json(RefundView { refund, rma_url })).into_response())
}
