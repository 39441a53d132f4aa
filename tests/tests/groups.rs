//! Group buys: the last seat never oversold, payment never failing on capacity, the
//! N-th payment forming the group, and a failed group refunding every member once, on
//! time, whatever the races and lost messages.

use clearance::domain::group_buy::GroupStatus;
use clearance::queue::{QueueConsumer, QueueName};
use clearance::table::Table;
use clearance_tests::{listing, request, t0, World, BASE};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// A live campaign "gb" with GB-1 sold in groups of 3 at ¥79 (clearance ¥99), 30 units
/// at gz-tianhe (clerk-gz); GB-2 the same but completed by the store at 2 paid.
async fn group_world(table: Arc<dyn Table>) -> World {
    let w = World::new(table).await;
    w.store("gz-tianhe")
        .named("Tianhe")
        .clerks(&["clerk-gz"])
        .put()
        .await;
    let mut campaign = w
        .campaign("gb")
        .named("Groups")
        .stores(&["gz-tianhe"])
        .runs(
            t0() + chrono::Duration::hours(1),
            t0() + chrono::Duration::days(3),
        );
    for (sku, completes) in [("GB-1", Value::Null), ("GB-2", json!(2))] {
        campaign = campaign.listing(
            sku,
            listing(9_900)
                .named("Group sandal")
                .list_price(19_900)
                .shards(2)
                .stock("gz-tianhe", "38", 30)
                .group(json!({"price_fen": 7900, "size": 3, "hours": 24, "per_buyer": 1, "store_completes_at": completes})),
        );
    }
    campaign.live().await;
    w.clock.set(t0() + chrono::Duration::hours(2));
    w
}

fn seat(sku: &str) -> Value {
    json!({"campaign": "gb", "lines": [{"sku": sku, "size": "38", "quantity": 1}], "coupon": "none"})
}

fn seat_request(
    w: &World,
    buyer: &str,
    path: &str,
    body: &Value,
) -> axum::http::Request<axum::body::Body> {
    let mut req = request("POST", path, Some(&w.buyer(buyer)), Some(body.to_string()));
    req.headers_mut()
        .insert("idempotency-key", format!("seat-{buyer}").parse().unwrap());
    req
}

/// Opens a group of `sku` as `buyer`; returns the group id and the order id.
async fn open(w: &World, buyer: &str, sku: &str) -> (String, String) {
    let r = w
        .send(seat_request(
            w,
            buyer,
            &format!("{BASE}/campaigns/gb/group-buys"),
            &seat(sku),
        ))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["order"]["total_fen"], 7900, "the group price");
    (
        r.body["order"]["group_buy"].as_str().unwrap().to_owned(),
        r.body["order"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn join(w: &World, buyer: &str, group: &str, sku: &str) -> clearance_tests::Resp {
    let mut req = seat_request(
        w,
        buyer,
        &format!("{BASE}/group-buys/{group}/join"),
        &seat(sku),
    );
    let key = format!("join-{buyer}-{group}");
    req.headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    w.send(req).await
}

async fn group(w: &World, id: &str) -> Value {
    w.get(&format!("{BASE}/group-buys/{id}"), None).await.body
}

async fn fifty_joiners_for_two_seats(table: Arc<dyn Table>) {
    // given a group of 3 with its opener's seat taken
    let w = group_world(table).await;
    let (g, _) = open(&w, "opener", "GB-1").await;
    // when 50 buyers try to join at once
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = w.app.clone();
            let req = seat_request(
                &w,
                &format!("joiner-{i}"),
                &format!("{BASE}/group-buys/{g}/join"),
                &seat("GB-1"),
            );
            tokio::spawn(async move {
                let res = app.oneshot(req).await.unwrap();
                let status = res.status().as_u16();
                let body = http_body_util::BodyExt::collect(res.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                (
                    status,
                    serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    // then exactly two got seats, and everyone else was told the group is full
    let seated = results.iter().filter(|(s, _)| *s == 201).count();
    let full = results
        .iter()
        .filter(|(s, b)| {
            *s == 409
                && b["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("/group-full"))
        })
        .count();
    assert_eq!(
        (seated, full),
        (2, 48),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let view = group(&w, &g).await;
    assert_eq!(view["members"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["seats_left"], 0);
    // and no order exists without a seat: 3 units left the stock, no more
    let product = w
        .get(&format!("{BASE}/campaigns/gb/products/GB-1"), None)
        .await;
    assert_eq!(product.status, 200);
    let t = clearance_local::seed::tenant().unwrap();
    let p = w
        .state
        .db
        .product(
            &t,
            &clearance::domain::ids::CampaignId::parse("gb").unwrap(),
            &clearance::domain::ids::Sku::parse("GB-1").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(p.units.values().sum::<u32>(), 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_joiners_for_two_seats_take_exactly_two_on_memory() {
    fifty_joiners_for_two_seats(clearance_tests::memory_table()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_joiners_for_two_seats_take_exactly_two_on_dynamodb() {
    fifty_joiners_for_two_seats(clearance_tests::moto_table().await).await;
}

#[tokio::test]
async fn joining_is_one_read_and_one_transaction_and_the_nth_payment_forms_the_group() {
    let w = group_world(clearance_tests::memory_table()).await;
    let (g, o1) = open(&w, "opener", "GB-1").await;
    let before = w.counts.snapshot();
    let r2 = join(&w, "b2", &g, "GB-1").await;
    let calls = w.counts.since(before);
    assert_eq!(r2.status, 201, "{}", r2.body);
    assert_eq!(
        (calls.batch_get, calls.transact, calls.total()),
        (1, 1, 2),
        "{calls:?}"
    );
    let o2 = r2.body["order"]["id"].as_str().unwrap().to_owned();
    let o3 = join(&w, "b3", &g, "GB-1").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // two paid: paid but held, nothing dispatched
    w.pay(&o1).await;
    w.pay(&o2).await;
    w.drain().await;
    let held = w
        .get(&format!("{BASE}/orders/{o1}"), Some(&w.buyer("opener")))
        .await;
    assert_eq!(held.body["status"], "paid");
    assert_eq!(held.body["parcels"], json!([]));
    assert_eq!(group(&w, &g).await["status"], "open");
    // the third payment forms it, and only then are the three orders dispatched
    w.pay(&o3).await;
    w.drain().await;
    let view = group(&w, &g).await;
    assert_eq!(view["status"], "formed");
    assert_eq!(view["paid"], 3);
    for (buyer, o) in [("opener", &o1), ("b2", &o2), ("b3", &o3)] {
        let order = w
            .get(&format!("{BASE}/orders/{o}"), Some(&w.buyer(buyer)))
            .await;
        assert_eq!(
            order.body["status"], "ready_for_pickup",
            "{buyer}: {}",
            order.body
        );
    }
    // members are shown masked
    let names: Vec<&str> = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["op***r", "b***", "b***"],
        "the opener first; short names all but hidden"
    );
    // a member refunded after forming leaves the group formed, and it shows
    let order = w
        .get(&format!("{BASE}/orders/{o2}"), Some(&w.buyer("b2")))
        .await;
    let code = order.body["parcels"][0]["pickup_code"].as_str().unwrap();
    w.json(
        "POST",
        &format!("{BASE}/orders/{o2}/pickup"),
        Some(&w.clerk("clerk-gz")),
        &json!({"code": code}),
    )
    .await;
    let mut req = request("POST", &format!("{BASE}/orders/{o2}/refunds"), Some(&w.buyer("b2")),
        Some(json!({"lines": [{"sku": "GB-1", "size": "38", "quantity": 1}], "reason": "wrong_size", "condition": {"unworn": true, "tags_on": true, "original_box": true}}).to_string()));
    req.headers_mut()
        .insert("idempotency-key", "ret".parse().unwrap());
    assert_eq!(w.send(req).await.status, 201);
    let view = group(&w, &g).await;
    assert_eq!(view["status"], "formed");
    assert_eq!(view["members"][1]["refunded"], true);
}

#[tokio::test]
async fn the_rules_have_their_own_problems() {
    let w = group_world(clearance_tests::memory_table()).await;
    let (g, _) = open(&w, "opener", "GB-1").await;
    // the opener cannot join their own; nobody takes two seats
    join(&w, "opener", &g, "GB-1")
        .await
        .problem(409, "already-in-group");
    assert_eq!(join(&w, "b2", &g, "GB-1").await.status, 201);
    let mut again = seat_request(
        &w,
        "b2",
        &format!("{BASE}/group-buys/{g}/join"),
        &seat("GB-1"),
    );
    again
        .headers_mut()
        .insert("idempotency-key", "another-key".parse().unwrap());
    w.send(again).await.problem(409, "already-in-group");
    // one group per buyer per listing
    let mut second = seat_request(
        &w,
        "opener",
        &format!("{BASE}/campaigns/gb/group-buys"),
        &seat("GB-1"),
    );
    second
        .headers_mut()
        .insert("idempotency-key", "second-group".parse().unwrap());
    w.send(second).await.problem(409, "group-limit-exceeded");
    // the group's own product only
    join(&w, "b3", &g, "GB-2")
        .await
        .problem(422, "validation-error");
    // another tenant's group is not found
    let elsewhere = w
        .send(seat_request(
            &w,
            "b4",
            &format!("/v1/demo/north-china/group-buys/{g}/join"),
            &seat("GB-1"),
        ))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    w.get(&format!("/v1/demo/north-china/group-buys/{g}"), None)
        .await
        .problem(404, "not-found");
    // a paid seat of a forming group is not cancelled on its own
    let (g2, o) = open(&w, "b5", "GB-2").await;
    w.pay(&o).await;
    let mut cancel = request(
        "POST",
        &format!("{BASE}/orders/{o}/refunds"),
        Some(&w.buyer("b5")),
        Some(json!({"reason": "changed_mind"}).to_string()),
    );
    cancel
        .headers_mut()
        .insert("idempotency-key", "c".parse().unwrap());
    w.send(cancel).await.problem(409, "group-pending");
    // listing open groups: fullest first
    let listed = w
        .get(&format!("{BASE}/campaigns/gb/group-buys?sku=GB-1"), None)
        .await;
    assert_eq!(listed.body["group_buys"][0]["id"], g.as_str());
    assert_eq!(listed.body["group_buys"][0]["seats_left"], 1);
    let mine = w.get("/v1/me/group-buys", Some(&w.buyer("b5"))).await;
    assert_eq!(mine.body["group_buys"][0]["group_buy"]["id"], g2.as_str());
    // past its expiry nobody joins
    w.clock.advance(chrono::Duration::hours(25));
    join(&w, "b6", &g, "GB-1")
        .await
        .problem(409, "group-expired");
    // and when the campaign has ended, nobody opens one
    w.clock.advance(chrono::Duration::days(3));
    let late = w
        .send(seat_request(
            &w,
            "b7",
            &format!("{BASE}/campaigns/gb/group-buys"),
            &seat("GB-1"),
        ))
        .await;
    late.problem(409, "campaign-not-live");
}

#[tokio::test(start_paused = true)]
async fn an_unpaid_seat_is_released_by_its_payment_timeout_and_taken_again() {
    let w = group_world(clearance_tests::memory_table()).await;
    let (g, o1) = open(&w, "opener", "GB-1").await;
    let o2 = join(&w, "b2", &g, "GB-1").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(join(&w, "b3", &g, "GB-1").await.status, 201);
    join(&w, "b4", &g, "GB-1").await.problem(409, "group-full");
    w.pay(&o1).await;
    w.pay(&o2).await;
    // b3 never pays: at the deadline their seat comes back
    w.clock.advance(chrono::Duration::minutes(16));
    tokio::time::advance(std::time::Duration::from_secs(16 * 60)).await;
    w.drain().await;
    let view = group(&w, &g).await;
    assert_eq!(view["seats_left"], 1, "{view}");
    assert_eq!(
        join(&w, "b4", &g, "GB-1").await.status,
        201,
        "the seat is taken again"
    );
}

/// A group of GB-1 with the opener and b2 paid, b3 holding an unpaid seat, at its expiry.
async fn two_paid_one_unpaid(w: &World) -> (String, [String; 3]) {
    let (g, o1) = open(w, "opener", "GB-1").await;
    let o2 = join(w, "b2", &g, "GB-1").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o3 = join(w, "b3", &g, "GB-1").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.pay(&o1).await;
    w.pay(&o2).await;
    (g, [o1, o2, o3])
}

#[tokio::test]
async fn an_expired_group_refunds_each_member_once_even_when_the_expiry_comes_twice() {
    let w = group_world(clearance_tests::memory_table()).await;
    let (g, orders) = two_paid_one_unpaid(&w).await;
    let before = {
        let t = clearance_local::seed::tenant().unwrap();
        w.state
            .db
            .product(
                &t,
                &clearance::domain::ids::CampaignId::parse("gb").unwrap(),
                &clearance::domain::ids::Sku::parse("GB-1").unwrap(),
            )
            .await
            .unwrap()
            .units
            .values()
            .sum::<u32>()
    };
    assert_eq!(before, 27);
    // the expiry message delivered twice, at its time
    w.clock.advance(chrono::Duration::hours(24));
    let t = clearance_local::seed::tenant().unwrap();
    let msg = clearance::queue::messages::GroupMessage {
        tenant: t.clone(),
        group: clearance::domain::ids::GroupBuyId::parse(&g).unwrap(),
        due: None,
    };
    let body = serde_json::to_string(&msg).unwrap();
    clearance::workers::expire_group(&w.state, &body)
        .await
        .unwrap();
    clearance::workers::expire_group(&w.state, &body)
        .await
        .unwrap();
    w.drain().await;
    // then the group failed, both paid members were refunded once, the unpaid seat
    // cancelled, and all three units are back
    assert_eq!(group(&w, &g).await["status"], "failed");
    let ledger = w.sandbox.refunds();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert!(ledger.values().all(|r| r.amount.get() == 7900));
    for (buyer, o) in [
        ("opener", &orders[0]),
        ("b2", &orders[1]),
        ("b3", &orders[2]),
    ] {
        let order = w
            .get(&format!("{BASE}/orders/{o}"), Some(&w.buyer(buyer)))
            .await;
        assert_eq!(order.body["status"], "cancelled", "{buyer}");
    }
    let p = w
        .state
        .db
        .product(
            &t,
            &clearance::domain::ids::CampaignId::parse("gb").unwrap(),
            &clearance::domain::ids::Sku::parse("GB-1").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(p.units.values().sum::<u32>(), 30);
    // a payment arriving now for the cancelled seat is refunded too, once
    w.pay(&orders[2]).await;
    w.drain().await;
    assert_eq!(w.sandbox.refunds().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_lost_expiry_message_is_caught_by_the_sweeper_and_the_store_completes_what_it_may() {
    let w = group_world(clearance_tests::memory_table()).await;
    // GB-2 forms at expiry with 2 of 3 paid, completed by the store
    let (g, o1) = open(&w, "opener", "GB-2").await;
    let o2 = join(&w, "b2", &g, "GB-2").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o3 = join(&w, "b3", &g, "GB-2").await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.pay(&o1).await;
    w.pay(&o2).await;
    w.drain().await;
    // every group-expiry message is lost
    tokio::time::advance(std::time::Duration::from_secs(3600 * 48)).await;
    for m in w.queue.receive(QueueName::GroupExpiry, 100).await.unwrap() {
        w.queue
            .ack(QueueName::GroupExpiry, &m.receipt)
            .await
            .unwrap();
    }
    w.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    let view = group(&w, &g).await;
    assert_eq!(view["status"], "store_completed");
    assert_eq!(view["completed_by_store"], true);
    assert_eq!(view["paid"], 2, "no invented member");
    for (buyer, o, status) in [
        ("opener", &o1, "ready_for_pickup"),
        ("b2", &o2, "ready_for_pickup"),
        ("b3", &o3, "cancelled"),
    ] {
        let order = w
            .get(&format!("{BASE}/orders/{o}"), Some(&w.buyer(buyer)))
            .await;
        assert_eq!(order.body["status"], status, "{buyer}");
    }
    assert!(w.sandbox.refunds().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_racing_the_expiry_ends_formed_or_failed_and_refunded_never_both() {
    for round in 0..10 {
        let w = group_world(clearance_tests::memory_table()).await;
        let (g, orders) = two_paid_one_unpaid(&w).await;
        // the last payment and the expiry at the same moment
        w.clock.advance(chrono::Duration::hours(24));
        let t = clearance_local::seed::tenant().unwrap();
        let msg = clearance::queue::messages::GroupMessage {
            tenant: t.clone(),
            group: clearance::domain::ids::GroupBuyId::parse(&g).unwrap(),
            due: None,
        };
        let body = serde_json::to_string(&msg).unwrap();
        let st = w.state.clone();
        let expiry =
            tokio::spawn(async move { clearance::workers::expire_group(&st, &body).await });
        let paid = w.pay(&orders[2]).await;
        expiry.await.unwrap().unwrap();
        // a retry of the expiry settles whatever the race left
        let body = serde_json::to_string(&msg).unwrap();
        clearance::workers::expire_group(&w.state, &body)
            .await
            .unwrap();
        w.drain().await;
        let view = group(&w, &g).await;
        let refunded: i64 = w.sandbox.refunds().values().map(|r| r.amount.get()).sum();
        match view["status"].as_str() {
            Some("formed") => {
                assert_eq!(paid.body["status"], "paid", "round {round}");
                assert_eq!(refunded, 0, "round {round}: formed, nobody refunded");
            }
            Some("failed") => {
                assert_eq!(
                    refunded,
                    3 * 7900,
                    "round {round}: every fen taken is given back: {}",
                    paid.body
                );
            }
            other => panic!("round {round}: {other:?}"),
        }
        assert_ne!(view["status"], json!(GroupStatus::Open), "round {round}");
    }
}
