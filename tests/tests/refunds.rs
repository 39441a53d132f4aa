//! Refunds: decided by rule in the request, the fulfilling store's return address and
//! a printable return document, staff reviews, the goods received and restocked, and
//! every fen paid back exactly once, whatever the deliveries, workers and crashes.

use async_trait::async_trait;
use clearance::domain::ids::RefundId;
use clearance::domain::refund::MoneyStatus;
use clearance::queue::{QueueConsumer, QueueName};
use clearance::table::{Condition, Item, Key, Page, Query, Table, TableError, Write};
use clearance_tests::{request, shard_units, store_units, World, BASE};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Places, pays, dispatches and picks up an order of the demo campaign; returns its id
/// and the store that handed it over.
async fn picked_up(w: &World, buyer: &str, lines: Value) -> (String, String) {
    picked_up_via(w, buyer, lines, None).await
}

/// [`picked_up`], the buyer arriving with a guide's share link.
async fn picked_up_via(
    w: &World,
    buyer: &str,
    lines: Value,
    share: Option<String>,
) -> (String, String) {
    let mut body = json!({"campaign": "summer-clearance", "lines": lines, "coupon": "none"});
    if let Some(token) = share {
        body["share_token"] = token.into();
    }
    let key = format!(
        "order-{buyer}-{}",
        lines[0]["sku"].as_str().unwrap_or_default()
    );
    let placed = w.place(buyer, &key, &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(w.pay(&id).await.body["status"], "paid");
    w.drain().await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer(buyer)))
        .await;
    let parcel = &order.body["parcels"][0];
    let store = parcel["store"].as_str().unwrap().to_owned();
    let code = parcel["pickup_code"].as_str().unwrap();
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{id}/pickup"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(r.body["status"], "picked_up", "{}", r.body);
    (id, store)
}

fn good() -> Value {
    json!({"unworn": true, "tags_on": true, "original_box": true})
}

async fn ask_refund(
    w: &World,
    buyer: &str,
    order: &str,
    key: &str,
    body: &Value,
) -> clearance_tests::Resp {
    let mut req = request(
        "POST",
        &format!("{BASE}/orders/{order}/refunds"),
        Some(&w.buyer(buyer)),
        Some(body.to_string()),
    );
    req.headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    w.send(req).await
}

fn refund_id(s: &str) -> RefundId {
    RefundId::parse(s).unwrap()
}

async fn a_return_is_decided_in_the_request_received_restocked_and_refunded_once(
    table: Arc<dyn Table>,
) {
    // given a picked-up order of two units
    let w = World::new(table).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    // (through a guide's link, so attribution hears of the refund)
    let share = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let (id, store) = picked_up_via(
        &w,
        "buyer-1",
        json!([{"sku": "SD-1001", "size": "36", "quantity": 2}]),
        Some(share),
    )
    .await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await
        .body;
    let paid = order["lines"][0]["paid_fen"].as_i64().unwrap();
    let (shard_before, store_before) = (
        shard_units(&w, "summer-clearance", "SD-1001", "36").await,
        store_units(&w, "summer-clearance", "SD-1001", &store, "36").await,
    );
    // when the buyer returns one of them
    let before = w.counts.snapshot();
    let r = ask_refund(&w, "buyer-1", &id, "r1", &json!({"lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}], "reason": "wrong_size", "condition": good()})).await;
    let calls = w.counts.since(before);
    // then it is approved in the request, to the store that fulfilled it
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["decision"], "approved");
    assert_eq!(r.body["kind"], "return");
    assert_eq!(
        r.body["amount_fen"],
        paid / 2,
        "the allocated paid amount of one unit"
    );
    assert_eq!(r.body["return_store"], store.as_str());
    let stores = w
        .get(&format!("{BASE}/stores?limit=50"), Some(&w.ops()))
        .await
        .body;
    let address = stores["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == store.as_str())
        .unwrap()["address"]
        .clone();
    assert_eq!(r.body["return_address"], address);
    // in one batch read, one read of the store's address and one transaction
    assert_eq!(
        (calls.batch_get, calls.get, calls.transact, calls.total()),
        (1, 1, 1, 3),
        "{calls:?}"
    );
    // and the printable document is there, with the code, the address and a QR code
    let code = r.body["rma_code"].as_str().unwrap().to_owned();
    let url = r.body["rma_url"].as_str().unwrap().to_owned();
    let doc = w.send(request("GET", &url, None, None)).await;
    assert_eq!(doc.status, 200);
    assert!(doc.content_type.starts_with("text/html"));
    let refund = r.body["id"].as_str().unwrap().to_owned();
    let html = &doc.text;
    assert!(
        html.contains(&code)
            && html.contains("<svg")
            && html.contains(address["line"].as_str().unwrap()),
        "{html}"
    );
    // a forged or expired link serves nothing
    let forged = url.replace("signature=sha256%3D", "signature=sha256%3D0");
    assert_eq!(
        w.send(request("GET", &forged, None, None)).await.status,
        403
    );
    // the same request again is the same refund
    let again = ask_refund(&w, "buyer-1", &id, "r1", &json!({"lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}], "reason": "wrong_size", "condition": good()})).await;
    assert_eq!(again.body["id"], refund.as_str());
    // when a clerk of that store receives it as resaleable
    let r = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{refund}/receive"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"units": [{"line": 0, "resaleable": 1, "damaged": 0}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["money"], "queued");
    // then the unit is back in the store's stock and on sale, and the money is paid once
    assert_eq!(
        store_units(&w, "summer-clearance", "SD-1001", &store, "36").await,
        store_before + 1
    );
    assert_eq!(
        shard_units(&w, "summer-clearance", "SD-1001", "36").await,
        shard_before + 1
    );
    w.drain().await;
    let t = clearance_local::seed::tenant().unwrap();
    let done = w
        .state
        .db
        .refund(&t, &refund_id(&refund), true)
        .await
        .unwrap();
    assert_eq!(done.money, MoneyStatus::Succeeded);
    let ledger = w.sandbox.refunds();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[&done.id].amount.get(), paid / 2);
    // and attribution heard of it: the guide's sale is counted net of the refund
    let perf = w
        .get(
            &format!("{BASE}/guides/gz-tianhe-g1/performance?campaign=summer-clearance"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(perf.status, 200, "{}", perf.body);
    assert_eq!(perf.body["orders"], 1);
    assert_eq!(perf.body["gmv_fen"], paid);
    assert_eq!(perf.body["refunded_fen"], paid / 2);
    assert_eq!(perf.body["net_gmv_fen"], paid - paid / 2);
}

#[tokio::test]
async fn a_return_is_decided_in_the_request_received_restocked_and_refunded_once_on_memory() {
    a_return_is_decided_in_the_request_received_restocked_and_refunded_once(
        clearance_tests::memory_table(),
    )
    .await;
}

#[tokio::test]
async fn a_return_is_decided_in_the_request_received_restocked_and_refunded_once_on_dynamodb() {
    a_return_is_decided_in_the_request_received_restocked_and_refunded_once(
        clearance_tests::moto_table().await,
    )
    .await;
}

/// Fails the first write that records a refund as submitted: a worker stopped between
/// the provider's answer and its own write.
struct CrashAfterProvider {
    inner: Arc<dyn Table>,
    crashed: AtomicBool,
}

#[async_trait]
impl Table for CrashAfterProvider {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        self.inner.get(key, consistent).await
    }
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        self.inner.batch_get(keys, consistent).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        let submitted = matches!(item.get("money"), Some(serde_dynamo::AttributeValue::S(m)) if m == "submitted");
        if submitted && !self.crashed.swap(true, Ordering::SeqCst) {
            return Err(TableError::Unavailable("the worker stopped here".into()));
        }
        self.inner.put(item, condition).await
    }
    async fn query(&self, q: Query) -> Result<Page, TableError> {
        self.inner.query(q).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        self.inner.transact(writes).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_is_paid_once_under_duplicate_deliveries_concurrent_workers_and_a_crash() {
    let table = Arc::new(CrashAfterProvider {
        inner: clearance_tests::memory_table(),
        crashed: AtomicBool::new(false),
    });
    let w = World::new(table).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    // given a paid order cancelled before dispatch: its refund is queued at once
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}]});
    let placed = w.place("buyer-1", "k1", &body).await;
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&id).await;
    let r = ask_refund(
        &w,
        "buyer-1",
        &id,
        "cancel",
        &json!({"reason": "changed_mind"}),
    )
    .await;
    assert_eq!(r.body["kind"], "cancellation", "{}", r.body);
    let refund = r.body["id"].as_str().unwrap().to_owned();
    let msg = w
        .queue
        .receive(QueueName::Refunds, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.body.contains(&refund))
        .unwrap();
    // when the worker stops after the provider took it, before recording that
    let first = clearance::workers::handle_refund(&w.state, &msg.body).await;
    assert!(first.as_ref().is_err_and(|e| e.retryable), "{first:?}");
    // and the same message is then delivered five more times, two workers at once
    let (a, b) = tokio::join!(
        clearance::workers::handle_refund(&w.state, &msg.body),
        clearance::workers::handle_refund(&w.state, &msg.body)
    );
    a.unwrap();
    b.unwrap();
    for _ in 0..3 {
        clearance::workers::handle_refund(&w.state, &msg.body)
            .await
            .unwrap();
    }
    // then the provider was asked under one refund number, and paid it once
    let ledger = w.sandbox.refunds();
    assert_eq!(ledger.len(), 1);
    let paid = &ledger[&refund_id(&refund)];
    assert_eq!(
        paid.amount.get(),
        placed.body["order"]["total_fen"].as_i64().unwrap()
    );
    assert!(
        paid.asked >= 2,
        "the retry asked again under the same id: {}",
        paid.asked
    );
    let t = clearance_local::seed::tenant().unwrap();
    assert_eq!(
        w.state
            .db
            .refund(&t, &refund_id(&refund), true)
            .await
            .unwrap()
            .money,
        MoneyStatus::Succeeded
    );
}

#[tokio::test]
async fn payment_notices_the_order_cannot_take_are_each_refunded_once() {
    let w = World::seeded().await;
    let t = clearance_local::seed::tenant().unwrap();
    let body = |sku: &str| json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "38", "quantity": 1}], "coupon": "none"});
    let notify = |order: &Value, amount: i64, payment: &str| {
        let notice = json!({"tenant": "demo/south-china", "order": order["id"], "amount_fen": amount, "payment_ref": payment});
        let sig = clearance::domain::signing::sign_body(
            b"clearance-local-payments",
            notice.to_string().as_bytes(),
        );
        let mut req = request(
            "POST",
            "/v1/payments/notify",
            None,
            Some(notice.to_string()),
        );
        req.headers_mut()
            .insert("x-clearance-signature", sig.parse().unwrap());
        req
    };
    // a paid order, paid a second time with another payment
    let paid = w.place("b1", "k1", &body("SD-1001")).await.body["order"].clone();
    let total = paid["total_fen"].as_i64().unwrap();
    assert_eq!(
        w.send(notify(&paid, total, "wx-first")).await.body["status"],
        "paid"
    );
    assert_eq!(
        w.send(notify(&paid, total, "wx-second")).await.body["status"],
        "refund_due"
    );
    // an unpaid order paid the wrong amount
    let unpaid = w.place("b2", "k2", &body("SD-1002")).await.body["order"].clone();
    let short = unpaid["total_fen"].as_i64().unwrap() - 100;
    assert_eq!(
        w.send(notify(&unpaid, short, "wx-short")).await.body["status"],
        "refund_due"
    );
    // a cancelled order paid late, twice, by two payments: neither overwrites the other
    let late = w.place("b3", "k3", &body("SD-1004")).await.body["order"].clone();
    w.clock.advance(chrono::Duration::minutes(16));
    clearance_local::sweep_once(&w.state).await;
    let late_total = late["total_fen"].as_i64().unwrap();
    for p in ["wx-late-1", "wx-late-2"] {
        assert_eq!(
            w.send(notify(&late, late_total, p)).await.body["status"],
            "refund_due"
        );
    }
    // every notice replayed: nothing new
    for (o, amount, p) in [
        (&paid, total, "wx-second"),
        (&unpaid, short, "wx-short"),
        (&late, late_total, "wx-late-1"),
    ] {
        assert_eq!(
            w.send(notify(o, amount, p)).await.body["status"],
            "refund_due"
        );
    }
    w.drain().await;
    // each was refunded once, for exactly what it paid; the applied payment was kept
    let ledger = w.sandbox.refunds();
    let mut paid_back: Vec<(String, i64)> = ledger
        .values()
        .map(|r| (r.payment.to_string(), r.amount.get()))
        .collect();
    paid_back.sort();
    assert_eq!(
        paid_back,
        vec![
            ("wx-late-1".into(), late_total),
            ("wx-late-2".into(), late_total),
            ("wx-second".into(), total),
            ("wx-short".into(), short)
        ]
    );
    assert_eq!(
        w.sandbox
            .refunded(&clearance::domain::ids::PaymentRef::parse("wx-first").unwrap())
            .get(),
        0
    );
    let order = w
        .state
        .db
        .order(
            &t,
            &clearance::domain::ids::OrderId::parse(paid["id"].as_str().unwrap()).unwrap(),
            true,
        )
        .await
        .unwrap();
    assert_eq!(order.payment_ref.as_deref(), Some("wx-first"));
}

#[tokio::test]
async fn cancelling_before_dispatch_refunds_everything_and_gives_back_stock_coupon_and_limit() {
    let w = World::seeded().await;
    let buyer = w.buyer("b1");
    let claim = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/summer-clearance/coupons/no-threshold-20/claim"),
            Some(&buyer),
            &json!({}),
        )
        .await;
    assert_eq!(claim.status, 201);
    let before = shard_units(&w, "summer-clearance", "PM-2001", "38").await;
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "PM-2001", "size": "38", "quantity": 2}]});
    let placed = w.place("b1", "k1", &body).await;
    assert_eq!(
        placed.body["order"]["coupons"],
        json!(["no-threshold-20.1"])
    );
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&id).await;
    // when the buyer cancels before the store dispatched it
    let r = ask_refund(&w, "b1", &id, "c1", &json!({"reason": "changed_mind"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["kind"].as_str(), r.body["decision"].as_str()),
        (Some("cancellation"), Some("approved"))
    );
    assert_eq!(r.body["amount_fen"], placed.body["order"]["total_fen"]);
    w.drain().await;
    // then nothing is dispatched, everything is paid back, and all it took is back
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&buyer)).await;
    assert_eq!(order.body["status"], "cancelled");
    assert_eq!(order.body["parcels"], json!([]));
    assert_eq!(
        shard_units(&w, "summer-clearance", "PM-2001", "38").await,
        before
    );
    let coupons = w.get("/v1/me/coupons", Some(&buyer)).await;
    assert_eq!(coupons.body["coupons"][0]["status"], "available");
    let again = w.place("b1", "k2", &body).await;
    assert_eq!(
        again.status, 201,
        "the purchase limit is back: {}",
        again.body
    );
    assert_eq!(
        w.sandbox
            .refunds()
            .values()
            .map(|r| r.amount.get())
            .sum::<i64>(),
        placed.body["order"]["total_fen"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn the_rules_reject_review_and_staff_decide_with_a_note() {
    let w = World::seeded().await;
    // SD-1005 is sold as final sale in the demo
    let (final_sale, _) = picked_up(
        &w,
        "b1",
        json!([{"sku": "SD-1005", "size": "38", "quantity": 1}]),
    )
    .await;
    let r = ask_refund(&w, "b1", &final_sale, "r1", &json!({"lines": [{"sku": "SD-1005", "size": "38", "quantity": 1}], "reason": "changed_mind", "condition": good()})).await;
    assert_eq!(r.body["decision"], "rejected", "{}", r.body);
    assert_eq!(r.body["findings"][0]["code"], "final-sale");
    // worn goods go to a person, with the reason
    let (worn, store) = picked_up(
        &w,
        "b2",
        json!([{"sku": "SD-1001", "size": "38", "quantity": 1}]),
    )
    .await;
    let worn_body = json!({"lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}], "reason": "defective", "condition": {"unworn": false, "tags_on": true, "original_box": true}});
    let r = ask_refund(&w, "b2", &worn, "r2", &worn_body).await;
    assert_eq!(r.body["decision"], "pending_review", "{}", r.body);
    assert_eq!(r.body["findings"][0]["code"], "condition-not-resaleable");
    assert_eq!(
        r.body["rma_url"],
        Value::Null,
        "no return document before approval"
    );
    let pending = r.body["id"].as_str().unwrap().to_owned();
    // staff list it; a buyer cannot; another store's clerk does not see it
    let list = w
        .get(
            &format!("{BASE}/refunds?status=pending_review"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(list.body["refunds"][0]["id"], pending.as_str());
    w.get(
        &format!("{BASE}/refunds?status=pending_review"),
        Some(&w.buyer("b2")),
    )
    .await
    .problem(403, "forbidden");
    let other = if store == "gz-tianhe" {
        "sz-futian"
    } else {
        "gz-tianhe"
    };
    let theirs = w
        .get(
            &format!("{BASE}/refunds?status=pending_review"),
            Some(&w.clerk(&format!("clerk-{other}"))),
        )
        .await;
    assert_eq!(theirs.body["refunds"], json!([]));
    w.json(
        "POST",
        &format!("{BASE}/refunds/{pending}/decision"),
        Some(&w.clerk(&format!("clerk-{other}"))),
        &json!({"approve": true}),
    )
    .await
    .problem(403, "forbidden");
    // the store's own clerk approves with a note: recorded with who and when
    let r = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{pending}/decision"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"approve": true, "note": "small scuff, resaleable"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["decision"], "approved");
    assert_eq!(r.body["goods"], "awaiting_return");
    assert_eq!(r.body["decided"]["by"], format!("clerk-{store}"));
    assert_eq!(r.body["decided"]["note"], "small scuff, resaleable");
    assert!(r.body["rma_url"].is_string());
    w.json(
        "POST",
        &format!("{BASE}/refunds/{pending}/decision"),
        Some(&w.ops()),
        &json!({"approve": false}),
    )
    .await
    .problem(409, "refund-not-pending");
    // a rejection gives the units back: the buyer may ask again
    let (rejected, _) = picked_up(
        &w,
        "b3",
        json!([{"sku": "SD-1002", "size": "38", "quantity": 1}]),
    )
    .await;
    let mut b3 = worn_body.clone();
    b3["lines"][0]["sku"] = "SD-1002".into();
    let r = ask_refund(&w, "b3", &rejected, "r3", &b3).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    w.json(
        "POST",
        &format!("{BASE}/refunds/{id}/decision"),
        Some(&w.ops()),
        &json!({"approve": false, "note": "heavily worn"}),
    )
    .await;
    let again = ask_refund(&w, "b3", &rejected, "r4", &b3).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(again.body["id"].as_str().unwrap().ends_with("-R02"));
    // a unit already being returned cannot be asked for twice
    let twice = ask_refund(&w, "b2", &worn, "r5", &worn_body).await;
    assert_eq!(
        twice.problem(422, "validation-error").as_deref(),
        Some("lines[0].quantity")
    );
    // past the 7-day window: rejected by rule
    let (late, _) = picked_up(
        &w,
        "b4",
        json!([{"sku": "SD-1004", "size": "38", "quantity": 1}]),
    )
    .await;
    w.clock.advance(chrono::Duration::days(8));
    let r = ask_refund(&w, "b4", &late, "r6", &json!({"lines": [{"sku": "SD-1004", "size": "38", "quantity": 1}], "reason": "changed_mind", "condition": good()})).await;
    assert_eq!(r.body["decision"], "rejected", "{}", r.body);
    assert_eq!(r.body["findings"][0]["code"], "window-closed");
}

#[tokio::test]
async fn refund_timers_fire_even_when_their_messages_are_lost() {
    let w = World::seeded().await;
    let t = clearance_local::seed::tenant().unwrap();
    let (id, _) = picked_up(
        &w,
        "b1",
        json!([{"sku": "SD-1001", "size": "38", "quantity": 1}]),
    )
    .await;
    let worn = json!({"lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}], "reason": "defective", "condition": {"unworn": false, "tags_on": true, "original_box": true}});
    let pending = ask_refund(&w, "b1", &id, "r1", &worn).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id2, _) = picked_up(
        &w,
        "b2",
        json!([{"sku": "SD-1002", "size": "38", "quantity": 1}]),
    )
    .await;
    let mut ok = worn.clone();
    ok["lines"][0]["sku"] = "SD-1002".into();
    ok["condition"] = good();
    let approved = ask_refund(&w, "b2", &id2, "r2", &ok).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // every refund message is lost
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(30 * 24 * 3600)).await;
    for m in w.queue.receive(QueueName::Refunds, 100).await.unwrap() {
        w.queue.ack(QueueName::Refunds, &m.receipt).await.unwrap();
    }
    // when the review has waited past its 4 hours, the sweep escalates it
    w.clock
        .advance(chrono::Duration::hours(4) + chrono::Duration::minutes(1));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    let r = w
        .state
        .db
        .refund(&t, &refund_id(&pending), true)
        .await
        .unwrap();
    assert!(r.escalated, "escalated by the sweeper");
    let list = w
        .get(
            &format!("{BASE}/refunds?status=pending_review"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(list.body["refunds"][0]["escalated"], true);
    // and a return not sent back in 7 days closes, giving its units back to the order
    w.clock.advance(chrono::Duration::days(7));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    let r = w
        .state
        .db
        .refund(&t, &refund_id(&approved), true)
        .await
        .unwrap();
    assert_eq!(r.goods, clearance::domain::refund::GoodsStatus::Closed);
    let order = w
        .state
        .db
        .order(
            &t,
            &clearance::domain::ids::OrderId::parse(&id2).unwrap(),
            true,
        )
        .await
        .unwrap();
    assert_eq!((order.returned, order.refunded_fen.get()), (vec![0], 0));
    assert!(
        w.sandbox.refunds().is_empty(),
        "nothing was paid for goods never returned"
    );
}

#[tokio::test]
async fn nobody_else_reads_asks_for_or_receives_a_refund() {
    let w = World::seeded().await;
    let (id, store) = picked_up(
        &w,
        "b1",
        json!([{"sku": "SD-1001", "size": "38", "quantity": 1}]),
    )
    .await;
    let body = json!({"lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}], "reason": "wrong_size", "condition": good()});
    // another buyer cannot ask for a refund of it: not found
    ask_refund(&w, "b2", &id, "x", &body)
        .await
        .problem(404, "not-found");
    let refund = ask_refund(&w, "b1", &id, "r1", &body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.get(&format!("{BASE}/refunds/{refund}"), Some(&w.buyer("b2")))
        .await
        .problem(404, "not-found");
    assert_eq!(
        w.get(&format!("{BASE}/refunds/{refund}"), Some(&w.buyer("b1")))
            .await
            .status,
        200
    );
    // another tenant's staff: not found
    let elsewhere = w.token(clearance::domain::auth::Role::Ops, &["demo/north-china"]);
    w.get(&format!("{BASE}/refunds/{refund}"), Some(&elsewhere))
        .await
        .problem(404, "not-found");
    // only a clerk of the store it returns to receives it
    let other = if store == "gz-tianhe" {
        "sz-futian"
    } else {
        "gz-tianhe"
    };
    let receive = json!({"units": [{"line": 0, "resaleable": 1, "damaged": 0}]});
    w.json(
        "POST",
        &format!("{BASE}/refunds/{refund}/receive"),
        Some(&w.clerk(&format!("clerk-{other}"))),
        &receive,
    )
    .await
    .problem(403, "forbidden");
    w.json(
        "POST",
        &format!("{BASE}/refunds/{refund}/receive"),
        Some(&w.buyer("b1")),
        &receive,
    )
    .await
    .problem(403, "forbidden");
    // a wrong count of units is named
    let wrong = json!({"units": [{"line": 0, "resaleable": 2, "damaged": 0}]});
    assert_eq!(
        w.json(
            "POST",
            &format!("{BASE}/refunds/{refund}/receive"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &wrong
        )
        .await
        .problem(422, "validation-error")
        .as_deref(),
        Some("units[0]")
    );
}

#[tokio::test]
async fn the_http_refund_api_pays_once_per_refund_number_at_the_provider() {
    // the sandbox served over real HTTP, as a provider's refund API would be
    let w = World::seeded().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = w.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let api = clearance::payments::http::HttpRefundApi::new(
        format!("http://{addr}/dev/provider"),
        b"clearance-local-payments".to_vec(),
    );
    use clearance::payments::{RefundApi, RefundState};
    let id = refund_id("01JDEMOORDER00000000000000-R01");
    let payment = clearance::domain::ids::PaymentRef::parse("wx-1").unwrap();
    let amount = clearance::domain::money::Fen::new(1234).unwrap();
    assert_eq!(api.refund_state(&id).await.unwrap(), RefundState::Unknown);
    for _ in 0..3 {
        api.refund(&id, &payment, amount).await.unwrap();
    }
    assert_eq!(api.refund_state(&id).await.unwrap(), RefundState::Succeeded);
    let ledger = w.sandbox.refunds();
    assert_eq!(
        (ledger.len(), ledger[&id].asked, ledger[&id].amount),
        (1, 3, amount)
    );
    // the same number for another amount is refused, not paid, and not retried
    let refused = api
        .refund(
            &id,
            &payment,
            clearance::domain::money::Fen::new(1).unwrap(),
        )
        .await;
    assert!(
        matches!(refused, Err(clearance::payments::PaymentError::Refused(_))),
        "{refused:?}"
    );
    // a wrongly signed request is refused too
    let forged = clearance::payments::http::HttpRefundApi::new(
        format!("http://{addr}/dev/provider"),
        b"guess".to_vec(),
    );
    assert!(forged
        .refund(
            &refund_id("01JDEMOORDER00000000000000-R02"),
            &payment,
            amount
        )
        .await
        .is_err());
    assert_eq!(w.sandbox.refunds().len(), 1);
}

#[tokio::test]
async fn a_buyer_past_the_return_threshold_goes_to_a_person() {
    let w = World::seeded().await;
    let skus = ["SD-1001", "SD-1002", "SD-1004", "PM-2001"];
    let mut decisions = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let (id, _) = picked_up(&w, "b1", json!([{"sku": sku, "size": "38", "quantity": 1}])).await;
        let r = ask_refund(&w, "b1", &id, &format!("r{i}"), &json!({"lines": [{"sku": sku, "size": "38", "quantity": 1}], "reason": "wrong_size", "condition": good()})).await;
        decisions.push((
            r.body["decision"].as_str().unwrap_or_default().to_owned(),
            r.body["findings"].clone(),
        ));
    }
    let kinds: Vec<&str> = decisions.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(
        kinds,
        ["approved", "approved", "approved", "pending_review"]
    );
    assert_eq!(decisions[3].1[0]["code"], "frequent-returns");
}

#[tokio::test]
async fn the_providers_signed_refund_notice_settles_a_submitted_refund_once() {
    let w = World::seeded().await;
    let t = clearance_local::seed::tenant().unwrap();
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}]});
    let placed = w.place("b1", "k1", &body).await;
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&id).await;
    let refund = ask_refund(&w, "b1", &id, "c", &json!({"reason": "changed_mind"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // recorded as submitted, as if the provider had not settled it yet
    let current = w
        .state
        .db
        .refund(&t, &refund_id(&refund), true)
        .await
        .unwrap();
    let mut next = current.clone();
    next.submitted(clearance_tests::t0());
    w.state.advance_refund(&t, &current, next).await.unwrap();
    let notice = json!({"tenant": "demo/south-china", "refund": refund, "status": "succeeded",
        "amount_fen": current.amount_fen.get()});
    let send = |sig: String| {
        let mut req = request(
            "POST",
            "/v1/payments/refund-notify",
            None,
            Some(notice.to_string()),
        );
        req.headers_mut()
            .insert("x-clearance-signature", sig.parse().unwrap());
        req
    };
    let forged = clearance::domain::signing::sign_body(b"guess", notice.to_string().as_bytes());
    w.send(send(forged)).await.problem(401, "invalid-signature");
    assert_eq!(
        w.state
            .db
            .refund(&t, &refund_id(&refund), true)
            .await
            .unwrap()
            .money,
        MoneyStatus::Submitted
    );
    let sig = clearance::domain::signing::sign_body(
        b"clearance-local-payments",
        notice.to_string().as_bytes(),
    );
    for _ in 0..2 {
        let r = w.send(send(sig.clone())).await;
        assert_eq!(r.body["money"], "succeeded", "{}", r.body);
    }
    let settled = w
        .state
        .db
        .refund(&t, &refund_id(&refund), true)
        .await
        .unwrap();
    assert_eq!(
        (settled.money, settled.version),
        (MoneyStatus::Succeeded, current.version + 2)
    );
}
