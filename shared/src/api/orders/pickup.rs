//! The counter: a clerk of the store holding a parcel checks the buyer's code.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::ids::OrderId;
use crate::domain::order::{Order, PickupOutcome, MAX_PICKUP_ATTEMPTS};
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Staff};
use crate::http::{JsonBody, Params, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupInput {
    /// The code the buyer shows.
    pub code: String,
    /// Which parcel, when the clerk works at more than one store of the order.
    pub parcel: Option<u8>,
}

/// A clerk of the store holding a parcel checks the buyer's code and hands it over.
/// Each wrong code is counted on the parcel; the fifth locks it for 15 minutes and
/// gives the buyer a new code. DynamoDB: 1 GetItem + 1 BatchGetItem (the parcels'
/// stores) + 1 conditional PutItem.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/pickup", tag = "place-order",
    request_body = PickupInput,
    responses((status = 200, body = Order, description = "handed over: the order as the clerk sees it"),
        (status = 409, body = Problem, description = "order-not-ready, parcel-not-ready, parcel-locked"),
        (status = 422, body = Problem, description = "wrong-pickup-code (with the tries left), validation-error")))]
pub async fn pickup(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<PickupInput>,
) -> Result<Json<Order>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id = params.id::<OrderId>("order")?;
    let at = st
        .pick_up(
            t,
            &id,
            &caller.user,
            input.parcel,
            input.code.trim(),
            st.clock.now(),
        )
        .await?;
    match at.outcome {
        PickupOutcome::HandedOver => {
            tracing::info!(order = %id, "parcel handed over");
            let every = caller.sees_every_store();
            Ok(Json(at.order.for_staff(&at.clerk_of, every)))
        }
        PickupOutcome::WrongCode { attempts_left } => {
            tracing::warn!(order = %id, clerk = %caller.user, attempts_left, "wrong pickup code");
            Err(Problem::validation(
                "code",
                format!(
                    "the pickup code does not match; {attempts_left} of {MAX_PICKUP_ATTEMPTS} tries left before the parcel locks"
                ),
            )
            .kind("wrong-pickup-code"))
        }
        PickupOutcome::Locked { until } => {
            tracing::warn!(order = %id, clerk = %caller.user, "parcel locked after wrong pickup codes");
            Err(DomainError::conflict(
                "parcel-locked",
                format!(
                    "too many wrong codes: the parcel is locked until {until} and the buyer has a new code"
                ),
            )
            .into())
        }
    }
}
