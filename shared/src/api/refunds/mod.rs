//! `validate-refund`: a buyer's refund request decided by rule inside the request, the
//! return authorisation, staff reviews and the goods received at the counter, and the
//! provider's refund notices. One file per use case; this one routes them and holds
//! what they share (the refund as shown, and what follows a write).

pub mod decision;
pub mod notify;
pub mod read;
pub mod receive;
pub mod request;
pub mod retry;

use axum::Router;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::refund::{Decision, Refund};
use crate::domain::rma::{rma_html, rma_key};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request::request_refund, read::order_refunds))
        .routes(routes!(read::list_refunds))
        .routes(routes!(read::read_refund))
        .routes(routes!(decision::decide))
        .routes(routes!(receive::receive))
        .routes(routes!(retry::retry))
        .routes(routes!(notify::refund_notify))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

/// Staff may act on a refund when they see every store (ops, brand admins, hq) or
/// work at the store its goods return to. 1 BatchGetItem for a store's staff.
pub async fn ensure_return_store_staff(
    st: &AppState,
    caller: &crate::domain::auth::Caller,
    t: &crate::domain::tenancy::Tenant,
    refund: &Refund,
    every_store_may: bool,
) -> Result<(), crate::http::Problem> {
    if every_store_may && caller.sees_every_store() {
        return Ok(());
    }
    let store = refund.return_store.clone().into_iter().collect::<Vec<_>>();
    if st
        .db
        .stores_clerked_by(t, &store, &caller.user)
        .await?
        .is_empty()
    {
        return Err(crate::domain::DomainError::Forbidden(
            "only the staff of the store the goods return to (or ops) act on this refund".into(),
        )
        .into());
    }
    Ok(())
}

/// How long a return document's link stays valid.
const RMA_LINK: Duration = Duration::from_secs(7 * 24 * 3600);

/// A refund as shown, with a link to its return document when it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    #[serde(flatten)]
    pub refund: Refund,
    /// The printable return authorisation (a presigned link), for an approved return.
    pub rma_url: Option<String>,
}

/// The link to a refund's return document, written first if it is not there yet (a
/// crash after the decision was recorded leaves it to the next read to write).
pub async fn rma_link(st: &AppState, refund: &Refund) -> Option<String> {
    if refund.decision != Decision::Approved || refund.rma_code.is_none() {
        return None;
    }
    let key = rma_key(refund);
    let present = matches!(st.blobs.get(&key).await, Ok(Some(_)));
    if !present {
        if let Err(e) = st
            .blobs
            .put(
                &key,
                rma_html(refund).into_bytes(),
                "text/html; charset=utf-8",
            )
            .await
        {
            tracing::error!(refund = %refund.id, error = %e, "could not write the return document");
            return None;
        }
    }
    st.blobs.presign_get(&key, RMA_LINK).await.ok()
}
