//! `store-visits`: pickup appointments. A buyer books, moves or cancels a slot for a
//! parcel waiting at its store; the store's clerks (and staff over every store) list a
//! day's bookings.

use axum::extract::State;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::db::appointments::Booking;
use crate::domain::campaign::TimeOfDay;
use crate::domain::ids::{OrderId, StoreId};
use crate::domain::order::Order;
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(book_pickup, cancel_pickup))
        .routes(routes!(day_bookings))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    /// The store's local date, `YYYY-MM-DD`.
    #[schema(value_type = String, example = "2026-11-23")]
    pub date: NaiveDate,
    /// The slot's start, `HH:MM`, on the store's grid (from opening, every slot length).
    #[schema(value_type = String, example = "11:00")]
    pub start: TimeOfDay,
}

/// Book (or move) a pickup appointment for a parcel of the buyer's order waiting at
/// its store: a slot of the store's grid within its opening hours on its local date,
/// ending before the parcel's pickup window does. A place is taken on condition one is
/// free (409 `slot-full`); the same slot again changes nothing. A booking not honoured
/// by the slot's end becomes a no-show and gives its place back. DynamoDB: 3 GetItem
/// (the order, the store, the slot's counter) + 1 TransactWriteItems.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/appointment", tag = "store-visits",
    request_body = SlotInput,
    responses((status = 200, body = Order), (status = 409, body = Problem, description = "slot-full, parcel-not-ready, no-appointments"), (status = 422, body = Problem)))]
pub async fn book_pickup(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<SlotInput>,
) -> Result<Json<Order>, Problem> {
    let t = params.tenant()?;
    let id: OrderId = params.id("order")?;
    let parcel = params.parcel()?;
    let o = st
        .book_pickup(
            &t,
            &caller.user,
            &id,
            parcel,
            (input.date, input.start),
            st.clock.now(),
        )
        .await?;
    Ok(Json(o.track_summary()))
}

/// Cancel a parcel's booked appointment: its place is given back. DynamoDB: 1 GetItem +
/// 1 TransactWriteItems.
#[utoipa::path(delete, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/appointment", tag = "store-visits",
    responses((status = 200, body = Order), (status = 409, body = Problem, description = "no-appointment, parcel-not-ready")))]
pub async fn cancel_pickup(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Order>, Problem> {
    let t = params.tenant()?;
    let id: OrderId = params.id("order")?;
    let parcel = params.parcel()?;
    let o = st.cancel_pickup(&t, &caller.user, &id, parcel).await?;
    Ok(Json(o.track_summary()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayBookings {
    pub store: StoreId,
    #[schema(value_type = String)]
    pub date: NaiveDate,
    /// By slot; no-shows are kept, marked.
    pub bookings: Vec<Booking>,
}

/// A store's pickup bookings of a local date (`date`, default today in the store's
/// zone): for its clerks, and staff over every store. DynamoDB: 1 GetItem (the store) +
/// 1 Query.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/stores/{store}/appointments", tag = "store-visits",
    params(("date" = Option<String>, Query, description = "YYYY-MM-DD, the store's local date")),
    responses((status = 200, body = DayBookings)))]
pub async fn day_bookings(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    query: QueryParams,
) -> Result<Json<DayBookings>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let store_id: StoreId = params.id("store")?;
    query.only(&["date"])?;
    let store = st.db.store(t, &store_id).await?;
    if !caller.sees_every_store() && !store.clerks.contains(&caller.user) {
        return Err(DomainError::Forbidden("only this store's clerks, or ops".into()).into());
    }
    let date = match query.get("date") {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| Problem::invalid_parameter("date", "a date, YYYY-MM-DD"))?,
        None => store.opening.local_date(st.clock.now()),
    };
    let bookings = st.db.day_bookings(t, &store_id, date).await?;
    Ok(Json(DayBookings {
        store: store_id,
        date,
        bookings,
    }))
}
