//! The local server: every function's routes in one process, on the embedded store by
//! default (or on DynamoDB/SQS/S3 endpoints), with a seeded demo tenant.
//!
//! There is no API Gateway here, so this server verifies its own development tokens
//! (HS256, minted by `POST /dev/token`) and puts the same [`Caller`] in place that the
//! JWT authorizer's claims produce in AWS. `/dev/*` routes exist only here.

pub mod seed;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

use clearance::api;
use clearance::app::AppState;
use clearance::blobs::local::DirBlobs;
use clearance::domain::auth::{Caller, Role, Scope};
use clearance::domain::ids::OrderId;
use clearance::domain::ids::UserId;
use clearance::domain::tenancy::Tenant;
use clearance::http::auth::caller_from_claims;
use clearance::http::{JsonBody, Problem, QueryParams};
use clearance::payments::Sandbox;
use clearance::queue::QueueConsumer;
use clearance::registry;

/// Signs and verifies development tokens.
#[derive(Clone)]
pub struct DevTokens {
    secret: Arc<Vec<u8>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DevClaims {
    sub: String,
    role: String,
    tenants: Vec<String>,
    /// A phone the development identity provider "verified".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    exp: i64,
}

impl DevTokens {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        DevTokens {
            secret: Arc::new(secret.into()),
        }
    }

    /// Mints a token for `sub` with `role` over `tenants` (`brand/group`, `brand/*`, `*`).
    pub fn mint(&self, sub: &str, role: Role, tenants: &[&str]) -> Result<String, Problem> {
        self.mint_with_phone(sub, role, tenants, None)
    }

    /// [`DevTokens::mint`], with a verified phone (`phone_number`,
    /// `phone_number_verified: true`), as the identity provider would after an SMS code.
    pub fn mint_with_phone(
        &self,
        sub: &str,
        role: Role,
        tenants: &[&str],
        phone: Option<&str>,
    ) -> Result<String, Problem> {
        UserId::parse(sub).map_err(|e| Problem::from(e).field("sub"))?;
        for (i, t) in tenants.iter().enumerate() {
            Scope::parse(t)
                .map_err(|e| Problem::validation(format!("tenants[{i}]"), e.to_string()))?;
        }
        let role = serde_json::to_value(role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let claims = DevClaims {
            sub: sub.to_owned(),
            role,
            tenants: tenants.iter().map(|s| (*s).to_owned()).collect(),
            phone_number: phone.map(str::to_owned),
            exp: (Utc::now() + Duration::hours(12)).timestamp(),
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .map_err(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Could not sign token",
            )
        })
    }

    /// Verifies a token and builds the caller exactly as the JWT authorizer's claims would.
    pub fn verify(&self, token: &str) -> Result<Caller, Problem> {
        let data = decode::<DevClaims>(
            token,
            &DecodingKey::from_secret(&self.secret),
            &Validation::new(Algorithm::HS256),
        )
        .map_err(|_| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-token",
                "The token is not valid",
            )
        })?;
        let c = data.claims;
        let mut claims = HashMap::from([
            ("sub".to_owned(), c.sub),
            ("role".to_owned(), c.role),
            (
                "tenants".to_owned(),
                serde_json::to_string(&c.tenants).unwrap_or_default(),
            ),
        ]);
        if let Some(phone) = c.phone_number {
            claims.insert("phone_number".to_owned(), phone);
            claims.insert("phone_number_verified".to_owned(), "true".to_owned());
        }
        Ok(caller_from_claims(&claims)?)
    }
}

async fn authenticate(State(tokens): State<DevTokens>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
    // Never trust a caller injected from outside: only a verified token sets one.
    req.extensions_mut().remove::<Caller>();
    if let Some(token) = bearer {
        match tokens.verify(&token) {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
            }
            Err(p) => return p.into_response(),
        }
    }
    next.run(req).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    role: Role,
    sub: String,
    #[serde(default)]
    tenants: Vec<String>,
    /// A phone to put in the token as verified (members binding their phone).
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenResponse {
    token: String,
    token_type: &'static str,
}

async fn dev_token(
    State(tokens): State<DevTokens>,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Json<TokenResponse>, Problem> {
    let tenants: Vec<&str> = req.tenants.iter().map(String::as_str).collect();
    if let Some(p) = &req.phone {
        clearance::domain::catalog::Phone::try_from(p.clone())
            .map_err(|e| Problem::validation("phone", e))?;
    }
    let token = tokens.mint_with_phone(&req.sub, req.role, &tenants, req.phone.as_deref())?;
    Ok(Json(TokenResponse {
        token,
        token_type: "Bearer",
    }))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        api::openapi::json(),
    )
        .into_response()
}

/// The local courier aggregator's secret (its API requests and its pushes).
pub const COURIER_SECRET: &str = "clearance-local-couriers";

/// Delivers the courier aggregator's pushes due by `at` (the sandbox moving parcels
/// along), each verified and applied as `POST /v1/couriers/notify` would: how many
/// pushes, and how many changed a parcel.
pub async fn deliver_courier_pushes(
    st: &AppState,
    at: chrono::DateTime<Utc>,
) -> Result<(usize, usize), Problem> {
    let pushes = st.couriers.due_pushes(at);
    let mut changed = 0;
    for (body, signature) in &pushes {
        let push = st.couriers.verify(body, Some(signature))?;
        let (_, moved) = st.apply_push(&push, st.clock.now()).await?;
        changed += usize::from(moved);
    }
    Ok((pushes.len(), changed))
}

#[derive(Debug, Deserialize)]
struct AdvanceQuery {
    hours: Option<u32>,
}

/// The sandbox aggregator pushes what is due `hours` from now (default 0), through the
/// same verification and merge as its signed pushes: `POST
/// /dev/couriers/advance?hours=30`. Local only: time does not move, only the carrier.
async fn dev_courier_advance(
    State(st): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<AdvanceQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    let hours = i64::from(q.hours.unwrap_or(0).min(24 * 30));
    let at = st.clock.now() + Duration::hours(hours);
    let (pushes, changed) = deliver_courier_pushes(&st, at).await?;
    Ok(Json(
        serde_json::json!({"pushes": pushes, "changed": changed}),
    ))
}

/// The sandbox as the aggregator's API over HTTP (what `HttpCouriers` calls in
/// production), requests signed with the courier secret: `POST
/// /dev/couriers/api/waybills`, `POST /dev/couriers/api/subscriptions`, `GET
/// /dev/couriers/api/tracks/{carrier}/{waybill}`.
async fn courier_api(
    State(st): State<AppState>,
    method: axum::http::Method,
    Path(rest): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use clearance::couriers::{Subscription, WaybillRequest};
    let secret = std::env::var("COURIER_API_SECRET").unwrap_or_else(|_| COURIER_SECRET.into());
    let path = format!("/{rest}");
    let signed: &[u8] = if body.is_empty() {
        path.as_bytes()
    } else {
        &body
    };
    let signature = headers
        .get(clearance::payments::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    if clearance::domain::signing::verify_body(secret.as_bytes(), signed, signature).is_err() {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let refused = |e: clearance::couriers::CourierError| {
        (StatusCode::BAD_REQUEST, e.to_string()).into_response()
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["waybills"]) => match serde_json::from_slice::<WaybillRequest>(&body) {
            Ok(req) => match st.couriers.create_waybill(&req).await {
                Ok(w) => Json(serde_json::json!({"waybill": w})).into_response(),
                Err(e) => refused(e),
            },
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        },
        ("POST", ["subscriptions"]) => {
            #[derive(Deserialize)]
            struct Reference {
                tenant: String,
                order: OrderId,
                parcel: u8,
            }
            #[derive(Deserialize)]
            struct Follow {
                carrier: clearance::domain::ids::CarrierId,
                waybill: clearance::domain::ids::Waybill,
                reference: Reference,
            }
            match serde_json::from_slice::<Follow>(&body) {
                Ok(f) => {
                    let sub = Subscription {
                        carrier: f.carrier,
                        waybill: f.waybill,
                        tenant: f.reference.tenant,
                        order: f.reference.order,
                        parcel: f.reference.parcel,
                    };
                    match st.couriers.subscribe(&sub).await {
                        Ok(()) => Json(serde_json::json!({"ok": true})).into_response(),
                        Err(e) => refused(e),
                    }
                }
                Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            }
        }
        ("GET", ["tracks", carrier, waybill]) => {
            let (Ok(c), Ok(w)) = (
                clearance::domain::ids::CarrierId::parse(carrier),
                clearance::domain::ids::Waybill::parse(waybill),
            ) else {
                return (StatusCode::BAD_REQUEST, "bad carrier or waybill").into_response();
            };
            match st.couriers.track(&c, &w).await {
                Ok(events) => Json(serde_json::json!({"events": events})).into_response(),
                Err(e) => refused(e),
            }
        }
        _ => (StatusCode::NOT_FOUND, "no such route").into_response(),
    }
}

/// The poster font, as a deployment puts it in its bucket (README, deploying).
pub const POSTER_FONT: &[u8] = include_bytes!("../../assets/fonts/poster-sc.ttf");

/// Puts what a deployment's bucket holds besides the functions' own writes: the poster
/// font under [`clearance::cases::posters::FONT_KEY`].
pub async fn install_assets(
    blobs: &dyn clearance::blobs::Blobs,
) -> Result<(), clearance::blobs::BlobError> {
    if !blobs.exists(clearance::cases::posters::FONT_KEY).await? {
        blobs
            .put(
                clearance::cases::posters::FONT_KEY,
                POSTER_FONT.to_vec(),
                "font/ttf",
            )
            .await?;
    }
    Ok(())
}

/// The local server's state: the sandbox payment provider and development secrets
/// (overridable with `PAYMENT_WEBHOOK_SECRET` and `SHARE_LINK_SECRET`).
pub fn local_state(
    db: clearance::db::Db,
    clock: Arc<dyn clearance::clock::Clock>,
    queue: Arc<dyn clearance::queue::Queue>,
    blobs: Arc<dyn clearance::blobs::Blobs>,
) -> (AppState, Arc<Sandbox>) {
    let env = |name: &str, default: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| default.to_owned())
            .into_bytes()
    };
    let sandbox = Arc::new(Sandbox::new(env(
        "PAYMENT_WEBHOOK_SECRET",
        "clearance-local-payments",
    )));
    let state = AppState {
        db,
        clock: clock.clone(),
        queue,
        blobs,
        payments: sandbox.clone(),
        secrets: Arc::new(clearance::app::Secrets {
            share_link: env("SHARE_LINK_SECRET", "clearance-local-share-links"),
            share_base: std::env::var("SHARE_LINK_BASE")
                .unwrap_or_else(|_| "https://m.clearance.example".into()),
        }),
        membership: Arc::new(clearance::membership::Sandbox::default()),
        couriers: Arc::new(clearance::couriers::Sandbox::new(
            env("COURIER_PUSH_SECRET", COURIER_SECRET),
            clock.clone(),
        )),
        phones: Arc::new(clearance::phones::PhoneVault::new(&env(
            "MEMBER_PHONE_KEY",
            clearance::phones::DEV_KEY,
        ))),
        pages: Default::default(),
    };
    (state, sandbox)
}

/// The sandbox pays an order in full, through the same signed-webhook path a real
/// provider uses: `POST /dev/orders/{order}/pay?tenant=brand/group`.
async fn dev_pay(
    State((st, sandbox)): State<(AppState, Arc<Sandbox>)>,
    Path(order): Path<String>,
    query: QueryParams,
) -> Result<Json<clearance::api::orders::NotifyResult>, Problem> {
    query.only(&["tenant"])?;
    let t = Tenant::parse_scoped(query.get("tenant").unwrap_or("demo/south-china"))
        .map_err(|e| Problem::invalid_parameter("tenant", e.to_string()))?;
    let id =
        OrderId::parse(&order).map_err(|e| Problem::invalid_parameter("order", e.to_string()))?;
    let current = st.db.order(&t, &id, true).await?;
    let (body, signature) = sandbox.notice_for(&current);
    let notice = st.payments.verify(&body, Some(&signature))?;
    clearance::api::orders::settle(&st, &t, &notice).await
}

/// The sandbox as a provider's refund API over HTTP (what `HttpRefundApi` calls in
/// production): `POST /dev/provider/refunds` (signed body), `GET
/// /dev/provider/refunds/{id}` (signed path).
async fn provider_refund(
    State(sandbox): State<Arc<Sandbox>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let signature = headers
        .get(clearance::payments::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    if clearance::domain::signing::verify_body(&sandbox.secret, &body, signature).is_err() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(call) = serde_json::from_slice::<clearance::payments::http::RefundCall>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    use clearance::payments::Payments;
    match sandbox
        .refund(&call.out_refund_no, &call.payment_ref, call.amount_fen)
        .await
    {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => (StatusCode::CONFLICT, e.to_string()).into_response(),
    }
}

async fn provider_refund_state(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let signature = headers
        .get(clearance::payments::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let path = format!("/refunds/{id}");
    if clearance::domain::signing::verify_body(&sandbox.secret, path.as_bytes(), signature).is_err()
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(id) = clearance::domain::ids::RefundId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    use clearance::payments::{Payments, RefundState};
    match sandbox.refund_state(&id).await {
        Ok(RefundState::Succeeded) => {
            Json(serde_json::json!({"status": "succeeded"})).into_response()
        }
        Ok(RefundState::Pending) => Json(serde_json::json!({"status": "pending"})).into_response(),
        Ok(RefundState::Failed(r)) => {
            Json(serde_json::json!({"status": "failed", "reason": r})).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
struct LinkQuery {
    expires: i64,
    signature: String,
}

/// Serves the local blob store the way S3 serves a presigned link: only with the
/// link's signature, only until it expires.
async fn blob_link(
    State(dir): State<Arc<DirBlobs>>,
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<LinkQuery>,
) -> Response {
    if !dir.verify_link(&key, q.expires, &q.signature, Utc::now().timestamp()) {
        return Problem::new(StatusCode::FORBIDDEN, "forbidden", "The link is not valid")
            .into_response();
    }
    use clearance::blobs::Blobs;
    match dir.get(&key).await {
        Ok(Some(bytes)) => {
            let kind = match key.rsplit_once('.').map(|(_, ext)| ext) {
                Some("html") => "text/html; charset=utf-8",
                Some("json") => "application/json",
                Some("csv") => "text/csv; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        _ => Problem::not_found("blob").into_response(),
    }
}

/// `/dev/blobs/{key}`: presigned links into the local blob store.
pub fn blob_links(dir: Arc<DirBlobs>) -> Router {
    Router::new()
        .route("/dev/blobs/{*key}", get(blob_link))
        .with_state(dir)
}

/// Runs a group's expiry now, as if its deadline had come (the worker does this at the
/// real deadline): `POST /dev/group-buys/{group_buy}/expire?tenant=brand/store-group`.
async fn dev_expire_group(
    State(st): State<AppState>,
    Path(group): Path<String>,
    query: QueryParams,
) -> Result<Json<serde_json::Value>, Problem> {
    query.only(&["tenant"])?;
    let t = Tenant::parse_scoped(query.get("tenant").unwrap_or("demo/south-china"))
        .map_err(|e| Problem::invalid_parameter("tenant", e.to_string()))?;
    let id = clearance::domain::ids::GroupBuyId::parse(&group)
        .map_err(|e| Problem::invalid_parameter("group_buy", e.to_string()))?;
    let (g, _) = st.db.group(&t, &id, true).await?;
    let at = g.expires_at.max(st.clock.now());
    // The worker's own case, with the clock at the deadline.
    st.settle_group(&t, &id, at, None).await?;
    let (g, _) = st.db.group(&t, &id, true).await?;
    Ok(Json(serde_json::json!({"group": g.id, "status": g.status})))
}

/// Closes a member's open return windows now, as if their days had passed (the member
/// worker does this when each window closes): `POST
/// /dev/members/{member}/release?brand=demo`. The points of every order whose window
/// would be closed by then become available, through the worker's own case.
async fn dev_release_points(
    State(st): State<AppState>,
    Path(member): Path<String>,
    query: QueryParams,
) -> Result<Json<serde_json::Value>, Problem> {
    query.only(&["brand"])?;
    let member = clearance::domain::ids::UserId::parse(&member)
        .map_err(|e| Problem::invalid_parameter("member", e.to_string()))?;
    let brand = clearance::domain::ids::BrandId::parse(query.get("brand").unwrap_or("demo"))
        .map_err(|e| Problem::invalid_parameter("brand", e.to_string()))?;
    // The first look at an order may only learn when its window closes (it reschedules
    // itself then): look again at each new time, a few times at most.
    let mut released = 0;
    let mut looked_at = None;
    for _ in 0..4 {
        let (account, _, _) = st.db.account(&member, &brand).await?;
        let last = account
            .orders
            .values()
            .filter(|o| !o.released)
            .filter_map(|o| o.check_at)
            .max();
        let Some(at) = last.filter(|at| Some(*at) != looked_at) else {
            break;
        };
        looked_at = Some(at);
        let entries = st
            .release_points(&member, &brand, at.max(st.clock.now()))
            .await?;
        released += entries.iter().map(|e| e.available).sum::<i64>();
    }
    let (account, _, _) = st.db.account(&member, &brand).await?;
    Ok(Json(serde_json::json!({
        "released": released,
        "pending": account.pending,
        "available": account.available,
    })))
}

/// Every function's routes (from the registry) over one state, plus `/dev/token`,
/// `/dev/orders/{order}/pay`, the sandbox provider's refund API and `/openapi.json`.
pub fn app(state: AppState, tokens: DevTokens, sandbox: Arc<Sandbox>) -> Router {
    let functions = api::finish(registry::all_routes(), state.clone());
    let dev = Router::new()
        .route("/dev/token", post(dev_token))
        .with_state(tokens.clone());
    let provider = Router::new()
        .route("/dev/provider/refunds", post(provider_refund))
        .route("/dev/provider/refunds/{id}", get(provider_refund_state))
        .with_state(sandbox.clone());
    let expire = Router::new()
        .route("/dev/group-buys/{group_buy}/expire", post(dev_expire_group))
        .with_state(state.clone());
    let release = Router::new()
        .route("/dev/members/{member}/release", post(dev_release_points))
        .with_state(state.clone());
    let couriers = Router::new()
        .route("/dev/couriers/advance", post(dev_courier_advance))
        .route(
            "/dev/couriers/api/{*rest}",
            get(courier_api).post(courier_api),
        )
        .with_state(state.clone());
    let pay = Router::new()
        .route("/dev/orders/{order}/pay", post(dev_pay))
        .with_state((state, sandbox));
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(dev)
        .merge(pay)
        .merge(expire)
        .merge(release)
        .merge(couriers)
        .merge(provider)
        .merge(functions)
        .layer(middleware::from_fn_with_state(tokens, authenticate))
}

/// Runs every queue consumer of the registry in this process, as the SQS-triggered
/// Lambdas would, and every scheduled sweep once a minute. A retryable failure is left
/// on the queue.
pub fn spawn_consumers(
    state: AppState,
    consumer: Arc<dyn QueueConsumer>,
) -> tokio::task::JoinHandle<()> {
    let sweeps = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            sweep_once(&sweeps).await;
        }
    });
    tokio::spawn(async move {
        loop {
            if !drain_once(&state, consumer.as_ref()).await {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    })
}

/// Runs every function's scheduled sweep once, as its EventBridge schedule would, after
/// the sandbox courier aggregator has pushed what its schedule has due.
pub async fn sweep_once(state: &AppState) {
    if let Err(e) = deliver_courier_pushes(state, state.clock.now()).await {
        tracing::warn!(error = ?e, "courier pushes failed");
    }
    for f in registry::FUNCTIONS {
        if let Some((_, sweep)) = f.sweeps {
            if let Err(e) = sweep(state.clone()).await {
                tracing::warn!(function = f.name, error = %e, "sweep failed");
            }
        }
    }
}

/// One pass over the queues the registry's functions consume (after relaying the
/// outbox's new events); whether anything was handled.
pub async fn drain_once(state: &AppState, consumer: &dyn QueueConsumer) -> bool {
    let mut busy = false;
    // No table stream here: relay the outbox's new events to their queues first, as
    // the stream's pipes would.
    match state.relay_new_events(state.clock.now()).await {
        Ok(n) => busy |= n > 0,
        Err(e) => tracing::warn!(error = %e, "relaying order events failed"),
    }
    consume_once(state, consumer).await || busy
}

/// One pass over the queues the registry's functions consume, relaying nothing (as
/// when the table's stream is down); whether any message was handled.
pub async fn consume_once(state: &AppState, consumer: &dyn QueueConsumer) -> bool {
    let mut busy = false;
    for f in registry::FUNCTIONS {
        let Some((queue, handle)) = f.consumes else {
            continue;
        };
        let messages = match consumer.receive(queue, 10).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "receive failed");
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        busy = true;
        // What to leave on the queue for a retry (by receipt); the rest is acked.
        let retry: Vec<String> = match handle {
            registry::Consumer::Each(handle) => {
                let mut retry = Vec::new();
                for m in &messages {
                    if let Err(e) = handle(state.clone(), m.body.clone()).await {
                        if e.retryable {
                            tracing::warn!(error = %e, "left for retry");
                            retry.push(m.receipt.clone());
                        }
                    }
                }
                retry
            }
            registry::Consumer::Batch(handle) => {
                let batch = messages
                    .iter()
                    .map(|m| (m.id.clone(), m.body.clone()))
                    .collect();
                handle(state.clone(), batch)
                    .await
                    .into_iter()
                    .filter(|(_, e)| e.retryable)
                    .filter_map(|(id, _)| {
                        messages
                            .iter()
                            .find(|m| m.id == id)
                            .map(|m| m.receipt.clone())
                    })
                    .collect()
            }
        };
        for m in &messages {
            if retry.contains(&m.receipt) {
                continue;
            }
            if let Err(e) = consumer.ack(queue, &m.receipt).await {
                tracing::warn!(error = %e, "ack failed");
            }
        }
    }
    busy
}
