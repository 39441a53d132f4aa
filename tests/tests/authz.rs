//! The authorization matrix: every route of the OpenAPI document, called by every kind
//! of caller (nobody, the buyer who owns the object, another buyer, a guide, the clerk
//! of the store concerned and of another store, ops and hq of the tenant, ops of another
//! tenant). Only the cells the policy allows get past authorization; every other cell is
//! 401, 403 or 404 and leaves the table exactly as it was. The matrix is printed (and
//! kept in the README).

use clearance::domain::auth::Role;
use clearance::table::memory::MemoryTable;
use clearance_tests::{request, World, BASE};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Buyer,
    OtherBuyer,
    Guide,
    Clerk,
    OtherClerk,
    Ops,
    Hq,
    OtherTenantOps,
}

const EVERYONE: [Who; 9] = [
    Who::Anonymous,
    Who::Buyer,
    Who::OtherBuyer,
    Who::Guide,
    Who::Clerk,
    Who::OtherClerk,
    Who::Ops,
    Who::Hq,
    Who::OtherTenantOps,
];

impl Who {
    fn short(self) -> &'static str {
        match self {
            Who::Anonymous => "anon",
            Who::Buyer => "buyer",
            Who::OtherBuyer => "other buyer",
            Who::Guide => "guide",
            Who::Clerk => "clerk",
            Who::OtherClerk => "other clerk",
            Who::Ops => "ops",
            Who::Hq => "hq",
            Who::OtherTenantOps => "other tenant",
        }
    }
}

/// The objects every route is called on: buyer-1's order (picked up at the clerk's
/// store, its return asked), buyer-1's group buy, the guide of the clerk's store.
struct Objects {
    order: String,
    /// buyer-1's try-on visit at the clerk's store.
    visit: String,
    refund: String,
    group: String,
    store: String,
    other_store: String,
}

async fn world() -> (World, Arc<MemoryTable>, Objects) {
    let table = Arc::new(MemoryTable::new());
    let w = World::new(table.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    let link = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1001", "size": "37", "quantity": 1}],
        "coupon": "none", "share_token": link});
    let placed = w.place("buyer-1", "authz-order", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&order).await;
    w.drain().await;
    let o = w
        .get(&format!("{BASE}/orders/{order}"), Some(&w.buyer("buyer-1")))
        .await;
    let store = o.body["parcels"][0]["store"].as_str().unwrap().to_owned();
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{order}/pickup"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"code": o.body["parcels"][0]["pickup_code"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refund = w
        .post_keyed(
            &format!("{BASE}/orders/{order}/refunds"),
            &w.buyer("buyer-1"),
            "authz-return",
            &json!({"lines": [{"sku": "SD-1001", "size": "37", "quantity": 1}], "reason": "wrong_size",
                "condition": {"unworn": true, "tags_on": true, "original_box": true}}),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let seat = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1003", "size": "38", "quantity": 1}], "coupon": "none"});
    let group = w
        .post_keyed(
            &format!("{BASE}/campaigns/summer-clearance/group-buys"),
            &w.buyer("buyer-1"),
            "authz-group",
            &seat,
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    // buyer-1's try-on of a pair the clerk's store still holds, in the 11:00 slot
    let mut visit = None;
    'pairs: for sku in ["SD-1001", "SD-1002", "SD-1003", "SD-1004"] {
        for size in ["36", "37", "38", "39"] {
            if clearance_tests::store_units(&w, "summer-clearance", sku, &store, size).await < 1 {
                continue;
            }
            let r = w
                .json(
                    "POST",
                    &format!("{BASE}/campaigns/summer-clearance/visits"),
                    Some(&w.buyer("buyer-1")),
                    &json!({"store": store, "date": "2026-11-23", "start": "11:00",
                        "items": [{"sku": sku, "size": size}]}),
                )
                .await;
            if r.status == 201 {
                visit = r.body["id"].as_str().map(str::to_owned);
                break 'pairs;
            }
        }
    }
    let visit = visit.expect("a try-on at the clerk's store");
    let other_store = clearance_tests::STORES
        .into_iter()
        .find(|s| *s != store)
        .unwrap()
        .to_owned();
    let objects = Objects {
        order,
        visit,
        refund: refund.body["id"].as_str().unwrap().to_owned(),
        group: group.body["order"]["group_buy"]
            .as_str()
            .unwrap()
            .to_owned(),
        store,
        other_store,
    };
    (w, table, objects)
}

fn token(w: &World, who: Who, o: &Objects) -> Option<String> {
    let own = ["demo/south-china"];
    Some(match who {
        Who::Anonymous => return None,
        Who::Buyer => w.buyer("buyer-1"),
        Who::OtherBuyer => w.buyer("buyer-9"),
        Who::Guide => w
            .tokens
            .mint("guide-gz-tianhe-g1", Role::Guide, &own)
            .unwrap(),
        Who::Clerk => w.clerk(&format!("clerk-{}", o.store)),
        Who::OtherClerk => w.clerk(&format!("clerk-{}", o.other_store)),
        Who::Ops => w.ops(),
        Who::Hq => w.tokens.mint("hq-1", Role::Hq, &own).unwrap(),
        Who::OtherTenantOps => w
            .tokens
            .mint("ops-9", Role::Ops, &["demo/north-china"])
            .unwrap(),
    })
}

/// A body that is valid enough for each route (authorization is decided before it).
fn body(method: &str, path: &str) -> Option<Value> {
    let cart = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}], "coupon": "none"});
    let seat = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1003", "size": "38", "quantity": 1}], "coupon": "none"});
    Some(match (method, path) {
        ("GET", _) => return None,
        ("POST", "/v1/{brand}/{store_group}/campaigns") => json!({"id": "matrix", "name": "Matrix",
            "starts_at": "2027-01-10T00:00:00Z", "ends_at": "2027-01-12T00:00:00Z", "slots": [],
            "categories": [{"id": "shoes", "name": "Shoes"}], "stores": ["gz-tianhe"]}),
        ("PUT", "/v1/{brand}/{store_group}/campaigns/{campaign}") => json!({"name": "Renamed",
            "starts_at": "2027-01-10T00:00:00Z", "ends_at": "2027-01-12T00:00:00Z", "slots": [],
            "categories": [{"id": "shoes", "name": "Shoes"}], "stores": ["gz-tianhe"]}),
        ("PUT", p) if p.ends_with("/slots") => json!({"slots": []}),
        ("PUT", p) if p.contains("/listings/") => json!({"name": "x", "category": "sandals",
            "sizes": ["38"], "list_price_fen": 100, "clearance_price_fen": 90,
            "stock": [{"store": "gz-tianhe", "size": "38", "units": 1}]}),
        ("PUT", p) if p.contains("/coupons/") => {
            json!({"name": "10 off", "off_fen": 1000, "min_spend_fen": 0, "budget": 10})
        }
        ("PUT", p) if p.contains("/stores/") => json!({"name": "Store", "city": "Guangzhou",
            "address": "1 Road", "phone": "020-1234567"}),
        ("PUT", p) if p.contains("/guides/") => {
            json!({"name": "Guide", "store": "gz-tianhe", "user": "guide-new"})
        }
        ("POST", p) if p.ends_with("/orders") || p.ends_with("/preview") => cart,
        ("POST", p) if p.ends_with("/group-buys") || p.ends_with("/join") => seat,
        ("POST", p) if p.ends_with("/pickup") => json!({"code": "000000"}),
        ("POST", p) if p.ends_with("/handover") => json!({"carrier": "sf"}),
        ("POST", p) if p.ends_with("/lost") => json!({"note": "the carrier lost it"}),
        ("PUT", p) if p.contains("/assist-offers/") => json!({"name": "x", "helpers": 2,
            "hours": 24, "pack": ["no-threshold-20"], "budget": 10}),
        ("POST", p) if p.ends_with("/help") => json!({"link": "x.00"}),
        ("POST", p) if p.ends_with("/refunds") => {
            json!({"lines": [{"sku": "SD-1001", "size": "37", "quantity": 1}],
            "reason": "wrong_size", "condition": {"unworn": true, "tags_on": true, "original_box": true}})
        }
        ("POST", p) if p.ends_with("/decision") => json!({"approve": true}),
        ("POST", p) if p.ends_with("/receive") => {
            json!({"units": [{"line": 0, "resaleable": 1, "damaged": 0}]})
        }
        ("POST", p) if p.ends_with("/share-links") => json!({"campaign": "summer-clearance"}),
        ("POST", p) if p.ends_with("/posters") => {
            json!({"campaign": "summer-clearance", "sku": "SD-1001"})
        }
        ("PUT", p) if p.ends_with("/poster-copy") => json!({"lines": ["¥{price}"], "version": 0}),
        ("PUT", p) if p.ends_with("/appointment") => {
            json!({"date": "2026-11-23", "start": "12:00"})
        }
        ("POST", p) if p.ends_with("/visits") => json!({"store": "gz-tianhe", "date": "2026-11-23",
            "start": "12:00", "items": [{"sku": "SD-1001", "size": "36"}]}),
        ("POST", p) if p.ends_with("/check-in") => {
            json!({"code": "000000", "guide": "gz-tianhe-g1"})
        }
        ("POST", p) if p.ends_with("/close") => json!({"grace_minutes": 0}),
        ("POST", p) if p.contains("/payments/") => json!({"tenant": "demo/south-china"}),
        _ => json!({}),
    })
}

/// Who the policy lets through each route.
fn allowed(method: &str, path: &str) -> Vec<Who> {
    use Who::*;
    let manage = vec![Ops, Hq];
    let staff = vec![Guide, Clerk, OtherClerk, Ops, Hq];
    let signed_in: Vec<Who> = EVERYONE.into_iter().filter(|w| *w != Anonymous).collect();
    let p = path.trim_start_matches("/v1/{brand}/{store_group}");
    match (method, p) {
        // public
        ("GET", "/campaigns")
        | ("GET", "/campaigns/{campaign}/products")
        | ("GET", "/campaigns/{campaign}/products/{sku}")
        | ("GET", "/campaigns/{campaign}/search")
        | ("GET", "/campaigns/{campaign}/stores")
        | ("GET", "/campaigns/{campaign}/group-buys")
        | ("GET", "/group-buys/{group_buy}") => EVERYONE.to_vec(),
        // the provider's signed notices: no token is a signature
        (_, "/v1/payments/notify")
        | (_, "/v1/payments/refund-notify")
        | (_, "/v1/couriers/notify") => vec![],
        // a signed-in person's own lists
        ("GET", "/v1/me/orders")
        | ("GET", "/v1/me/coupons")
        | ("GET", "/v1/me/group-buys")
        | ("GET", "/v1/me")
        | ("GET", "/v1/me/points")
        | ("PUT", "/v1/me/follows")
        | ("GET", "/v1/me/home")
        | ("GET", "/v1/me/assists")
        | ("GET", "/campaigns/{campaign}/assist-offers")
        | ("GET", "/campaigns/{campaign}/search/mine")
        | ("GET", "/campaigns/{campaign}/products/{sku}/size-advice") => signed_in,
        // binding a phone takes one the identity provider verified: none of these
        // tokens carries one (members.rs binds with one)
        ("POST", "/v1/me/phone") => vec![],
        // starting or giving an assist takes a verified phone: none of these tokens
        // carries one (assists.rs assists with them)
        ("POST", "/campaigns/{campaign}/assist-offers/{offer}/assists")
        | ("POST", "/assists/{assist}/help") => vec![],
        // an assist's page: anyone signed in (the placeholder assist does not exist)
        ("GET", "/assists/{assist}") => vec![],
        // buying
        ("POST", "/orders")
        | ("POST", "/orders/preview")
        | ("POST", "/campaigns/{campaign}/coupons/{template}/claim")
        | ("POST", "/campaigns/{campaign}/group-buys")
        | ("POST", "/group-buys/{group_buy}/join") => signed_in,
        // the buyer's own order and refund, and the tenant's staff
        ("GET", "/orders/{order}")
        | ("GET", "/orders/{order}/refunds")
        | ("GET", "/refunds/{refund}") => {
            vec![Buyer, Guide, Clerk, OtherClerk, Ops, Hq]
        }
        ("POST", "/orders/{order}/refunds")
        | ("PUT", "/orders/{order}/parcels/{parcel}/appointment")
        | ("DELETE", "/orders/{order}/parcels/{parcel}/appointment") => vec![Buyer],
        // a try-on visit: anyone signed in books their own; only its buyer reads or
        // cancels it (nobody else has one: 404)
        ("POST", "/campaigns/{campaign}/visits") => signed_in,
        ("GET", "/campaigns/{campaign}/visit") | ("DELETE", "/campaigns/{campaign}/visit") => {
            vec![Buyer]
        }
        // checking a visitor in: the clerks of the visit's store, and its guide (the
        // matrix's guide works at gz-tianhe)
        ("POST", "/stores/{store}/visits/{visit}/check-in") => vec![Clerk, Guide],
        // a store's day of pickup bookings: its clerks, and staff over every store
        ("GET", "/stores/{store}/appointments") => vec![Clerk, Ops, Hq],
        // the counter: the clerk of the store holding the parcel / the return
        ("POST", "/orders/{order}/pickup")
        | ("POST", "/refunds/{refund}/receive")
        | ("POST", "/orders/{order}/parcels/{parcel}/pack")
        | ("POST", "/orders/{order}/parcels/{parcel}/handover")
        | ("POST", "/orders/{order}/parcels/{parcel}/returned") => vec![Clerk],
        // a parcel's track: its buyer, staff over every store, its store's clerks
        ("GET", "/orders/{order}/parcels/{parcel}/track") => vec![Buyer, Clerk, Ops, Hq],
        // a parcel lost by its carrier: operators
        ("POST", "/orders/{order}/parcels/{parcel}/lost") => manage.clone(),
        ("POST", "/refunds/{refund}/decision") | ("POST", "/refunds/{refund}/retry") => {
            vec![Clerk, Ops, Hq]
        }
        // a guide's own: the guide, their store's manager, ops and hq
        ("POST", "/guides/{guide}/share-links")
        | ("POST", "/guides/{guide}/posters")
        | ("GET", "/guides/{guide}/performance")
        | ("GET", "/guides/{guide}/orders") => vec![Guide, Clerk, Ops, Hq],
        // operators
        ("POST", "/campaigns")
        | ("PUT", "/campaigns/{campaign}")
        | ("PUT", "/campaigns/{campaign}/slots")
        | ("PUT", "/campaigns/{campaign}/listings/{sku}")
        | ("PUT", "/campaigns/{campaign}/coupons/{template}")
        | ("POST", "/campaigns/{campaign}/publish")
        | ("POST", "/campaigns/{campaign}/close")
        | ("PUT", "/stores/{store}")
        | ("PUT", "/guides/{guide}")
        | ("PUT", "/search-terms")
        | ("PUT", "/poster-copy")
        | ("PUT", "/campaigns/{campaign}/assist-offers/{offer}")
        | ("GET", "/members/{member}")
        | ("POST", "/members/{member}/points") => manage,
        // the brand's own settings need a token over the whole brand: none of these
        // (hq here holds demo/south-china only; members.rs sets terms as hq over "*")
        ("PUT", "/member-terms") => vec![],
        // the tenant's staff
        ("GET", _) => staff,
        other => panic!("no policy stated for {other:?}"),
    }
}

fn fill(path: &str, o: &Objects) -> String {
    path.replace("{brand}", "demo")
        .replace("{store_group}", "south-china")
        .replace("{campaign}", "summer-clearance")
        .replace("{sku}", "SD-1001")
        .replace("{template}", "over-500-50")
        .replace("{group_buy}", &o.group)
        .replace("{guide}", "gz-tianhe-g1")
        .replace("{store}", &o.store)
        .replace("{order}", &o.order)
        .replace("{refund}", &o.refund)
        .replace("{member}", "buyer-1")
        .replace("{parcel}", "1")
        .replace("{offer}", "three-friends")
        .replace("{assist}", "A01JDEMOASSIST0000000000000")
        .replace("{visit}", &o.visit)
        + match path {
            p if p.ends_with("/performance") => "?campaign=summer-clearance",
            p if p.ends_with("/campaigns/{campaign}/group-buys") => "?sku=SD-1003",
            p if p.ends_with("/{store_group}/orders") => "?status=needs_attention",
            p if p.ends_with("/{store_group}/refunds") => "?status=pending_review",
            "/v1/me/points" => "?brand=demo",
            _ => "",
        }
}

#[tokio::test]
async fn every_route_lets_through_only_the_callers_its_policy_names() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/openapi.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete"].contains(&method.as_str()) {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(routes.len() >= 40, "{} routes", routes.len());
    let mut matrix: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (method, path) in &routes {
        let policy = allowed(method, path);
        let mut row = Vec::new();
        for who in EVERYONE {
            // a fresh world per cell: an allowed call must not change the next one
            let (w, table, objects) = world().await;
            if path.ends_with("/report") {
                // a report exists once the campaign is closed
                w.close_now("summer-clearance").await;
                w.drain().await;
            }
            let before = table.snapshot();
            let mut req = request(
                method,
                &fill(path, &objects),
                token(&w, who, &objects).as_deref(),
                body(method, path).map(|b| b.to_string()),
            );
            req.headers_mut()
                .insert("idempotency-key", "matrix-1".parse().unwrap());
            let r = w.send(req).await;
            let code = r.status.as_u16();
            let refused = matches!(code, 401 | 403 | 404);
            let expected = policy.contains(&who);
            row.push(format!("{code}"));
            if expected == refused {
                wrong.push(format!(
                    "{method} {path} as {}: {code} {} (policy: {})",
                    who.short(),
                    r.text,
                    if expected { "allowed" } else { "refused" }
                ));
            }
            if !expected {
                assert!(code < 500, "{method} {path} as {}: {code}", who.short());
                assert!(
                    table.snapshot() == before,
                    "{method} {path} as {}: refused ({code}) but wrote",
                    who.short()
                );
            }
        }
        matrix.insert((path.clone(), method.clone()), row);
    }
    // the matrix, as the README keeps it
    let header: Vec<&str> = EVERYONE.iter().map(|w| w.short()).collect();
    println!("| route | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(header.len()));
    for ((path, method), row) in &matrix {
        let p = path.trim_start_matches("/v1/{brand}/{store_group}");
        println!("| `{method} {p}` | {} |", row.join(" | "));
    }
    assert!(
        wrong.is_empty(),
        "{} cells disagree with the policy:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
