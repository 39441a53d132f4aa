//! Helpers for the scenario and contract tests: the moto_server connection, fresh
//! tables, queues and buckets, the local app with tokens, and request shorthands.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

use clearance::app::AppState;
use clearance::blobs::local::DirBlobs;
use clearance::clock::ManualClock;
use clearance::db::Db;
use clearance::domain::auth::Role;
use clearance::queue::memory::MemoryQueue;
use clearance::table::counted::{Counted, Counts};
use clearance::table::memory::MemoryTable;
use clearance::table::Table;
use clearance_local::DevTokens;

pub mod build;
pub mod oracle;

pub use build::{coupon, listing};

/// The moto_server the test script started. Its absence is a failure, never a skip.
pub fn moto_endpoint() -> String {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "MOTO_ENDPOINT is not set: these tests need moto_server. Run `scripts/test`, \
             or start one yourself (`.venv/bin/moto_server -H 127.0.0.1 -p 5055`) and run \
             `MOTO_ENDPOINT=http://127.0.0.1:5055 cargo test`."
        ),
    }
}

pub async fn moto_sdk() -> aws_config::SdkConfig {
    clearance::aws::local_sdk_config(&moto_endpoint())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test in this run (or an earlier run on the same server) uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A fresh DynamoDB table on moto_server, created by the production adapter's code.
pub async fn moto_table() -> Arc<dyn Table> {
    let sdk = moto_sdk().await;
    let name = unique("clearance");
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    if let Err(e) = clearance::table::dynamo::create_table(&client, &name).await {
        panic!(
            "could not create a table on moto_server at {}: {e}",
            moto_endpoint()
        );
    }
    clearance::aws::table(&sdk, &name)
}

pub fn memory_table() -> Arc<dyn Table> {
    Arc::new(MemoryTable::new())
}

/// A test world: the local app over an in-memory store, a clock the test moves, call
/// counts, and a token minter.
pub struct World {
    pub app: Router,
    /// The queue the handlers send to, as its consumer sees it.
    pub queue: Arc<MemoryQueue>,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub counts: Arc<Counts>,
    pub tokens: DevTokens,
    /// The payment provider the handlers use: it keeps the refunds it paid.
    pub sandbox: Arc<clearance::payments::Sandbox>,
    pub blobs: Arc<DirBlobs>,
    /// The group's membership (CRM) the handlers use.
    pub crm: Arc<clearance::membership::Sandbox>,
    /// The courier aggregator the handlers use: it moves parcels along by the clock.
    pub couriers: Arc<clearance::couriers::Sandbox>,
}

/// The demo tenant's API root.
pub const BASE: &str = "/v1/demo/south-china";

/// The demo seed's stores (`clearance_local::seed`).
pub const STORES: [&str; 3] = ["gz-tianhe", "sz-futian", "fs-chancheng"];

/// The demo seed's guides, two per store, with their stores.
pub const GUIDES: [(&str, &str); 6] = [
    ("gz-tianhe-g1", "gz-tianhe"),
    ("gz-tianhe-g2", "gz-tianhe"),
    ("sz-futian-g1", "sz-futian"),
    ("sz-futian-g2", "sz-futian"),
    ("fs-chancheng-g1", "fs-chancheng"),
    ("fs-chancheng-g2", "fs-chancheng"),
];

pub const T0: &str = "2026-11-23T03:00:00Z"; // 11:00 in Shanghai: the morning slot

pub fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(T0)
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

impl World {
    pub async fn new(table: Arc<dyn Table>) -> World {
        let (counted, counts) = Counted::new(table);
        let clock = Arc::new(ManualClock::new(t0()));
        let dir = std::env::temp_dir().join(unique("clearance-blobs"));
        install_font(&dir);
        let blobs = Arc::new(DirBlobs::new(dir).served_at("/dev/blobs", "test-blob-links"));
        let queue = Arc::new(MemoryQueue::new());
        let (mut state, sandbox) = clearance_local::local_state(
            Db::new(Arc::new(counted)),
            clock.clone(),
            queue.clone(),
            blobs.clone(),
        );
        let crm = Arc::new(clearance::membership::Sandbox::default());
        state.membership = crm.clone();
        let couriers = Arc::new(clearance::couriers::Sandbox::new(
            clearance_local::COURIER_SECRET.as_bytes().to_vec(),
            clock.clone(),
        ));
        state.couriers = couriers.clone();
        let tokens = DevTokens::new("test-secret");
        let app = clearance_local::app(state.clone(), tokens.clone(), sandbox.clone())
            .merge(clearance_local::blob_links(blobs.clone()));
        World {
            app,
            queue,
            state,
            clock,
            counts,
            tokens,
            sandbox,
            blobs,
            crm,
            couriers,
        }
    }

    pub async fn memory() -> World {
        World::new(memory_table()).await
    }

    /// A memory world with the demo tenant seeded at [`T0`].
    pub async fn seeded() -> World {
        let w = World::memory().await;
        if let Err(e) = clearance_local::seed::seed_demo(&w.state.db, t0()).await {
            panic!("seeding the demo tenant failed: {e}");
        }
        w
    }

    pub fn token(&self, role: Role, tenants: &[&str]) -> String {
        self.tokens
            .mint("u-test", role, tenants)
            .unwrap_or_else(|p| panic!("mint failed: {p:?}"))
    }

    pub fn ops(&self) -> String {
        self.token(Role::Ops, &["demo/south-china"])
    }

    /// Serves the same routes over another state (a failing queue, another clock).
    pub fn rebuild(&mut self, state: AppState) {
        self.app = clearance_local::app(state.clone(), self.tokens.clone(), self.sandbox.clone())
            .merge(clearance_local::blob_links(self.blobs.clone()));
        self.state = state;
    }

    /// A share token of `guide` (of `store`) for `campaign`, valid a week from the clock.
    pub fn share_token(&self, guide: &str, store: &str, campaign: &str) -> String {
        self.share_token_valid_for(guide, store, campaign, chrono::Duration::days(7))
    }

    /// A share link signed now that expires after `valid`.
    pub fn share_token_valid_for(
        &self,
        guide: &str,
        store: &str,
        campaign: &str,
        valid: chrono::Duration,
    ) -> String {
        let now = clearance::clock::Clock::now(self.clock.as_ref());
        let claims = clearance::domain::attribution::ShareClaims {
            tenant: clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}")),
            guide: clearance::domain::ids::GuideId::parse(guide).unwrap_or_else(|e| panic!("{e}")),
            store: clearance::domain::ids::StoreId::parse(store).unwrap_or_else(|e| panic!("{e}")),
            campaign: clearance::domain::ids::CampaignId::parse(campaign)
                .unwrap_or_else(|e| panic!("{e}")),
            target: None,
            issued_at: now,
            expires_at: now + valid,
        };
        clearance::domain::attribution::sign_share(&self.state.secrets.share_link, &claims)
    }

    /// A buyer's token.
    /// A buyer's token whose identity provider verified `phone`.
    pub fn buyer_with_phone(&self, sub: &str, phone: &str) -> String {
        self.tokens
            .mint_with_phone(sub, Role::Consumer, &[], Some(phone))
            .unwrap_or_else(|p| panic!("mint failed: {p:?}"))
    }

    pub fn buyer(&self, sub: &str) -> String {
        self.tokens
            .mint(sub, Role::Consumer, &[])
            .unwrap_or_else(|p| panic!("mint failed: {p:?}"))
    }

    /// A store manager's token for the demo tenant (a clerk when a store lists them).
    pub fn clerk(&self, sub: &str) -> String {
        self.tokens
            .mint(sub, Role::StoreManager, &["demo/south-china"])
            .unwrap_or_else(|p| panic!("mint failed: {p:?}"))
    }

    /// `POST {BASE}/orders` as `buyer` with an `Idempotency-Key`.
    pub async fn place(&self, buyer: &str, key: &str, body: &Value) -> Resp {
        self.post_keyed(&format!("{BASE}/orders"), &self.buyer(buyer), key, body)
            .await
    }

    /// `POST path` as the holder of `token`, with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: &Value) -> Resp {
        let mut req = request("POST", path, Some(token), Some(body.to_string()));
        req.headers_mut().insert(
            "idempotency-key",
            key.parse().unwrap_or_else(|e| panic!("bad key: {e}")),
        );
        self.send(req).await
    }

    /// Pays an order through the sandbox's signed webhook.
    pub async fn pay(&self, order: &str) -> Resp {
        self.json(
            "POST",
            &format!("/dev/orders/{order}/pay"),
            None,
            &Value::Null,
        )
        .await
    }

    /// An operator closes a campaign with no grace for open groups (202 asserted); the
    /// close's steps wait on the queue.
    pub async fn close_now(&self, campaign: &str) {
        let r = self
            .json(
                "POST",
                &format!("{BASE}/campaigns/{campaign}/close"),
                Some(&self.ops()),
                &serde_json::json!({"grace_minutes": 0}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }

    /// A buyer's order as they see it (200 asserted).
    pub async fn read_order(&self, buyer: &str, id: &str) -> Value {
        self.read_order_as(&self.buyer(buyer), id).await
    }

    /// An order as the holder of `token` sees it (200 asserted).
    pub async fn read_order_as(&self, token: &str, id: &str) -> Value {
        let r = self.get(&format!("{BASE}/orders/{id}"), Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// Places `body` for `token`'s buyer, pays it, lets it be dispatched and has every
    /// parcel collected (each step asserted); the order's id.
    pub async fn picked_up_order(&self, token: &str, key: &str, body: &Value) -> String {
        let placed = self
            .post_keyed(&format!("{BASE}/orders"), token, key, body)
            .await;
        assert_eq!(placed.status, 201, "{}", placed.body);
        let id = placed.body["order"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(self.pay(&id).await.body["status"], "paid");
        self.drain().await;
        self.pick_up_as(token, &id).await;
        let o = self.read_order_as(token, &id).await;
        assert_eq!(o["status"], "picked_up", "{o}");
        id
    }

    /// The clerk of each parcel's store hands it over with its pickup code.
    pub async fn pick_up(&self, buyer: &str, id: &str) {
        self.pick_up_as(&self.buyer(buyer), id).await;
    }

    /// [`World::pick_up`] for an order read with `token`.
    pub async fn pick_up_as(&self, token: &str, id: &str) {
        let o = self.read_order_as(token, id).await;
        for p in o["parcels"].as_array().into_iter().flatten() {
            let store = p["store"].as_str().unwrap_or_default();
            let r = self
                .json(
                    "POST",
                    &format!("{BASE}/orders/{id}/pickup"),
                    Some(&self.clerk(&format!("clerk-{store}"))),
                    &serde_json::json!({"code": p["pickup_code"], "parcel": p["id"]}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }

    /// A campaign's published report as JSON, read through the API and its presigned
    /// link (200s asserted).
    pub async fn published_report(&self, campaign: &str) -> Value {
        let r = self
            .get(
                &format!("{BASE}/campaigns/{campaign}/report"),
                Some(&self.ops()),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let url = r.body["links"]["json"]
            .as_str()
            .unwrap_or_else(|| panic!("no report yet: {}", r.body))
            .to_owned();
        let file = self.send(request("GET", &url, None, None)).await;
        assert_eq!(file.status, 200, "{}", file.text);
        file.body
    }

    /// Runs the in-process consumers until the queues are empty.
    pub async fn drain(&self) {
        while clearance_local::drain_once(&self.state, self.queue.as_ref()).await {}
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        respond(self.app.clone(), req).await
    }

    /// Sends every request at once, each on its own task (a race), and answers them in
    /// the order given.
    pub async fn at_once(&self, reqs: Vec<Request<Body>>) -> Vec<Resp> {
        let tasks: Vec<_> = reqs
            .into_iter()
            .map(|req| tokio::spawn(respond(self.app.clone(), req)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(
                t.await
                    .unwrap_or_else(|e| panic!("a request's task failed: {e}")),
            );
        }
        out
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(request("GET", path, token, None)).await
    }

    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(request(method, path, token, Some(body.to_string())))
            .await
    }
}

/// One request through the app, its answer read whole.
async fn respond(app: Router, req: Request<Body>) -> Resp {
    let res = app.oneshot(req).await.unwrap_or_else(|e| match e {});
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let headers = res.headers().clone();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        content_type,
        body,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

pub fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    b.body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap_or_else(|e| panic!("bad test request: {e}"))
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    /// The body as text (for pages that are not JSON).
    pub text: String,
    pub headers: axum::http::HeaderMap,
}

impl Resp {
    /// Asserts this is a problem document with `status` and `slug`, and returns its field.
    pub fn problem(&self, status: u16, slug: &str) -> Option<String> {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            self.body
        );
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        let kind = self.body["type"].as_str().unwrap_or_default();
        assert!(
            kind.ends_with(&format!("/{slug}")),
            "expected problem {slug}, got {}",
            self.body
        );
        self.body["field"].as_str().map(str::to_owned)
    }
}

/// Units of one size a listing has on sale now, over all its stock shards.
pub async fn shard_units(w: &World, campaign: &str, sku: &str, size: &str) -> i64 {
    let t = clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}"));
    let p = w
        .state
        .db
        .product(
            &t,
            &clearance::domain::ids::CampaignId::parse(campaign).unwrap_or_else(|e| panic!("{e}")),
            &clearance::domain::ids::Sku::parse(sku).unwrap_or_else(|e| panic!("{e}")),
        )
        .await
        .unwrap_or_else(|e| panic!("reading {campaign}/{sku}: {e}"));
    let size = clearance::domain::ids::Size::parse(size).unwrap_or_else(|e| panic!("{e}"));
    p.units.get(&size).map_or(0, |u| i64::from(*u))
}

/// Units of one size a store holds of a listing (its store stock count; 0 when none).
pub async fn store_units(w: &World, campaign: &str, sku: &str, store: &str, size: &str) -> i64 {
    let t = clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}"));
    let pk = clearance::table::keys::campaign_pk(
        &t,
        &clearance::domain::ids::CampaignId::parse(campaign).unwrap_or_else(|e| panic!("{e}")),
    );
    let sk = clearance::table::keys::store_stock_sk(
        &clearance::domain::ids::Sku::parse(sku).unwrap_or_else(|e| panic!("{e}")),
    );
    let item = w
        .state
        .db
        .table()
        .get(&clearance::table::Key::new(pk, sk), true)
        .await
        .unwrap_or_else(|e| panic!("reading the store stock of {sku}: {e}"))
        .unwrap_or_else(|| panic!("{campaign}/{sku} has no store stock item"));
    let v = serde_dynamo::from_item::<_, Value>(item)
        .unwrap_or_else(|e| panic!("store stock of {sku} unreadable: {e}"));
    v["units"][store][size].as_i64().unwrap_or(0)
}

/// Switches the demo campaign to the binding rule, buyers kept `days` (directly: it is
/// live, no longer editable through the API).
pub async fn binding_rule(w: &World, days: u32) {
    let t = clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}"));
    let id = clearance::domain::ids::CampaignId::parse(clearance_local::seed::CAMPAIGN)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = w
        .state
        .db
        .campaign(&t, &id, true)
        .await
        .unwrap_or_else(|e| panic!("reading the demo campaign: {e}"));
    let version = c.version;
    c.attribution.rule = clearance::domain::attribution::Rule::Binding;
    c.attribution.protection_days = days;
    c.version += 1;
    w.state
        .db
        .replace_campaign(&t, &c, version)
        .await
        .unwrap_or_else(|e| panic!("switching the demo campaign to binding: {e}"));
}

/// A small deterministic generator, so a failing generated case can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn draw(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.draw() % n.max(1)
    }
}

/// The text of the QR code in a PNG, read as a phone's camera would (`rqrr`).
pub fn qr_text(png: &[u8]) -> Option<String> {
    let p = tiny_skia::Pixmap::decode_png(png).ok()?;
    let (w, h) = (p.width() as usize, p.height() as usize);
    let grey: Vec<u8> = p
        .pixels()
        .iter()
        .map(|c| ((u16::from(c.red()) + u16::from(c.green()) + u16::from(c.blue())) / 3) as u8)
        .collect();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = img.detect_grids();
    grids.first()?.decode().ok().map(|(_, text)| text)
}

/// Puts the poster font in a world's bucket (directory) as a deployment does: a hard
/// link to one copy per process, since worlds are many and the font a megabyte.
fn install_font(bucket: &std::path::Path) {
    static COPY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let copy = COPY.get_or_init(|| {
        let p = std::env::temp_dir().join(unique("poster-font"));
        std::fs::write(&p, clearance_local::POSTER_FONT)
            .unwrap_or_else(|e| panic!("writing the poster font to {}: {e}", p.display()));
        p
    });
    let dst = bucket.join(clearance::cases::posters::FONT_KEY);
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    if std::fs::hard_link(copy, &dst).is_err() {
        std::fs::write(&dst, clearance_local::POSTER_FONT)
            .unwrap_or_else(|e| panic!("writing the poster font to {}: {e}", dst.display()));
    }
}
