//! `place-order`, payment, timeouts and fulfillment: the money path under a rush.

use clearance::domain::auth::Role;
use clearance::domain::ids::{CampaignId, OrderId, Sku};
use clearance::queue::messages::QueueMessage;
use clearance::queue::QueueConsumer;
use clearance::table::{Key, Table};
use clearance_tests::{coupon, listing, request, t0, World};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const BASE: &str = "/v1/demo/south-china";

/// A live campaign "rush" with one listing RUSH-1 holding `units` of size 38 over
/// `shards` shards, one per buyer; the clock is inside its window.
async fn rush_world(table: Arc<dyn Table>, shards: u8, units: u32) -> World {
    rush_world_with(table, shards, units, json!([]), json!({})).await
}

/// [`rush_world`] with flash-sale `slots` and the listing's `slot_prices_fen`.
async fn rush_world_with(
    table: Arc<dyn Table>,
    shards: u8,
    units: u32,
    slots: Value,
    slot_prices: Value,
) -> World {
    let w = World::new(table).await;
    w.store("gz-tianhe")
        .named("Tianhe")
        .clerks(&["clerk-1"])
        .put()
        .await;
    w.campaign("rush")
        .named("Rush")
        .stores(&["gz-tianhe"])
        .runs(
            t0() + chrono::Duration::hours(1),
            t0() + chrono::Duration::days(3),
        )
        .slots(slots)
        .with("categories", json!([{"id": "flash", "name": "Flash"}]))
        .listing(
            "RUSH-1",
            listing(9_900)
                .named("Rush sneaker")
                .with("category", json!("flash"))
                .list_price(29_900)
                .per_buyer(1)
                .stock("gz-tianhe", "38", i64::from(units))
                .shards(u32::from(shards))
                .with("slot_prices_fen", slot_prices),
        )
        .coupon("c20", coupon(2_000).budget(1_000))
        .live()
        .await;
    w.clock.set(t0() + chrono::Duration::hours(2));
    w
}

fn rush_order() -> Value {
    json!({"campaign": "rush", "lines": [{"sku": "RUSH-1", "size": "38", "quantity": 1}]})
}

fn order_req(
    w: &World,
    buyer: &str,
    key: &str,
    body: &Value,
) -> axum::http::Request<axum::body::Body> {
    let token = w.tokens.mint(buyer, Role::Consumer, &[]).unwrap();
    let mut req = request(
        "POST",
        &format!("{BASE}/orders"),
        Some(&token),
        Some(body.to_string()),
    );
    req.headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    req
}

async fn units_left(w: &World, campaign: &str, sku: &str) -> u32 {
    let t = clearance_local::seed::tenant().unwrap();
    let p = w
        .state
        .db
        .product(
            &t,
            &CampaignId::parse(campaign).unwrap(),
            &Sku::parse(sku).unwrap(),
        )
        .await
        .unwrap();
    p.units.values().sum()
}

async fn two_hundred_buyers_for_ten_units_buy_exactly_ten(table: Arc<dyn Table>, shards: u8) {
    // given ten units, over `shards` shards
    let w = rush_world(table, shards, 10).await;
    // when 200 buyers order at once
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let app = w.app.clone();
            let req = order_req(&w, &format!("buyer-{i}"), &format!("k-{i}"), &rush_order());
            tokio::spawn(async move { app.oneshot(req).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().unwrap());
    }
    // then exactly ten orders exist, everyone else was told it sold out, and stock is 0
    let created = statuses.iter().filter(|s| **s == 201).count();
    let sold_out = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, sold_out), (10, 190), "{statuses:?}");
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 0);
    let late = w
        .send(order_req(&w, "buyer-late", "k-late", &rush_order()))
        .await;
    late.problem(409, "sold-out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_for_ten_units_on_memory() {
    two_hundred_buyers_for_ten_units_buy_exactly_ten(clearance_tests::memory_table(), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_for_ten_units_over_four_shards_on_memory() {
    two_hundred_buyers_for_ten_units_buy_exactly_ten(clearance_tests::memory_table(), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_for_ten_units_on_dynamodb() {
    two_hundred_buyers_for_ten_units_buy_exactly_ten(clearance_tests::moto_table().await, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_for_ten_units_over_four_shards_on_dynamodb() {
    two_hundred_buyers_for_ten_units_buy_exactly_ten(clearance_tests::moto_table().await, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_idempotency_key_twenty_times_at_once_creates_one_order() {
    let w = rush_world(clearance_tests::memory_table(), 1, 10).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = w.app.clone();
            let req = order_req(&w, "buyer-1", "same-key", &rush_order());
            tokio::spawn(async move {
                let res = app.oneshot(req).await.unwrap();
                let status = res.status().as_u16();
                let body = http_body_util::BodyExt::collect(res.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                (status, body)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(
        results.iter().all(|(s, _)| *s == 201),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(
        results.iter().all(|(_, b)| b == &results[0].1),
        "every replay returns the first response, byte for byte"
    );
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 9);
    let mine = w
        .get(
            "/v1/me/orders",
            Some(&w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap()),
        )
        .await;
    assert_eq!(mine.body["orders"].as_array().map(Vec::len), Some(1));
    // the same key with a different body is refused
    let mut other = rush_order();
    other["coupon"] = json!("none");
    w.send(order_req(&w, "buyer-1", "same-key", &other))
        .await
        .problem(409, "idempotency-key-reused");
}

#[tokio::test]
async fn placing_an_order_is_one_batch_read_and_one_transaction() {
    let w = rush_world(clearance_tests::memory_table(), 4, 10).await;
    w.send(order_req(&w, "warm", "warm", &rush_order())).await; // warms the campaign cache
    let before = w.counts.snapshot();
    let r = w.send(order_req(&w, "buyer-1", "k1", &rush_order())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let calls = w.counts.since(before);
    assert_eq!(
        (calls.batch_get, calls.transact, calls.total()),
        (1, 1, 2),
        "{calls:?}"
    );
    // a replay is one batch read and nothing else
    let before = w.counts.snapshot();
    assert_eq!(
        w.send(order_req(&w, "buyer-1", "k1", &rush_order()))
            .await
            .status,
        201
    );
    let calls = w.counts.since(before);
    assert_eq!((calls.batch_get, calls.total()), (1, 1), "{calls:?}");
}

#[tokio::test]
async fn the_order_is_priced_at_the_slot_with_the_best_coupon_and_lines_sum_to_the_total() {
    let w = World::seeded().await;
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    for tpl in ["no-threshold-20", "over-500-50", "over-888-100"] {
        let r = w
            .json(
                "POST",
                &format!("{BASE}/campaigns/summer-clearance/coupons/{tpl}/claim"),
                Some(&buyer),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // morning slot: PM-2006 is 649.00 - 20.00 = 629.00; SD-1003 is 299.00 - 20.00 = 279.00
    let body = json!({"campaign": "summer-clearance", "lines": [
        {"sku": "PM-2006", "size": "38", "quantity": 1}, {"sku": "SD-1003", "size": "37", "quantity": 1}]});
    let preview = w
        .json(
            "POST",
            &format!("{BASE}/orders/preview"),
            Some(&buyer),
            &body,
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["subtotal_fen"], 90_800);
    assert_eq!(
        preview.body["discount_fen"], 10_000,
        "100 off over 888 is the best held"
    );
    assert_eq!(preview.body["coupons"], json!(["over-888-100.1"]));
    let mut req = request(
        "POST",
        &format!("{BASE}/orders"),
        Some(&buyer),
        Some(body.to_string()),
    );
    req.headers_mut()
        .insert("idempotency-key", "o-1".parse().unwrap());
    let placed = w.send(req).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order = &placed.body["order"];
    assert_eq!(order["total_fen"], 80_800);
    let paid: i64 = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["paid_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(paid, 80_800, "lines sum exactly to the total");
    assert_eq!(placed.body["checkout"]["amount_fen"], 80_800);
    // the coupon is spent
    let coupons = w.get("/v1/me/coupons", Some(&buyer)).await;
    let spent = coupons.body["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "over-888-100.1")
        .unwrap()
        .clone();
    assert_eq!(spent["status"], "redeemed");
}

#[tokio::test(start_paused = true)]
async fn an_unpaid_order_is_cancelled_after_its_window_and_its_stock_coupon_and_limit_come_back() {
    // given a buyer who claimed a coupon and ordered the last... of one unit each
    let w = rush_world(clearance_tests::memory_table(), 2, 3).await;
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    let c = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/rush/coupons/c20/claim"),
            Some(&buyer),
            &json!({}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let placed = w.send(order_req(&w, "buyer-1", "k1", &rush_order())).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["order"]["coupons"], json!(["c20.1"]));
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 2);
    w.send(order_req(&w, "buyer-1", "k2", &rush_order()))
        .await
        .problem(409, "purchase-limit-exceeded");

    // when the timeout arrives early (a long window is waited out in 15-minute hops)
    w.clock.advance(chrono::Duration::minutes(5));
    let early = clearance::queue::messages::TimeoutMessage {
        tenant: clearance_local::seed::tenant().unwrap(),
        order: OrderId::parse(&id).unwrap(),
        deadline: w.clock_now(),
    };
    clearance::workers::expire_unpaid(&w.state, &early.to_json())
        .await
        .unwrap();
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&buyer)).await;
    assert_eq!(
        order.body["status"], "awaiting_payment",
        "not before the deadline"
    );

    // and when the window has passed and the queued message comes due
    w.clock.advance(chrono::Duration::minutes(11));
    tokio::time::advance(std::time::Duration::from_secs(16 * 60)).await;
    w.drain().await;

    // then the order is cancelled and everything it took is back
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&buyer)).await;
    assert_eq!(order.body["status"], "cancelled", "{}", order.body);
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 3);
    let coupons = w.get("/v1/me/coupons", Some(&buyer)).await;
    assert_eq!(coupons.body["coupons"][0]["status"], "available");
    let again = w.send(order_req(&w, "buyer-1", "k3", &rush_order())).await;
    assert_eq!(
        again.status, 201,
        "the purchase limit was given back: {}",
        again.body
    );
    assert_eq!(
        again.body["order"]["coupons"],
        json!(["c20.1"]),
        "and the coupon can be used again"
    );
    // a second delivery of the same timeout changes nothing
    let dup = clearance::queue::messages::TimeoutMessage {
        tenant: clearance_local::seed::tenant().unwrap(),
        order: OrderId::parse(&id).unwrap(),
        deadline: w.clock_now(),
    };
    clearance::workers::expire_unpaid(&w.state, &dup.to_json())
        .await
        .unwrap();
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 2);
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockNow for World {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use clearance::clock::Clock;
        self.clock.now()
    }
}

async fn place_and_pay(w: &World, buyer: &str, key: &str) -> String {
    let placed = w.send(order_req(w, buyer, key, &rush_order())).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    let paid = w
        .json("POST", &format!("/dev/orders/{id}/pay"), None, &json!({}))
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);
    id
}

async fn store_units(w: &World, sku: &str, store: &str, size: &str) -> i64 {
    let t = clearance_local::seed::tenant().unwrap();
    let key = Key::new(
        clearance::table::keys::campaign_pk(&t, &CampaignId::parse("rush").unwrap()),
        clearance::table::keys::store_stock_sk(&Sku::parse(sku).unwrap()),
    );
    let item = w.state.db.table().get(&key, true).await.unwrap().unwrap();
    use serde_dynamo::AttributeValue as A;
    let by_store = match item.get("units") {
        Some(A::M(m)) => m.get(store).cloned(),
        _ => None,
    };
    match by_store {
        Some(A::M(sizes)) => match sizes.get(size) {
            Some(A::N(n)) => n.parse().unwrap(),
            other => panic!("no units for {size}: {other:?}"),
        },
        other => panic!("no stock for {store}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_fulfillment_delivery_dispatches_once() {
    // given a paid order and its fulfillment message
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let id = place_and_pay(&w, "buyer-1", "k1").await;
    let messages = w
        .queue
        .receive(clearance::queue::QueueName::Fulfillment, 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    let body = messages[0].body.clone();
    // when it is delivered three times, twice at once
    let (a, b) = tokio::join!(
        clearance::workers::fulfill(&w.state, &body),
        clearance::workers::fulfill(&w.state, &body)
    );
    a.unwrap();
    b.unwrap();
    clearance::workers::fulfill(&w.state, &body).await.unwrap();
    // then the store gave one unit, and the order moved once
    assert_eq!(store_units(&w, "RUSH-1", "gz-tianhe", "38").await, 4);
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&buyer)).await;
    assert_eq!(order.body["status"], "ready_for_pickup");
    let moves: Vec<&str> = order.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["awaiting_payment", "paid", "ready_for_pickup"]);
    assert_eq!(order.body["parcels"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        order.body["parcels"][0]["pickup_code"]
            .as_str()
            .map(str::len),
        Some(6)
    );
}

#[tokio::test]
async fn only_a_clerk_of_the_store_holding_the_order_hands_it_over() {
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let ops = w.ops();
    let other = json!({"name": "Futian", "address": {"province": "Guangdong", "city": "Shenzhen", "district": "Futian", "line": "2 Fuhua Rd"}, "clerks": ["clerk-2"]});
    w.json(
        "PUT",
        &format!("{BASE}/stores/sz-futian"),
        Some(&ops),
        &other,
    )
    .await;
    let id = place_and_pay(&w, "buyer-1", "k1").await;
    w.drain().await;
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    let code = w
        .get(&format!("{BASE}/orders/{id}"), Some(&buyer))
        .await
        .body["parcels"][0]["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let clerk = |sub: &str| {
        w.tokens
            .mint(sub, Role::StoreManager, &["demo/south-china"])
            .unwrap()
    };
    let path = format!("{BASE}/orders/{id}/pickup");
    // staff see the order, but never the code
    let staff_view = w
        .get(&format!("{BASE}/orders/{id}"), Some(&clerk("clerk-2")))
        .await;
    assert_eq!(
        staff_view.body["parcels"],
        json!([]),
        "not their store's parcel"
    );
    let ops_view = w.get(&format!("{BASE}/orders/{id}"), Some(&ops)).await;
    assert_eq!(ops_view.body["parcels"][0]["store"], "gz-tianhe");
    assert_eq!(ops_view.body["parcels"][0]["pickup_code"], Value::Null);
    w.json(
        "POST",
        &path,
        Some(&clerk("clerk-2")),
        &json!({"code": code}),
    )
    .await
    .problem(403, "forbidden");
    w.json("POST", &path, Some(&buyer), &json!({"code": code}))
        .await
        .problem(403, "forbidden");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(
        w.json(
            "POST",
            &path,
            Some(&clerk("clerk-1")),
            &json!({"code": wrong})
        )
        .await
        .problem(422, "wrong-pickup-code")
        .as_deref(),
        Some("code")
    );
    let ok = w
        .json(
            "POST",
            &path,
            Some(&clerk("clerk-1")),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["status"], "picked_up");
    assert_eq!(ok.body["parcels"][0]["handed_over"]["by"], "clerk-1");
    w.json(
        "POST",
        &path,
        Some(&clerk("clerk-1")),
        &json!({"code": code}),
    )
    .await
    .problem(409, "order-not-ready");
}

#[tokio::test]
async fn a_payment_notification_must_be_signed_and_exact() {
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let placed = w.send(order_req(&w, "buyer-1", "k1", &rush_order())).await;
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    let total = placed.body["order"]["total_fen"].as_i64().unwrap();
    let notify = |body: Value, sig: Option<String>| {
        let mut req = request("POST", "/v1/payments/notify", None, Some(body.to_string()));
        if let Some(s) = sig {
            req.headers_mut()
                .insert("x-clearance-signature", s.parse().unwrap());
        }
        req
    };
    let secret = b"clearance-local-payments";
    let notice = json!({"tenant": "demo/south-china", "order": id, "amount_fen": total, "payment_ref": "wx-1"});
    // unsigned, or signed with another key: 401, nothing changes
    w.send(notify(notice.clone(), None))
        .await
        .problem(401, "invalid-signature");
    let forged = clearance::domain::signing::sign_body(b"guess", notice.to_string().as_bytes());
    w.send(notify(notice.clone(), Some(forged)))
        .await
        .problem(401, "invalid-signature");
    // a signed notice for the wrong amount pays nothing: it is recorded to refund
    let short = json!({"tenant": "demo/south-china", "order": id, "amount_fen": total - 1, "payment_ref": "wx-0"});
    let sig = clearance::domain::signing::sign_body(secret, short.to_string().as_bytes());
    let r = w.send(notify(short, Some(sig))).await;
    assert_eq!(r.body["status"], "refund_due", "{}", r.body);
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    assert_eq!(
        w.get(&format!("{BASE}/orders/{id}"), Some(&buyer))
            .await
            .body["status"],
        "awaiting_payment"
    );
    // the right one pays, and a repeat of it is harmless
    let sig = clearance::domain::signing::sign_body(secret, notice.to_string().as_bytes());
    let r = w.send(notify(notice.clone(), Some(sig.clone()))).await;
    assert_eq!(r.body["status"], "paid", "{}", r.body);
    let r = w.send(notify(notice, Some(sig))).await;
    assert_eq!(r.body["status"], "already_paid");
    assert_eq!(
        w.get(&format!("{BASE}/orders/{id}"), Some(&buyer))
            .await
            .body["status"],
        "paid"
    );
}

#[tokio::test]
async fn a_late_payment_for_a_cancelled_order_is_queued_for_refund() {
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let placed = w.send(order_req(&w, "buyer-1", "k1", &rush_order())).await;
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.clock.advance(chrono::Duration::minutes(16));
    let t = clearance_local::seed::tenant().unwrap();
    w.state
        .cancel_unpaid(&t, &OrderId::parse(&id).unwrap(), w.clock_now())
        .await
        .unwrap();
    let paid = w
        .json("POST", &format!("/dev/orders/{id}/pay"), None, &json!({}))
        .await;
    assert_eq!(paid.body["status"], "refund_due", "{}", paid.body);
    let refunds = w
        .queue
        .receive(clearance::queue::QueueName::Refunds, 10)
        .await
        .unwrap();
    assert_eq!(refunds.len(), 1);
    let msg: Value = serde_json::from_str(&refunds[0].body).unwrap();
    let refund_id = msg["refund"].as_str().unwrap().to_owned();
    assert!(refund_id.starts_with(&format!("{id}-P")), "{msg}");
    let refund = w
        .state
        .db
        .refund(
            &t,
            &clearance::domain::ids::RefundId::parse(&refund_id).unwrap(),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        refund.amount_fen.get(),
        placed.body["order"]["total_fen"].as_i64().unwrap()
    );
    assert_eq!(refund.payment_ref.as_str(), format!("sandbox-{id}"));
    let buyer = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&buyer)).await;
    assert_eq!(order.body["status"], "cancelled");
}

#[tokio::test]
async fn bad_orders_get_distinct_problems_and_write_nothing() {
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let send = |buyer: &str, key: &str, body: Value| w.send(order_req(&w, buyer, key, &body));
    let line = |sku: &str, size: &str, q: i64| json!({"campaign": "rush", "lines": [{"sku": sku, "size": size, "quantity": q}]});
    assert_eq!(
        send("b", "k1", line("RUSH-1", "38", 0))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("lines[0].quantity")
    );
    assert_eq!(
        send("b", "k2", line("RUSH-1", "38", -1))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("lines[0].quantity")
    );
    assert_eq!(
        send("b", "k3", line("NOPE-1", "38", 1))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("lines[0].sku")
    );
    assert_eq!(
        send("b", "k4", line("RUSH-1", "44", 1))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("lines[0].size")
    );
    assert_eq!(
        send("b", "k5", json!({"campaign": "rush", "lines": []}))
            .await
            .problem(422, "validation-error")
            .as_deref(),
        Some("lines")
    );
    let mut with_coupon = rush_order();
    with_coupon["coupon"] = json!("c20.1");
    send("b", "k6", with_coupon)
        .await
        .problem(409, "coupon-not-applicable");
    // (a bad share link does not stop a sale: it credits nobody, see order_path.rs)
    send(
        "b",
        "k8",
        json!({"campaign": "nope", "lines": [{"sku": "RUSH-1", "size": "38", "quantity": 1}]}),
    )
    .await
    .problem(404, "not-found");
    // no Idempotency-Key
    let token = w.tokens.mint("b", Role::Consumer, &[]).unwrap();
    let r = w
        .send(request(
            "POST",
            &format!("{BASE}/orders"),
            Some(&token),
            Some(rush_order().to_string()),
        ))
        .await;
    assert_eq!(
        r.problem(400, "invalid-header").as_deref(),
        Some("Idempotency-Key")
    );
    assert_eq!(r.body["title"], "A request header is not valid");
    // not signed in
    w.send(request(
        "POST",
        &format!("{BASE}/orders"),
        None,
        Some(rush_order().to_string()),
    ))
    .await
    .problem(401, "unauthenticated");
    // none of that moved stock
    assert_eq!(units_left(&w, "rush", "RUSH-1").await, 5);
    // and after the campaign ends
    w.clock.advance(chrono::Duration::days(5));
    send("b", "k9", rush_order())
        .await
        .problem(409, "campaign-not-live");
}

#[tokio::test]
async fn a_share_link_credits_its_guide_and_fulfillment_prefers_the_guides_store() {
    let w = World::seeded().await;
    let token = w.share_token("sz-futian-g1", "sz-futian", "summer-clearance");
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}], "share_token": token});
    let placed = w.send(order_req(&w, "buyer-9", "k1", &body)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["order"]["guide"], "sz-futian-g1");
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.json("POST", &format!("/dev/orders/{id}/pay"), None, &json!({}))
        .await;
    w.drain().await;
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&w.ops())).await;
    assert_eq!(
        order.body["parcels"][0]["store"], "sz-futian",
        "{}",
        order.body
    );
}

#[tokio::test]
async fn my_orders_are_mine_newest_first_and_paged() {
    let w = World::seeded().await;
    let mut ids = Vec::new();
    for (i, sku) in ["SD-1001", "SD-1002", "SD-1004"].iter().enumerate() {
        let body = json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "38", "quantity": 1}]});
        let r = w
            .send(order_req(&w, "buyer-1", &format!("k{i}"), &body))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["order"]["id"].as_str().unwrap().to_owned());
    }
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}]});
    let theirs = w.send(order_req(&w, "buyer-2", "k9", &body)).await;
    let their_id = theirs.body["order"]["id"].as_str().unwrap().to_owned();
    let me = w.tokens.mint("buyer-1", Role::Consumer, &[]).unwrap();
    let page = w.get("/v1/me/orders?limit=2", Some(&me)).await;
    let got: Vec<&str> = page.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = w
        .get(&format!("/v1/me/orders?limit=2&cursor={cursor}"), Some(&me))
        .await;
    let got: Vec<&str> = rest.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[0].as_str()]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    // someone else's order is not found, and neither is mine under another tenant
    w.get(&format!("{BASE}/orders/{their_id}"), Some(&me))
        .await
        .problem(404, "not-found");
    w.get(
        &format!("/v1/acme/south-china/orders/{}", ids[0]),
        Some(&me),
    )
    .await
    .problem(404, "not-found");
}

#[tokio::test]
async fn coupons_are_limited_per_buyer_and_by_the_budget() {
    // given the rush campaign's template: a budget of 1000, one per buyer
    let w = rush_world(clearance_tests::memory_table(), 1, 5).await;
    let claim = |buyer: &str| {
        let t = w.tokens.mint(buyer, Role::Consumer, &[]).unwrap();
        let req = request(
            "POST",
            &format!("{BASE}/campaigns/rush/coupons/c20/claim"),
            Some(&t),
            Some("{}".into()),
        );
        w.send(req)
    };
    assert_eq!(claim("a").await.status, 201);
    // when the same buyer claims again, and then others exhaust the budget
    claim("a").await.problem(409, "coupon-limit-reached");
    for i in 0..999 {
        let r = claim(&format!("b{i}")).await;
        assert_eq!(r.status, 201, "claim {i}: {}", r.body);
    }
    // then the budget (1000) holds: nobody else gets one
    claim("late").await.problem(409, "coupon-budget-exhausted");
    claim("a").await.problem(409, "coupon-limit-reached");
    // and an unknown template is not found
    let t = w.tokens.mint("a", Role::Consumer, &[]).unwrap();
    w.json(
        "POST",
        &format!("{BASE}/campaigns/rush/coupons/nope/claim"),
        Some(&t),
        &json!({}),
    )
    .await
    .problem(404, "not-found");
}

#[tokio::test]
async fn outside_every_flash_slot_orders_are_refused_and_inside_they_pay_the_slot_price() {
    // given a campaign that sells only 12:00-13:00 Shanghai time, at a flash price
    let slots = json!([{"id": "lunch", "starts": "12:00", "ends": "13:00"}]);
    let w = rush_world_with(
        clearance_tests::memory_table(),
        1,
        5,
        slots,
        json!({"lunch": 6900}),
    )
    .await;
    // when a buyer orders at 13:00 (the slot has just closed)
    w.clock.set(t0() + chrono::Duration::hours(2));
    w.send(order_req(&w, "b", "k1", &rush_order()))
        .await
        .problem(409, "slot-closed");
    // then at 12:30 the order goes through at the lunch price
    w.clock.set(t0() + chrono::Duration::minutes(90));
    let r = w.send(order_req(&w, "b", "k2", &rush_order())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["order"]["lines"][0]["unit_price_fen"], 6900);
    assert_eq!(r.body["order"]["lines"][0]["slot"], "lunch");
}

/// The table port, recording the keys of every batch read.
struct RecordingReads {
    inner: Arc<clearance::table::memory::MemoryTable>,
    batches: std::sync::Mutex<Vec<Vec<Key>>>,
}

#[async_trait::async_trait]
impl Table for RecordingReads {
    async fn get(
        &self,
        key: &Key,
        c: bool,
    ) -> Result<Option<clearance::table::Item>, clearance::table::TableError> {
        self.inner.get(key, c).await
    }
    async fn batch_get(
        &self,
        keys: &[Key],
        c: bool,
    ) -> Result<Vec<clearance::table::Item>, clearance::table::TableError> {
        self.batches.lock().unwrap().push(keys.to_vec());
        self.inner.batch_get(keys, c).await
    }
    async fn put(
        &self,
        item: clearance::table::Item,
        cond: Option<clearance::table::Condition>,
    ) -> Result<(), clearance::table::TableError> {
        self.inner.put(item, cond).await
    }
    async fn query(
        &self,
        q: clearance::table::Query,
    ) -> Result<clearance::table::Page, clearance::table::TableError> {
        self.inner.query(q).await
    }
    async fn transact(
        &self,
        w: Vec<clearance::table::Write>,
    ) -> Result<(), clearance::table::TableError> {
        self.inner.transact(w).await
    }
}

#[tokio::test]
async fn an_order_reads_only_the_stock_shards_its_listing_has() {
    // given the demo's listings: SD-1002 in one shard, the flash FL-9001 in four
    let table = Arc::new(RecordingReads {
        inner: Arc::new(clearance::table::memory::MemoryTable::new()),
        batches: Default::default(),
    });
    let w = World::new(table.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, t0())
        .await
        .unwrap();
    for (sku, shards) in [("SD-1002", 1), ("FL-9001", 4)] {
        table.batches.lock().unwrap().clear();
        // when a buyer orders it
        let body = json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "37", "quantity": 1}], "coupon": "none"});
        let r = w
            .place(&format!("reader-{sku}"), &format!("k-{sku}"), &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        // then its one batch read names exactly the shards the listing has
        let batches = table.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 1, "{batches:?}");
        let shard_keys: Vec<&Key> = batches[0].iter().filter(|k| k.sk.contains("#S#")).collect();
        assert_eq!(shard_keys.len(), shards, "{sku}: {shard_keys:?}");
    }
}
