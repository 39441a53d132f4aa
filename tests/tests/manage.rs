//! `manage-campaign` over HTTP: the operator's flow, who may do it, and bad input.

use axum::body::Body;
use axum::http::Request;
use clearance::domain::auth::Role;
use clearance_tests::{World, T0};
use serde_json::{json, Value};

const BASE: &str = "/v1/demo/south-china";

fn campaign_body(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Winter clearance",
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2026-12-05T00:00:00+08:00",
        "slots": [{"id": "morning", "starts": "10:00", "ends": "16:00"}, {"id": "night", "starts": "20:00", "ends": "10:00"}],
        "categories": [{"id": "boots", "name": "Boots"}],
        "stores": ["gz-tianhe"]
    })
}

fn listing_body() -> Value {
    json!({
        "name": "Chelsea boot",
        "category": "boots",
        "sizes": ["38", "39"],
        "list_price_fen": 99900,
        "clearance_price_fen": 49900,
        "slot_prices_fen": {"morning": 45900},
        "group_buy": {"price_fen": 42900},
        "stock": [{"store": "gz-tianhe", "size": "38", "units": 4}, {"store": "gz-tianhe", "size": "39", "units": 1}],
        "shards": 2
    })
}

#[tokio::test]
async fn an_operator_creates_stocks_and_publishes_a_campaign_that_buyers_then_see() {
    // given the demo tenant and an ops token
    let w = World::seeded().await;
    let ops = w.ops();
    // when ops create a campaign, a listing and a coupon, then publish
    let created = w
        .json(
            "POST",
            &format!("{BASE}/campaigns"),
            Some(&ops),
            &campaign_body("winter"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["time_zone"], "Asia/Shanghai");
    let listing = w
        .json(
            "PUT",
            &format!("{BASE}/campaigns/winter/listings/BT-3001"),
            Some(&ops),
            &listing_body(),
        )
        .await;
    assert_eq!(listing.status, 200, "{}", listing.body);
    assert_eq!(listing.body["group_buy"]["size"], 3);
    let coupon =
        json!({"name": "50 off over 500", "off_fen": 5000, "min_spend_fen": 50000, "budget": 100});
    let c = w
        .json(
            "PUT",
            &format!("{BASE}/campaigns/winter/coupons/over-500-50"),
            Some(&ops),
            &coupon,
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let published = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/winter/publish"),
            Some(&ops),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.body["status"], "scheduled");
    // then buyers see it, with the listing's stock, once it is live
    w.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-02T03:00:00Z")
            .unwrap()
            .into(),
    );
    let page = w
        .get(&format!("{BASE}/campaigns/winter/products"), None)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["campaign"]["status"], "live");
    let p = &page.body["products"][0];
    assert_eq!(p["sku"], "BT-3001");
    assert_eq!(
        p["price_fen"], 45900,
        "11:00 in Shanghai is the morning slot"
    );
    assert_eq!(p["sizes"][0]["stock"], "low");
    assert_eq!(p["sizes"][1]["stock"], "low");
    // and a live campaign can no longer be edited
    let late = w
        .json(
            "PUT",
            &format!("{BASE}/campaigns/winter/listings/BT-3001"),
            Some(&ops),
            &listing_body(),
        )
        .await;
    late.problem(409, "campaign-not-editable");
}

#[tokio::test]
async fn publishing_an_incomplete_campaign_is_refused_and_changes_nothing() {
    let w = World::seeded().await;
    let ops = w.ops();
    let mut body = campaign_body("bare");
    body["stores"] = json!([]);
    assert_eq!(
        w.json("POST", &format!("{BASE}/campaigns"), Some(&ops), &body)
            .await
            .status,
        201
    );
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/bare/publish"),
            Some(&ops),
            &json!({}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation-error").as_deref(),
        Some("stores")
    );
    let after = w.get(&format!("{BASE}/campaigns/bare"), Some(&ops)).await;
    assert_eq!(after.body["status"], "draft");
    assert_eq!(after.body["version"], 1);
}

#[tokio::test]
async fn a_listing_refused_for_bad_stock_leaves_nothing_written() {
    let w = World::seeded().await;
    let ops = w.ops();
    w.json(
        "POST",
        &format!("{BASE}/campaigns"),
        Some(&ops),
        &campaign_body("winter"),
    )
    .await;
    let mut bad = listing_body();
    bad["stock"][1]["store"] = json!("sz-futian"); // not a store of this campaign
    let r = w
        .json(
            "PUT",
            &format!("{BASE}/campaigns/winter/listings/BT-3001"),
            Some(&ops),
            &bad,
        )
        .await;
    assert_eq!(
        r.problem(422, "validation-error").as_deref(),
        Some("stock[1].store")
    );
    let read = w
        .get(
            &format!("{BASE}/campaigns/winter/listings/BT-3001"),
            Some(&ops),
        )
        .await;
    read.problem(404, "not-found");
}

#[tokio::test]
async fn a_guide_must_belong_to_a_store_of_the_tenant() {
    let w = World::seeded().await;
    let ops = w.ops();
    let r = w
        .json(
            "PUT",
            &format!("{BASE}/guides/g-9"),
            Some(&ops),
            &json!({"name": "Li", "store": "nowhere", "user": "guide-9"}),
        )
        .await;
    assert_eq!(r.problem(422, "validation-error").as_deref(), Some("store"));
    let ok = w
        .json(
            "PUT",
            &format!("{BASE}/guides/g-9"),
            Some(&ops),
            &json!({"name": "Li", "store": "gz-tianhe", "user": "guide-9"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let list = w.get(&format!("{BASE}/guides"), Some(&ops)).await;
    assert_eq!(list.body["guides"].as_array().map(Vec::len), Some(7));
}

/// Each role × each manage route × own and other tenant: only ops, brand admins and hq
/// of the tenant get past authorization; everyone else is 403 and nothing is written.
#[tokio::test]
async fn only_operators_of_the_tenant_may_manage_it() {
    let w = World::seeded().await;
    let store_body = json!({"name": "Zhuhai", "address": {"province": "Guangdong", "city": "Zhuhai", "district": "Xiangzhou", "line": "1 Harbour Rd"}});
    let routes: Vec<(&str, String, Value)> = vec![
        ("POST", "campaigns".into(), campaign_body("matrix")),
        (
            "PUT",
            "campaigns/summer-clearance".into(),
            campaign_body("summer-clearance"),
        ),
        (
            "PUT",
            "campaigns/summer-clearance/slots".into(),
            json!({"slots": []}),
        ),
        (
            "PUT",
            "campaigns/summer-clearance/listings/SD-1001".into(),
            listing_body(),
        ),
        (
            "PUT",
            "campaigns/summer-clearance/coupons/x".into(),
            json!({"name": "x", "off_fen": 100, "budget": 1}),
        ),
        (
            "POST",
            "campaigns/summer-clearance/publish".into(),
            json!({}),
        ),
        ("PUT", "stores/zh-xiangzhou".into(), store_body),
        (
            "PUT",
            "guides/g-x".into(),
            json!({"name": "X", "store": "gz-tianhe", "user": "u-x"}),
        ),
    ];
    for role in Role::ALL {
        for (scope, own) in [
            ("demo/south-china", true),
            ("demo/north-china", false),
            ("acme/*", false),
        ] {
            let token = w.token(role, &[scope]);
            for (method, path, body) in &routes {
                let r = w
                    .json(method, &format!("{BASE}/{path}"), Some(&token), body)
                    .await;
                // the role says what, the token's tenants where: hq is no exception
                let allowed = matches!(role, Role::Ops | Role::BrandAdmin | Role::Hq) && own;
                if allowed {
                    assert_ne!(
                        r.status, 403,
                        "{role:?} {scope} {method} {path}: {}",
                        r.body
                    );
                } else {
                    r.problem(403, "forbidden");
                }
            }
        }
    }
    // nothing a refused caller sent was written
    let stores = w.get(&format!("{BASE}/stores"), Some(&w.ops())).await;
    let names: Vec<&str> = stores.body["stores"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(names.contains(&"zh-xiangzhou"), "allowed callers did write");
    let other = w
        .get(
            "/v1/demo/north-china/stores",
            Some(&w.token(Role::Hq, &["*"])),
        )
        .await;
    assert_eq!(
        other.body["stores"],
        json!([]),
        "no write ever reached another tenant"
    );
}

#[tokio::test]
async fn manage_routes_need_a_valid_token() {
    let w = World::seeded().await;
    let none = w
        .json(
            "POST",
            &format!("{BASE}/campaigns"),
            None,
            &campaign_body("x"),
        )
        .await;
    none.problem(401, "unauthenticated");
    let forged = w
        .json(
            "POST",
            &format!("{BASE}/campaigns"),
            Some("not.a.token"),
            &campaign_body("x"),
        )
        .await;
    forged.problem(401, "invalid-token");
    let other_key = clearance_local::DevTokens::new("another-secret")
        .mint("u-1", Role::Hq, &["*"])
        .unwrap();
    let wrong = w
        .json(
            "POST",
            &format!("{BASE}/campaigns"),
            Some(&other_key),
            &campaign_body("x"),
        )
        .await;
    wrong.problem(401, "invalid-token");
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field() {
    let w = World::seeded().await;
    let ops = w.ops();
    let post = |body: String| {
        Request::builder()
            .method("POST")
            .uri(format!("{BASE}/campaigns"))
            .header("authorization", format!("Bearer {ops}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    // malformed JSON
    w.send(post("{\"id\": ".into()))
        .await
        .problem(400, "malformed-json");
    w.send(post(format!("{} trailing", campaign_body("x"))))
        .await
        .problem(400, "malformed-json");
    // a JSON value of the wrong shape
    assert_eq!(
        w.send(post("[]".into()))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("body")
    );
    // each a body with one thing wrong, and the field the problem must name
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/colour", json!("red"), "colour"), // unknown field
        ("/slots/0/starts", json!(10), "slots[0].starts"), // wrong type, nested
        ("/id", json!("x#T#acme"), "id"),    // an id that could forge a key
        ("/ends_at", json!("2026-11-30T00:00:00Z"), "ends_at"), // a window backwards
        ("/slots/1/starts", json!("15:00"), "slots[1]"), // overlapping slots
        ("/time_zone", json!("Mars/Olympus"), "time_zone"), // unknown time zone
        ("/stores", json!(["gz-tianhe", "nowhere"]), "stores[1]"), // a store not in the tenant
    ];
    for (pointer, value, field) in cases {
        let mut b = campaign_body("x");
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = if parent.is_empty() {
            &mut b
        } else {
            b.pointer_mut(parent).unwrap()
        };
        match target {
            Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
            other => other[key] = value,
        }
        let r = w.send(post(b.to_string())).await;
        assert_eq!(
            r.problem(422, "validation-error").as_deref(),
            Some(field),
            "{pointer}"
        );
    }
    // a missing field
    let mut b = campaign_body("x");
    b.as_object_mut().unwrap().remove("name");
    assert_eq!(
        w.send(post(b.to_string()))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("name")
    );
    // wrong media type
    let req = Request::builder()
        .method("POST")
        .uri(format!("{BASE}/campaigns"))
        .header("authorization", format!("Bearer {ops}"))
        .header("content-type", "text/plain")
        .body(Body::from(campaign_body("x").to_string()))
        .unwrap();
    w.send(req).await.problem(415, "unsupported-media-type");
    // an oversized body
    let mut b = campaign_body("x");
    b["name"] = json!("x".repeat(100_000));
    w.send(post(b.to_string()))
        .await
        .problem(413, "payload-too-large");
    // none of it was written
    for id in ["x", "x#T#acme"] {
        let r = w
            .get(
                &format!("{BASE}/campaigns/{}", id.replace('#', "%23")),
                Some(&ops),
            )
            .await;
        assert!(r.status == 404 || r.status == 400, "{id}: {}", r.status);
    }

    // listings: negative, absurd and inconsistent money
    w.json(
        "POST",
        &format!("{BASE}/campaigns"),
        Some(&ops),
        &campaign_body("winter"),
    )
    .await;
    let path = format!("{BASE}/campaigns/winter/listings/BT-1");
    for (field, value, expect) in [
        ("list_price_fen", json!(-1), "list_price_fen"),
        ("list_price_fen", json!(1e12), "list_price_fen"),
        (
            "list_price_fen",
            json!(99_000_000_000_i64),
            "list_price_fen",
        ),
        ("clearance_price_fen", json!(100_000), "clearance_price_fen"),
        ("shards", json!(40), "shards"),
        ("sizes", json!(["38", "38"]), "sizes[1]"),
    ] {
        let mut b = listing_body();
        b[field] = value;
        let r = w.json("PUT", &path, Some(&ops), &b).await;
        assert_eq!(
            r.problem(422, "validation-error").as_deref(),
            Some(expect),
            "{field}"
        );
    }
    let mut b = listing_body();
    b["stock"][0]["units"] = json!(-4);
    assert_eq!(
        w.json("PUT", &path, Some(&ops), &b)
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("stock[0].units")
    );
    // a bad id in the path, unknown campaign, unknown route, wrong method
    w.json(
        "PUT",
        &format!("{BASE}/campaigns/winter/listings/BT%231"),
        Some(&ops),
        &listing_body(),
    )
    .await
    .problem(400, "invalid-parameter");
    w.json(
        "PUT",
        &format!("{BASE}/campaigns/nope/listings/BT-1"),
        Some(&ops),
        &listing_body(),
    )
    .await
    .problem(404, "not-found");
    w.get("/v1/nowhere", None).await.problem(404, "not-found");
    w.json(
        "DELETE",
        &format!("{BASE}/campaigns"),
        Some(&ops),
        &json!({}),
    )
    .await
    .problem(405, "method-not-allowed");
    // a coupon worth more than its threshold
    let r = w
        .json(
            "PUT",
            &format!("{BASE}/campaigns/winter/coupons/bad"),
            Some(&ops),
            &json!({"name": "bad", "off_fen": 60000, "min_spend_fen": 50000, "budget": 1}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation-error").as_deref(),
        Some("off_fen")
    );
    // a store with a bad phone
    let r = w.json("PUT", &format!("{BASE}/stores/zh"), Some(&ops), &json!({"name": "Zhuhai", "phone": "call me", "address": {"province": "G", "city": "Z", "district": "X", "line": "1"}})).await;
    assert_eq!(r.problem(422, "validation-error").as_deref(), Some("phone"));
    let _ = T0;
}

#[tokio::test]
async fn a_stale_writer_gets_a_conflict_not_a_lost_update() {
    // given a draft campaign read by two operators
    let w = World::seeded().await;
    let ops = w.ops();
    w.json(
        "POST",
        &format!("{BASE}/campaigns"),
        Some(&ops),
        &campaign_body("winter"),
    )
    .await;
    let t = clearance_local::seed::tenant().unwrap();
    let id = clearance::domain::ids::CampaignId::parse("winter").unwrap();
    let read = w.state.db.campaign(&t, &id, true).await.unwrap();
    // when one saves, then the other saves what they read
    let mut first = read.clone();
    first.name = "First".into();
    first.version += 1;
    w.state
        .db
        .replace_campaign(&t, &first, read.version)
        .await
        .unwrap();
    let mut second = read.clone();
    second.name = "Second".into();
    second.version += 1;
    let r = w.state.db.replace_campaign(&t, &second, read.version).await;
    // then the second is refused and the first stands
    assert!(
        matches!(
            r,
            Err(clearance::Error::Domain(
                clearance::domain::DomainError::Conflict {
                    kind: "concurrent-update",
                    ..
                }
            ))
        ),
        "{r:?}"
    );
    assert_eq!(
        w.state.db.campaign(&t, &id, true).await.unwrap().name,
        "First"
    );
}
