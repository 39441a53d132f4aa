//! `member-center` and the member worker: one member per person bound by a verified
//! phone, never stored or shown in clear, and points that follow the orders: pending,
//! available once the return window closes, taken back by a refund, a debt when short.

use clearance::domain::ids::{BrandId, UserId};
use clearance::table::memory::MemoryTable;
use clearance_tests::{World, BASE};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tracing::instrument::WithSubscriber;

const PHONE: &str = "13812345678";

/// Every log line written while `f` runs, as JSON text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|v| v.clone()).unwrap_or_default()).into_owned()
    }
}

async fn bind(w: &World, token: &str) -> clearance_tests::Resp {
    w.json("POST", "/v1/me/phone", Some(token), &Value::Null)
        .await
}

#[tokio::test]
async fn a_verified_phone_binds_one_member_and_a_second_account_is_refused() {
    // given a buyer whose identity provider verified their phone
    let w = World::seeded().await;
    let b1 = w.buyer_with_phone("b1", PHONE);
    // when they bind it
    let r = bind(&w, &b1).await;
    // then they are a member of the group's membership, the phone shown masked
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["phone"], "*******5678");
    let id = r.body["member_id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("CRM-"), "{}", r.body);
    // binding again changes nothing
    let again = bind(&w, &b1).await;
    assert_eq!(
        (again.status.as_u16(), again.body["member_id"].as_str()),
        (200, Some(id.as_str()))
    );
    assert_eq!(w.crm.enrolled(), 1);
    // a second account with the same phone, written another way, is refused
    let b2 = w.buyer_with_phone("b2", "+86 138-1234-5678");
    bind(&w, &b2).await.problem(409, "phone-bound-elsewhere");
    assert_eq!(w.get("/v1/me", Some(&b2)).await.body["phone"], Value::Null);
    // a token with no verified phone binds nothing
    bind(&w, &w.buyer("b3")).await.problem(403, "forbidden");
    // and b1's account cannot take another phone
    let other = w.buyer_with_phone("b1", "13900000000");
    bind(&w, &other).await.problem(409, "member-has-phone");
}

#[tokio::test]
async fn two_accounts_binding_one_phone_at_once_leave_one_holder() {
    let w = World::seeded().await;
    let (a, b) = (
        w.buyer_with_phone("ra", PHONE),
        w.buyer_with_phone("rb", PHONE),
    );
    let (ra, rb) = tokio::join!(bind(&w, &a), bind(&w, &b));
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", ra.body, rb.body);
}

#[tokio::test]
async fn a_phone_is_never_in_the_table_a_log_line_or_a_response_in_clear() {
    // given a memory table we can read whole, and every log line captured
    let table = Arc::new(MemoryTable::new());
    let w = World::new(table.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let token = w.buyer_with_phone("b1", PHONE);
    let bodies = async {
        // when the member binds, reads their profile and points, and orders
        let mut bodies = vec![bind(&w, &token).await.text];
        bodies.push(w.get("/v1/me", Some(&token)).await.text);
        bodies.push(w.get("/v1/me/points?brand=demo", Some(&token)).await.text);
        let order = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}]});
        let placed = w.post_keyed(&format!("{BASE}/orders"), &token, "k1", &order).await;
        bodies.push(placed.text.clone());
        w.drain().await;
        bodies
    }
    .with_subscriber(subscriber)
    .await;
    // then the number is nowhere: not in an item, a response or a log line
    let items = format!("{:?}", table.snapshot());
    for (what, text) in [
        ("the table", items),
        ("the logs", logs.text()),
        ("a response", bodies.join("\n")),
    ] {
        assert!(
            !text.contains("12345678"),
            "{what} holds the phone in clear"
        );
    }
    assert!(!logs.text().is_empty(), "the logs were captured");
}

/// Places, pays and picks up one unit of `sku` (size 38) of the demo campaign; its id
/// and total.
async fn picked_up(w: &World, token: &str, key: &str, sku: &str) -> (String, i64) {
    let order = json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "38", "quantity": 1}], "coupon": "none"});
    let id = w.picked_up_order(token, key, &order).await;
    let total = w
        .get(&format!("{BASE}/orders/{id}"), Some(token))
        .await
        .body["total_fen"]
        .as_i64()
        .unwrap_or_default();
    (id, total)
}

fn reasons(p: &Value) -> Vec<String> {
    p["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["reason"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn points_are_pending_until_the_window_closes_then_available_and_a_return_takes_them_back() {
    // given a bound member with two picked-up orders
    let w = World::seeded().await;
    let token = w.buyer_with_phone("b1", PHONE);
    assert_eq!(bind(&w, &token).await.status, 200);
    let (kept, kept_total) = picked_up(&w, &token, "k1", "SD-1003").await;
    let (returned, returned_total) = picked_up(&w, &token, "k2", "SD-1002").await;
    let points = || async { w.get("/v1/me/points?brand=demo", Some(&token)).await.body };
    // then both orders' points are pending (one point per yuan)
    let p = points().await;
    assert_eq!(
        p["pending"].as_i64(),
        Some(kept_total / 100 + returned_total / 100),
        "{p}"
    );
    assert_eq!(
        (p["available"].as_i64(), p["level"].as_u64()),
        (Some(0), Some(0))
    );
    // when one is returned within its window and the refund is paid
    let mut req = clearance_tests::request(
        "POST",
        &format!("{BASE}/orders/{returned}/refunds"),
        Some(&token),
        Some(json!({"lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}], "reason": "wrong_size",
            "condition": {"unworn": true, "tags_on": true, "original_box": true}}).to_string()),
    );
    req.headers_mut()
        .insert("idempotency-key", "r1".parse().unwrap());
    let r = w.send(req).await;
    assert_eq!(
        (r.status.as_u16(), r.body["decision"].as_str()),
        (201, Some("approved")),
        "{}",
        r.body
    );
    let refund = r.body["id"].as_str().unwrap_or_default().to_owned();
    let clerk = w.clerk(&format!(
        "clerk-{}",
        r.body["return_store"].as_str().unwrap_or_default()
    ));
    let got = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{refund}/receive"),
            Some(&clerk),
            &json!({"units": [{"line": 0, "resaleable": 1, "damaged": 0}]}),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    w.drain().await;
    // then the returned order's points are taken back, the other's still pending
    let p = points().await;
    assert_eq!(
        (p["pending"].as_i64(), p["available"].as_i64()),
        (Some(kept_total / 100), Some(0)),
        "{p}"
    );
    assert!(reasons(&p).contains(&"refunded".to_owned()), "{p}");
    // when the windows close (7 days from pickup) and the sweeper runs
    w.clock.advance(chrono::Duration::days(8));
    clearance::workers::sweep_timers(&w.state).await.unwrap();
    w.drain().await;
    // then the kept order's points are available, each entry with its reason
    let p = points().await;
    assert_eq!(
        (p["pending"].as_i64(), p["available"].as_i64()),
        (Some(0), Some(kept_total / 100)),
        "{p}"
    );
    let mut got = reasons(&p);
    got.sort();
    assert_eq!(got, ["earned", "earned", "refunded", "released"], "{p}");
    let member = UserId::parse("b1").unwrap();
    let brand = BrandId::parse("demo").unwrap();
    let (account, _, _) = w.state.db.account(&member, &brand).await.unwrap();
    assert_eq!(account.orders[kept.as_str()].points, kept_total / 100);
    assert_eq!(account.orders[returned.as_str()].points, 0);
}

#[tokio::test]
async fn early_access_serves_the_level_it_names_before_the_start_and_no_one_else() {
    // given a campaign starting in three hours that opens an hour early to level 3
    let w = World::seeded().await;
    let now = clearance::clock::Clock::now(w.clock.as_ref());
    let early = w
        .campaign("early")
        .runs(
            now + chrono::Duration::hours(3),
            now + chrono::Duration::days(3),
        )
        .with("early_access", json!({"min_level": 3, "minutes": 60}))
        .listing(
            "EA-1",
            clearance_tests::listing(9_900).stock("gz-tianhe", "38", 5),
        );
    early.published().await;
    // and a level-3 member and a level-1 member (levels the group's CRM holds)
    let brand = BrandId::parse("demo").unwrap();
    let phone = |s: &str| clearance::domain::catalog::Phone::try_from(s.to_owned()).unwrap();
    w.crm.set_level(&brand, &phone("13900000003"), 3);
    w.crm.set_level(&brand, &phone("13900000001"), 1);
    let gold = w.buyer_with_phone("gold", "13900000003");
    let silver = w.buyer_with_phone("silver", "13900000001");
    assert_eq!(bind(&w, &gold).await.status, 200);
    assert_eq!(bind(&w, &silver).await.status, 200);
    let order =
        json!({"campaign": "early", "lines": [{"sku": "EA-1", "size": "38", "quantity": 1}]});
    // when the level-3 member orders before the early window: refused
    w.post_keyed(&format!("{BASE}/orders"), &gold, "g0", &order)
        .await
        .problem(409, "campaign-not-live");
    // and in it (30 minutes before the start): the level-1 member is refused, as is a
    // buyer who is no member
    w.clock.advance(chrono::Duration::minutes(150));
    w.post_keyed(&format!("{BASE}/orders"), &silver, "s1", &order)
        .await
        .problem(409, "campaign-not-live");
    w.post_keyed(&format!("{BASE}/orders"), &w.buyer("nobody"), "n1", &order)
        .await
        .problem(409, "campaign-not-live");
    let before = w.counts.snapshot();
    let served = w
        .post_keyed(&format!("{BASE}/orders"), &gold, "g1", &order)
        .await;
    let calls = w.counts.since(before);
    // then the level-3 member is served, in one read and one transaction (the
    // campaign read is cached)
    assert_eq!(served.status, 201, "{}", served.body);
    assert_eq!((calls.batch_get, calls.transact, calls.total()), (1, 1, 2));
    // browse says when it opens early, and to whom
    let list = w.get(&format!("{BASE}/campaigns"), None).await.body;
    let c = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "early")
        .cloned()
        .unwrap_or_default();
    assert_eq!(c["early_access"]["min_level"], 3, "{list}");
    assert!(c["early_access"]["opens_at"].is_string());
}

/// Returns one unit of `order` (line SKU `sku`), as `token`'s buyer; the decision.
async fn return_one(w: &World, token: &str, order: &str, sku: &str, key: &str) -> String {
    let mut req = clearance_tests::request(
        "POST",
        &format!("{BASE}/orders/{order}/refunds"),
        Some(token),
        Some(
            json!({"lines": [{"sku": sku, "size": "38", "quantity": 1}], "reason": "wrong_size",
                "condition": {"unworn": true, "tags_on": true, "original_box": true}})
            .to_string(),
        ),
    );
    req.headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    let r = w.send(req).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body["decision"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_fast_lane_members_fourth_return_is_approved_by_rule_where_anyone_elses_waits_for_a_person(
) {
    // given a campaign sending the 4th return of a buyer to a person, and two buyers
    // with four units each picked up: a gold member (fast lane) and a plain buyer
    let w = World::seeded().await;
    w.campaign("lanes")
        .returns(json!({"window_days": 7, "review_after_returns": 3, "send_back_days": 7, "escalate_after_hours": 4}))
        .listing("FL-1", clearance_tests::listing(9_900).per_buyer(4).stock("gz-tianhe", "38", 10))
        .live()
        .await;
    let brand = BrandId::parse("demo").unwrap();
    let gold_phone = clearance::domain::catalog::Phone::try_from("13900000002".to_owned()).unwrap();
    w.crm.set_level(&brand, &gold_phone, 2);
    let gold = w.buyer_with_phone("gold", "13900000002");
    assert_eq!(bind(&w, &gold).await.status, 200);
    let plain = w.buyer("plain");
    let mut orders = Vec::new();
    for (token, key) in [(&gold, "og"), (&plain, "op")] {
        let body = json!({"campaign": "lanes", "lines": [{"sku": "FL-1", "size": "38", "quantity": 4}], "coupon": "none"});
        orders.push((token.clone(), w.picked_up_order(token, key, &body).await));
    }
    // when each returns their units one request at a time
    let mut decisions = Vec::new();
    for (token, id) in &orders {
        let mut each = Vec::new();
        for k in 0..4 {
            each.push(return_one(&w, token, id, "FL-1", &format!("{id}-r{k}")).await);
        }
        decisions.push(each);
    }
    // then the member's fourth is approved by rule, the other buyer's waits for a person
    assert_eq!(decisions[0], ["approved"; 4]);
    assert_eq!(
        decisions[1],
        ["approved", "approved", "approved", "pending_review"]
    );
}

#[tokio::test]
async fn points_buy_member_coupons_in_one_transaction_and_never_below_the_balance() {
    // given a campaign with a member coupon at 300 points and one for level 2 and up,
    // and a member whose 500.00-yuan order's window has closed (500 points available)
    let w = World::seeded().await;
    w.campaign("points")
        .listing(
            "PT-1",
            clearance_tests::listing(50_000).stock("gz-tianhe", "38", 5),
        )
        .coupon(
            "m10",
            clearance_tests::coupon(1_000).points(300).per_buyer(2),
        )
        .coupon("vip", clearance_tests::coupon(500).min_level(2))
        .live()
        .await;
    let token = w.buyer_with_phone("b1", PHONE);
    assert_eq!(bind(&w, &token).await.status, 200);
    let body = json!({"campaign": "points", "lines": [{"sku": "PT-1", "size": "38", "quantity": 1}], "coupon": "none"});
    w.picked_up_order(&token, "k1", &body).await;
    w.clock.advance(chrono::Duration::days(8));
    clearance::workers::sweep_timers(&w.state).await.unwrap();
    w.drain().await;
    let points = || async { w.get("/v1/me/points?brand=demo", Some(&token)).await.body };
    assert_eq!(points().await["available"], 500);
    let claim = |t: &str| format!("{BASE}/campaigns/points/coupons/{t}/claim");
    // when they buy the member coupon
    let before = w.counts.snapshot();
    let r = w
        .json("POST", &claim("m10"), Some(&token), &Value::Null)
        .await;
    let calls = w.counts.since(before);
    // then it is theirs and the points are spent, in one read and one transaction
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((calls.batch_get, calls.transact), (1, 1));
    let p = points().await;
    assert_eq!(p["available"], 200, "{p}");
    assert!(reasons(&p).contains(&"redeemed".to_owned()), "{p}");
    // a second one costs more than is left: refused, nothing spent or granted
    w.json("POST", &claim("m10"), Some(&token), &Value::Null)
        .await
        .problem(409, "points-short");
    assert_eq!(points().await["available"], 200);
    let mine = w.get("/v1/me/coupons", Some(&token)).await.body;
    assert_eq!(mine["coupons"].as_array().map(Vec::len), Some(1), "{mine}");
    // and a level-0 member cannot claim the level-2 coupon
    w.json("POST", &claim("vip"), Some(&token), &Value::Null)
        .await
        .problem(409, "member-level-too-low");
}

#[tokio::test]
async fn a_member_follows_a_brand_and_finds_its_campaigns_their_orders_and_points_at_home() {
    // given a bound member who follows the whole demo brand and bought once
    let w = World::seeded().await;
    let token = w.buyer_with_phone("b1", PHONE);
    assert_eq!(bind(&w, &token).await.status, 200);
    let r = w
        .json(
            "PUT",
            "/v1/me/follows",
            Some(&token),
            &json!({"follows": [{"brand": "demo"}, {"brand": "demo"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["follows"].as_array().map(Vec::len),
        Some(1),
        "duplicates kept once"
    );
    let (order, total) = picked_up(&w, &token, "k1", "SD-1003").await;
    // when they open their home, with no guide's link
    let before = w.counts.snapshot();
    let home = w.get("/v1/me/home", Some(&token)).await;
    let calls = w.counts.since(before);
    // then the brand's live campaign, their order and their pending points are there
    assert_eq!(home.status, 200, "{}", home.body);
    let h = &home.body;
    let campaigns: Vec<&str> = h["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["campaign"]["id"].as_str())
        .collect();
    assert_eq!(campaigns, ["summer-clearance"], "{h}");
    assert_eq!(h["campaigns"][0]["store_group"], "south-china");
    assert_eq!(h["orders"][0]["id"], order.as_str());
    assert_eq!(h["brands"][0]["brand"], "demo");
    assert_eq!(h["brands"][0]["pending"], total / 100);
    // in the stated bound: 2 BatchGetItem + 3 Query + the brand's groups + a Query per
    // tenant (+1 BatchGetItem for seats)
    assert!(calls.total() <= 8, "{calls:?}");
    // and bad follows name the field
    let field = w
        .json(
            "PUT",
            "/v1/me/follows",
            Some(&token),
            &json!({"follows": [{"brand": "Not A Brand!"}]}),
        )
        .await
        .problem(422, "validation-error");
    assert_eq!(field.as_deref(), Some("follows[0].brand"));
}

#[tokio::test]
async fn operators_adjust_a_members_points_with_a_reason_once_per_key_and_see_them_masked() {
    let w = World::seeded().await;
    let token = w.buyer_with_phone("b1", PHONE);
    assert_eq!(bind(&w, &token).await.status, 200);
    let adjust = |key: &str| {
        let mut req = clearance_tests::request(
            "POST",
            &format!("{BASE}/members/b1/points"),
            Some(&w.ops()),
            Some(json!({"points": 50, "reason": "sorry for the late parcel"}).to_string()),
        );
        req.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        w.send(req)
    };
    // when ops adjust twice under one key
    let first = adjust("goodwill-1").await;
    let again = adjust("goodwill-1").await;
    // then one entry, with the reason and who, answered the same
    assert_eq!(
        (first.status.as_u16(), again.status.as_u16()),
        (201, 200),
        "{}",
        first.body
    );
    assert_eq!(first.body, again.body);
    assert!(first.body["note"]
        .as_str()
        .unwrap_or_default()
        .contains("late parcel"));
    let seen = w.get(&format!("{BASE}/members/b1"), Some(&w.ops())).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(
        (seen.body["available"].as_i64(), seen.body["phone"].as_str()),
        (Some(50), Some("*******5678"))
    );
    assert_eq!(seen.body["entries"].as_array().map(Vec::len), Some(1));
    // the member sees it too, with its reason
    let mine = w.get("/v1/me/points?brand=demo", Some(&token)).await.body;
    assert_eq!(reasons(&mine), ["adjusted"]);
    // a buyer may not adjust anyone's points
    let mut req = clearance_tests::request(
        "POST",
        &format!("{BASE}/members/b1/points"),
        Some(&token),
        Some(json!({"points": 5000, "reason": "me"}).to_string()),
    );
    req.headers_mut()
        .insert("idempotency-key", "self".parse().unwrap());
    w.send(req).await.problem(403, "forbidden");
}

#[tokio::test]
async fn a_guide_is_credited_once_with_each_member_their_link_first_brought_to_the_brand() {
    // given a bound member and a buyer who is no member, both arriving by a guide's link
    let w = World::seeded().await;
    let member = w.buyer_with_phone("m1", PHONE);
    assert_eq!(bind(&w, &member).await.status, 200);
    let plain = w.buyer("p1");
    let link = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let order = |sku: &str| {
        json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "38", "quantity": 1}],
            "coupon": "none", "share_token": link})
    };
    // when each buys twice through the link
    for (token, who) in [(&member, "m"), (&plain, "p")] {
        for (n, sku) in ["SD-1002", "SD-1003"].iter().enumerate() {
            let placed = w
                .post_keyed(
                    &format!("{BASE}/orders"),
                    token,
                    &format!("{who}{n}"),
                    &order(sku),
                )
                .await;
            assert_eq!(placed.status, 201, "{}", placed.body);
            let id = placed.body["order"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(w.pay(&id).await.body["status"], "paid");
            w.drain().await;
        }
    }
    // then the guide's board counts one new member: the bound one, once
    let board = w
        .get(
            &format!("{BASE}/guides/gz-tianhe-g1/performance?campaign=summer-clearance"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_eq!(board.body["new_members"], 1, "{}", board.body);
    assert_eq!(board.body["new_buyers"], 2, "{}", board.body);
}

#[tokio::test]
async fn an_adjustment_of_any_size_is_answered_never_a_panic() {
    let w = World::seeded().await;
    for points in [i64::MIN, i64::MAX, 0, 100_001] {
        let mut req = clearance_tests::request(
            "POST",
            &format!("{BASE}/members/b1/points"),
            Some(&w.ops()),
            Some(json!({"points": points, "reason": "x"}).to_string()),
        );
        req.headers_mut()
            .insert("idempotency-key", "k".parse().unwrap());
        let field = w.send(req).await.problem(422, "validation-error");
        assert_eq!(field.as_deref(), Some("points"));
    }
}

#[tokio::test]
async fn a_brand_sets_its_own_rate_and_levels_and_only_over_the_whole_brand() {
    let w = World::seeded().await;
    let terms = json!({"points_per_yuan": 2, "downgrade_grace_days": 30, "levels": [
        {"level": 1, "name": "silver", "growth_fen": 50000, "fast_lane": false},
        {"level": 2, "name": "gold", "growth_fen": 200000, "fast_lane": true}]});
    // ops of one store group may not; hq over every tenant may
    let ops = w
        .json(
            "PUT",
            &format!("{BASE}/member-terms"),
            Some(&w.ops()),
            &terms,
        )
        .await;
    ops.problem(403, "forbidden");
    let hq = w.token(clearance::domain::auth::Role::Hq, &["*"]);
    let r = w
        .json("PUT", &format!("{BASE}/member-terms"), Some(&hq), &terms)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // levels out of order are refused, naming the field
    let bad = json!({"points_per_yuan": 2, "downgrade_grace_days": 30, "levels": [
        {"level": 2, "name": "gold", "growth_fen": 1}]});
    let field = w
        .json("PUT", &format!("{BASE}/member-terms"), Some(&hq), &bad)
        .await
        .problem(422, "validation-error");
    assert_eq!(field.as_deref(), Some("levels"));
    // then a member's next order earns at the brand's rate, and 500 yuan is silver
    let token = w.buyer_with_phone("b1", PHONE);
    assert_eq!(bind(&w, &token).await.status, 200);
    let (_, total) = picked_up(&w, &token, "k1", "SD-1003").await;
    let p = w.get("/v1/me/points?brand=demo", Some(&token)).await.body;
    assert_eq!(p["pending"].as_i64(), Some(2 * (total / 100)), "{p}");
    let seen = w.get(&format!("{BASE}/member-terms"), Some(&w.ops())).await;
    assert_eq!(seen.body["points_per_yuan"], 2);
}
