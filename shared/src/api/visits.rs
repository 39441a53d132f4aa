//! `store-visits`: pickup appointments and try-on visits. A buyer books, moves or
//! cancels a slot for a parcel waiting at its store, or books a try-on visit of up to
//! three pairs the store holds; a clerk or guide of the store checks the visitor in
//! with the visit's code; the store's clerks (and staff over every store) list a day's
//! bookings and visits.

use axum::extract::State;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::cases::visits::VisitRequest;
use crate::db::appointments::Booking;
use crate::domain::campaign::TimeOfDay;
use crate::domain::ids::{CampaignId, GuideId, OrderId, StoreId, VisitId};
use crate::domain::order::{Order, MAX_PICKUP_ATTEMPTS};
use crate::domain::visit::{parse_tries, CheckInOutcome, TryOn, Visit};
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Staff};
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(book_pickup, cancel_pickup))
        .routes(routes!(day_bookings))
        .routes(routes!(book_visit))
        .routes(routes!(my_visit, cancel_visit))
        .routes(routes!(check_in))
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
    /// Try-on visits, by slot (without their codes).
    pub visits: Vec<Visit>,
}

/// A store's pickup bookings and try-on visits of a local date (`date`, default today
/// in the store's zone): for its clerks, and staff over every store. DynamoDB: 1
/// GetItem (the store) + 2 Query.
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
    let visits = st.db.day_visits(t, &store_id, date).await?;
    Ok(Json(DayBookings {
        store: store_id,
        date,
        bookings,
        visits: visits.into_iter().map(Visit::for_staff).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    /// A store of the campaign.
    pub store: StoreId,
    /// The store's local date, `YYYY-MM-DD`.
    #[schema(value_type = String, example = "2026-11-23")]
    pub date: NaiveDate,
    /// The slot's start, `HH:MM`, on the store's grid.
    #[schema(value_type = String, example = "15:00")]
    pub start: TimeOfDay,
    /// 1 to 3 SKU and size pairs the store holds.
    pub items: Vec<TryOn>,
}

/// Book a try-on visit: a slot of the store's grid (a place of it, as pickups take)
/// with one unit of each pair held for it, taken from the store's count until the
/// slot's end, so no order ships them meanwhile. The visit's `code` is what the buyer
/// shows at the store. An order placed in the slot for a tried SKU, once a guide has
/// checked the buyer in, is credited to that guide (`in_store_trial`) and dispatched
/// from that store, its held units first. 201 when booked, 200 for the same booking
/// again. DynamoDB: 1 BatchGetItem + 1 TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/visits", tag = "store-visits",
    request_body = VisitInput,
    responses((status = 201, body = Visit), (status = 200, body = Visit, description = "the same booking again"),
        (status = 409, body = Problem, description = "slot-full, not-in-store, visit-active, campaign-not-live, no-appointments"),
        (status = 422, body = Problem)))]
pub async fn book_visit(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
    JsonBody(input): JsonBody<VisitInput>,
) -> Result<(axum::http::StatusCode, Json<Visit>), Problem> {
    let t = params.tenant()?;
    let campaign: CampaignId = params.id("campaign")?;
    let req = VisitRequest {
        campaign,
        store: input.store,
        date: input.date,
        start: input.start,
        tries: parse_tries(input.items)?,
    };
    let (v, new) = st
        .book_visit(&t, &caller.user, &req, st.clock.now())
        .await?;
    if new {
        tracing::info!(visit = %v.id, store = %v.store, "try-on visit booked");
    }
    let status = if new {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(v)))
}

/// The buyer's latest try-on visit in the campaign, with its code. DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/visit", tag = "store-visits",
    responses((status = 200, body = Visit), (status = 404, body = Problem)))]
pub async fn my_visit(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Visit>, Problem> {
    let t = params.tenant()?;
    let campaign: CampaignId = params.id("campaign")?;
    let v = st
        .db
        .latest_visit(&t, &campaign, &caller.user)
        .await?
        .ok_or(DomainError::NotFound { what: "visit" })?;
    Ok(Json(v))
}

/// Cancel the buyer's booked try-on visit before it begins: its units and place go
/// back. DynamoDB: 1 GetItem + 1 TransactWriteItems.
#[utoipa::path(delete, path = "/v1/{brand}/{store_group}/campaigns/{campaign}/visit", tag = "store-visits",
    responses((status = 200, body = Visit), (status = 404, body = Problem), (status = 409, body = Problem, description = "visit-not-booked")))]
pub async fn cancel_visit(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<Visit>, Problem> {
    let t = params.tenant()?;
    let campaign: CampaignId = params.id("campaign")?;
    let v = st
        .cancel_visit(&t, &campaign, &caller.user, st.clock.now())
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    /// The code the visitor shows.
    pub code: String,
    /// The guide of the store credited with what the visitor buys in the slot (a guide
    /// checking in names themself; a clerk may name the guide who serves them).
    pub guide: Option<GuideId>,
}

/// A clerk or a guide of the visit's store checks the visitor in with their code,
/// from 30 minutes before the slot to its end. Each wrong code is counted on the visit;
/// the fifth locks it for 15 minutes and gives the buyer a new code. DynamoDB: 1
/// GetItem (the visit) + 1 GetItem (the guide, when named) + 1 BatchGetItem (the
/// store's clerks, unless the guide checks in) + 1 TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/stores/{store}/visits/{visit}/check-in", tag = "store-visits",
    request_body = CheckInInput,
    responses((status = 200, body = Visit, description = "checked in: the visit as staff see it"),
        (status = 409, body = Problem, description = "visit-not-booked, visit-not-now, visit-locked"),
        (status = 422, body = Problem, description = "wrong-visit-code (with the tries left), validation-error")))]
pub async fn check_in(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<CheckInInput>,
) -> Result<Json<Visit>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let store: StoreId = params.id("store")?;
    let id: VisitId = params.id("visit")?;
    let (v, outcome) = st
        .check_in_visit(
            t,
            (&store, &id),
            &caller.user,
            input.guide.as_ref(),
            input.code.trim(),
            st.clock.now(),
        )
        .await?;
    match outcome {
        CheckInOutcome::CheckedIn => {
            tracing::info!(visit = %id, store = %store, "visitor checked in");
            Ok(Json(v.for_staff()))
        }
        CheckInOutcome::WrongCode { attempts_left } => {
            tracing::warn!(visit = %id, by = %caller.user, attempts_left, "wrong visit code");
            Err(Problem::validation(
                "code",
                format!(
                    "the visit's code does not match; {attempts_left} of {MAX_PICKUP_ATTEMPTS} tries left before the visit locks"
                ),
            )
            .kind("wrong-visit-code"))
        }
        CheckInOutcome::Locked { until } => {
            tracing::warn!(visit = %id, by = %caller.user, "visit locked after wrong codes");
            Err(DomainError::conflict(
                "visit-locked",
                format!(
                    "too many wrong codes: the visit is locked until {until} and the buyer has a new code"
                ),
            )
            .into())
        }
    }
}
