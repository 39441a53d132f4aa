//! The ship-parcels function: a shipping parcel's journey over HTTP. Clerks of the
//! parcel's store pack it (its packing slip), hand it to a courier and take it back
//! when it returns unclaimed; staff declare a parcel lost and list the parcels that
//! need a person; the carrier's aggregator pushes tracks (signed); the buyer (and the
//! store's staff) read a parcel's track.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::orders::read::as_staff_sees;
use crate::app::AppState;
use crate::cases::orders::shipping::Handover;
use crate::domain::auth::Action;
use crate::domain::ids::{CarrierId, OrderId, StoreId, Waybill};
use crate::domain::order::{Order, ParcelStatus};
use crate::domain::refund::Refund;
use crate::domain::shipping::{CarrierKind, ParcelEnd, TrackEvent};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{Authenticated, JsonBody, Params, Problem, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pack))
        .routes(routes!(hand_over))
        .routes(routes!(returned))
        .routes(routes!(lost))
        .routes(routes!(track))
        .routes(routes!(needing_attention))
        .routes(routes!(notify))
}

pub fn router(state: AppState) -> Router {
    super::finish(routes(), state)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Packed {
    /// The order as the clerk sees it.
    pub order: Order,
    /// The packing slip (HTML), for a day.
    pub slip_url: String,
}

/// A clerk of the parcel's store packs it and prints its slip (again, for a parcel
/// already packed: nothing else changes). DynamoDB: 1 GetItem + 1 BatchGetItem + 1
/// GetItem (the store) + 1 conditional PutItem (the first time); S3: 1 PutObject.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/pack", tag = "ship-parcels",
    responses((status = 200, body = Packed), (status = 403, body = Problem, description = "not a clerk of the parcel's store"),
        (status = 409, body = Problem, description = "parcel-not-to-pack, parcel-not-shipping")))]
pub async fn pack(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<Packed>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id = params.id::<OrderId>("order")?;
    let parcel = params.parcel()?;
    let (order, slip_url) = st
        .pack_parcel(t, &id, parcel, &caller.user, st.clock.now())
        .await?;
    tracing::info!(order = %id, parcel, "parcel packed");
    Ok(Json(Packed {
        order: staff_view(&st, t, caller, order).await?,
        slip_url,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    /// `sf`, `zto`, `yto`, `sto`, `yunda`, `ems`, `jd`, or `same-city` (the store's
    /// rider, where it offers same-city delivery and the address is within its radius).
    pub carrier: CarrierId,
    /// The waybill the clerk scanned; leave it out to have the carrier issue one.
    pub waybill: Option<Waybill>,
}

/// A clerk of the parcel's store hands the packed parcel to a courier. The waybill is
/// the parcel's alone (409 `waybill-taken` if another parcel holds it); it is followed
/// at the aggregator from here (the courier worker). DynamoDB: 1 GetItem + 1
/// BatchGetItem + 1 GetItem (the store), then 1 GetItem + 1 TransactWriteItems (the
/// order, the waybill) after the carrier issued a waybill.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/handover", tag = "ship-parcels",
    request_body = HandoverInput,
    responses((status = 200, body = Order), (status = 403, body = Problem, description = "not a clerk of the parcel's store"),
        (status = 409, body = Problem, description = "parcel-not-packed, parcel-not-waiting, waybill-taken"),
        (status = 422, body = Problem, description = "carrier (unknown, no same-city offer, out of radius), courier-refused")))]
pub async fn hand_over(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
    JsonBody(input): JsonBody<HandoverInput>,
) -> Result<Json<Order>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id = params.id::<OrderId>("order")?;
    let parcel = params.parcel()?;
    let ask = Handover {
        carrier: input.carrier,
        waybill: input.waybill,
    };
    let order = st
        .hand_over(t, &id, parcel, &caller.user, ask, st.clock.now())
        .await?;
    tracing::info!(order = %id, parcel, "parcel handed to a courier");
    Ok(Json(staff_view(&st, t, caller, order).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParcelEnded {
    pub order: Order,
    /// The refund of the parcel's units, paid by rule.
    pub refund: Refund,
}

/// A clerk of the parcel's store takes back a parcel the carrier returned unclaimed:
/// its units go back into the store's count (and on sale while the campaign sells),
/// and the buyer is refunded in full. DynamoDB: 1 GetItem + 1 BatchGetItem + 1 GetItem
/// + 1 TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/returned", tag = "ship-parcels",
    responses((status = 200, body = ParcelEnded), (status = 403, body = Problem, description = "not a clerk of the parcel's store"),
        (status = 409, body = Problem, description = "parcel-not-with-carrier")))]
pub async fn returned(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    params: Params,
) -> Result<Json<ParcelEnded>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    let id = params.id::<OrderId>("order")?;
    let parcel = params.parcel()?;
    let (order, refund) = st
        .parcel_back(t, &id, parcel, &caller.user, st.clock.now())
        .await?;
    tracing::info!(order = %id, parcel, refund = %refund.id, "parcel back at its store: refunded");
    Ok(Json(ParcelEnded {
        order: staff_view(&st, t, caller, order).await?,
        refund,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LostInput {
    /// What the carrier said (kept on the refund's decision).
    pub note: String,
}

/// Ops declare a parcel lost by its carrier: the buyer is refunded in full, once (the
/// parcel ends in the refund's transaction). DynamoDB: 1 GetItem + 1
/// TransactWriteItems.
#[utoipa::path(post, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/lost", tag = "ship-parcels",
    request_body = LostInput,
    responses((status = 200, body = ParcelEnded), (status = 409, body = Problem, description = "parcel-not-with-carrier")))]
pub async fn lost(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    params: Params,
    JsonBody(input): JsonBody<LostInput>,
) -> Result<Json<ParcelEnded>, Problem> {
    let t = &allowed.tenant;
    let id = params.id::<OrderId>("order")?;
    let parcel = params.parcel()?;
    crate::domain::text::validate_name("note", &input.note, 200)?;
    let why = format!(
        "declared lost by {}: {}",
        allowed.caller.user,
        input.note.trim()
    );
    let (order, refund) = st
        .end_parcel(t, &id, parcel, ParcelEnd::Lost, &why, st.clock.now())
        .await?;
    tracing::warn!(order = %id, parcel, refund = %refund.id, "parcel declared lost: refunded");
    Ok(Json(ParcelEnded {
        order: order.for_staff(&[], true).track_summary(),
        refund,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParcelTrack {
    pub parcel: u8,
    pub store: StoreId,
    pub status: ParcelStatus,
    pub carrier: Option<CarrierId>,
    pub kind: Option<CarrierKind>,
    pub waybill: Option<Waybill>,
    /// Why it needs a person, while it does (staff only).
    pub attention: Option<String>,
    /// The carrier's events, newest first.
    pub events: Vec<TrackEvent>,
}

/// A parcel's track: its buyer, staff who see every store, and the clerks of its
/// store may read it; anyone else is told it does not exist. DynamoDB: 1 GetItem (+1
/// BatchGetItem for a clerk).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/track", tag = "ship-parcels",
    responses((status = 200, body = ParcelTrack), (status = 404, body = Problem)))]
pub async fn track(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> Result<Json<ParcelTrack>, Problem> {
    let t = params.tenant()?;
    let id = params.id::<OrderId>("order")?;
    let parcel = params.parcel()?;
    let order = st.db.order(&t, &id, false).await?;
    let p = order
        .parcels
        .iter()
        .find(|p| p.id == parcel)
        .ok_or_else(|| Problem::not_found("parcel"))?;
    let is_buyer = order.buyer == caller.user;
    if !is_buyer {
        caller
            .authorize(Action::ReadTenantConfig, &t)
            .map_err(|_| Problem::not_found("order"))?;
        if !caller.sees_every_store()
            && st
                .db
                .stores_clerked_by(&t, std::slice::from_ref(&p.store), &caller.user)
                .await?
                .is_empty()
        {
            return Err(Problem::not_found("order"));
        }
    }
    let sh = p.shipment.clone().unwrap_or_default();
    let mut events = sh.track;
    events.reverse();
    Ok(Json(ParcelTrack {
        parcel: p.id,
        store: p.store.clone(),
        status: p.status,
        carrier: sh.carrier,
        kind: sh.kind,
        waybill: sh.waybill,
        attention: if is_buyer { None } else { sh.attention },
        events,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionParcels {
    /// Orders with a parcel flagged for a person (each parcel's `shipment.attention`
    /// says why); a store's clerks see their store's parcels only.
    pub orders: Vec<Order>,
    pub next_cursor: Option<String>,
}

/// Shipped parcels that need a person, oldest order first: not handed to a courier
/// within 48 hours of dispatch, no tracking event for 72 hours, or returned to the
/// store by the carrier. DynamoDB: 1 Query (GSI2) (+1 BatchGetItem for a clerk).
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/parcels/attention", tag = "ship-parcels",
    params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-50, default 20")),
    responses((status = 200, body = AttentionParcels)))]
pub async fn needing_attention(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
    query: QueryParams,
) -> Result<Json<AttentionParcels>, Problem> {
    let (caller, t) = (&allowed.caller, &allowed.tenant);
    query.only(&["cursor", "limit"])?;
    let (limit, cursor) = query.page()?;
    let page = st.db.parcels_needing_attention(t, limit, cursor).await?;
    let orders = as_staff_sees(&st, t, caller, page.items)
        .await?
        .into_iter()
        .map(|mut o| {
            o.parcels
                .retain(|p| p.shipment.as_ref().is_some_and(|s| s.attention.is_some()));
            o
        })
        .filter(|o| !o.parcels.is_empty())
        .collect();
    Ok(Json(AttentionParcels {
        orders,
        next_cursor: page.next,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushResult {
    /// Whether the push told us anything new (a replay changes nothing).
    pub changed: bool,
    pub status: ParcelStatus,
}

/// The courier aggregator's push: a waybill's whole track, signed with HMAC-SHA256
/// over the raw body in `X-Clearance-Signature` (401 `invalid-signature` otherwise,
/// and nothing happens). Replays and out-of-order pushes are harmless: events are
/// merged by time and a parcel never moves back. DynamoDB: 1 GetItem + at most 1
/// conditional PutItem.
#[utoipa::path(post, path = "/v1/couriers/notify", tag = "ship-parcels", security(()),
    request_body = crate::couriers::TrackingPush,
    responses((status = 200, body = PushResult), (status = 401, body = Problem, description = "invalid-signature"),
        (status = 409, body = Problem, description = "waybill-mismatch")))]
pub async fn notify(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PushResult>, Problem> {
    let signature = headers
        .get(crate::payments::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let push = st.couriers.verify(&body, signature).map_err(|e| match e {
        DomainError::Unauthenticated => Problem::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid-signature",
            "The notification's signature does not verify",
        ),
        other => other.into(),
    })?;
    if push.events.len() > 200 {
        return Err(Problem::validation("events", "at most 200 events"));
    }
    let (order, changed) = st.apply_push(&push, st.clock.now()).await?;
    let status = order
        .parcels
        .iter()
        .find(|p| p.id == push.parcel)
        .map(|p| p.status)
        .ok_or_else(|| Problem::not_found("parcel"))?;
    if changed {
        tracing::info!(order = %push.order, parcel = push.parcel, ?status, "tracking push applied");
    }
    Ok(Json(PushResult { changed, status }))
}

/// The order as the calling member of staff sees it.
async fn staff_view(
    st: &AppState,
    t: &Tenant,
    caller: &crate::domain::auth::Caller,
    order: Order,
) -> Result<Order, Problem> {
    as_staff_sees(st, t, caller, vec![order])
        .await?
        .pop()
        .ok_or_else(|| Problem::not_found("order"))
}
