//! Fault injection through the ports: the table fails at each call of placing an order,
//! joining a group, paying a refund and closing a campaign, before its write or after
//! it (the write applied, the answer lost), and the queue refuses sends. The caller or
//! the queue retries, and nothing is lost or done twice: one order, its stock taken
//! once, its coupon redeemed once, the refund paid once, the same report.

use async_trait::async_trait;
use clearance::queue::{Queue, QueueConsumer, QueueError, QueueName};
use clearance::table::memory::MemoryTable;
use clearance::table::{Condition, Item, Key, Page, Query, Table, TableError, Write};
use clearance_tests::{request, World, BASE};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How an armed call fails.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Before it reaches the table: nothing written.
    Before,
    /// After the table applied it: the write stands, the answer is lost.
    AnswerLost,
}

/// The table port failing its `n`-th call from arming, once.
struct Faulty {
    inner: Arc<MemoryTable>,
    calls: AtomicUsize,
    armed: std::sync::Mutex<Option<(usize, Fault)>>,
    fired: AtomicUsize,
}

impl Faulty {
    fn new(inner: Arc<MemoryTable>) -> Self {
        Faulty {
            inner,
            calls: AtomicUsize::new(0),
            armed: std::sync::Mutex::new(None),
            fired: AtomicUsize::new(0),
        }
    }

    fn arm(&self, nth: usize, fault: Fault) {
        self.calls.store(0, Ordering::SeqCst);
        *self.armed.lock().unwrap() = Some((nth, fault));
    }

    fn disarm(&self) {
        *self.armed.lock().unwrap() = None;
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst) > 0
    }

    /// Whether this call fails, and how.
    fn tick(&self) -> Option<Fault> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let mut armed = self.armed.lock().unwrap();
        match *armed {
            Some((nth, fault)) if nth == n => {
                *armed = None;
                self.fired.fetch_add(1, Ordering::SeqCst);
                Some(fault)
            }
            _ => None,
        }
    }
}

fn lost() -> TableError {
    TableError::Unavailable("injected fault".into())
}

#[async_trait]
impl Table for Faulty {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        match self.tick() {
            Some(_) => Err(lost()),
            None => self.inner.get(key, consistent).await,
        }
    }
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        match self.tick() {
            Some(_) => Err(lost()),
            None => self.inner.batch_get(keys, consistent).await,
        }
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        match self.tick() {
            Some(Fault::Before) => Err(lost()),
            Some(Fault::AnswerLost) => {
                self.inner.put(item, condition).await?;
                Err(lost())
            }
            None => self.inner.put(item, condition).await,
        }
    }
    async fn query(&self, query: Query) -> Result<Page, TableError> {
        match self.tick() {
            Some(_) => Err(lost()),
            None => self.inner.query(query).await,
        }
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        match self.tick() {
            Some(Fault::Before) => Err(lost()),
            Some(Fault::AnswerLost) => {
                self.inner.transact(writes).await?;
                Err(lost())
            }
            None => self.inner.transact(writes).await,
        }
    }
}

/// A seeded world on a table that fails when armed.
async fn faulty_world() -> (World, Arc<Faulty>) {
    let memory = Arc::new(MemoryTable::new());
    let faulty = Arc::new(Faulty::new(memory.clone()));
    let w = World::new(faulty.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    (w, faulty)
}

/// POSTs as a client would: again, with the same idempotency key, while the
/// answer is 5xx (at most five times).
async fn with_retries(
    w: &World,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> clearance_tests::Resp {
    for _ in 0..5 {
        let r = w.post_keyed(path, token, key, body).await;
        if r.status.as_u16() < 500 {
            return r;
        }
    }
    panic!("POST {path} still failing after five tries");
}

async fn stock_of(w: &World, sku: &str, size: &str) -> i64 {
    let t = clearance_local::seed::tenant().unwrap();
    let c = clearance::domain::ids::CampaignId::parse("summer-clearance").unwrap();
    let sku = clearance::domain::ids::Sku::parse(sku).unwrap();
    let size = clearance::domain::ids::Size::parse(size).unwrap();
    let product = w.state.db.product(&t, &c, &sku).await.unwrap();
    i64::from(product.units.get(&size).copied().unwrap_or(0))
}

#[tokio::test]
async fn a_store_fault_at_any_call_of_placing_an_order_loses_nothing_and_takes_nothing_twice() {
    let cart = json!({"campaign": "summer-clearance", "lines": [{"sku": "PM-2006", "size": "38", "quantity": 1}]});
    let mut faults_fired = 0;
    for fault in [Fault::Before, Fault::AnswerLost] {
        for nth in 1..=6 {
            // given a buyer holding a coupon, and the stock as it is
            let (w, table) = faulty_world().await;
            let buyer = w.buyer("b1");
            let claim = w
                .json(
                    "POST",
                    &format!("{BASE}/campaigns/summer-clearance/coupons/over-500-50/claim"),
                    Some(&buyer),
                    &json!({}),
                )
                .await;
            assert_eq!(claim.status, 201, "{}", claim.body);
            let before = stock_of(&w, "PM-2006", "38").await;
            // when the table fails at its nth call while the order is placed
            table.arm(nth, fault);
            let placed = with_retries(&w, &format!("{BASE}/orders"), &buyer, "once", &cart).await;
            table.disarm();
            faults_fired += usize::from(table.fired());
            // then there is exactly one order, its unit taken once, its coupon used once
            assert_eq!(
                placed.status, 201,
                "{fault:?} at call {nth}: {}",
                placed.body
            );
            let mine = w.get("/v1/me/orders", Some(&buyer)).await;
            assert_eq!(
                mine.body["orders"].as_array().unwrap().len(),
                1,
                "{fault:?} at {nth}"
            );
            assert_eq!(
                stock_of(&w, "PM-2006", "38").await,
                before - 1,
                "{fault:?} at {nth}"
            );
            let coupons = w.get("/v1/me/coupons", Some(&buyer)).await;
            assert_eq!(
                coupons.body["coupons"][0]["status"], "redeemed",
                "{fault:?} at {nth}"
            );
            assert_eq!(placed.body["order"]["coupons"], json!(["over-500-50.1"]));
        }
    }
    assert!(
        faults_fired >= 4,
        "the faults fired on the order path ({faults_fired})"
    );
}

#[tokio::test]
async fn a_store_fault_at_any_call_of_joining_a_group_takes_one_seat() {
    let seat = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1003", "size": "38", "quantity": 1}], "coupon": "none"});
    for fault in [Fault::Before, Fault::AnswerLost] {
        for nth in 1..=4 {
            let (w, table) = faulty_world().await;
            let opened = with_retries(
                &w,
                &format!("{BASE}/campaigns/summer-clearance/group-buys"),
                &w.buyer("o1"),
                "open",
                &seat,
            )
            .await;
            assert_eq!(opened.status, 201, "{}", opened.body);
            let group = opened.body["order"]["group_buy"]
                .as_str()
                .unwrap()
                .to_owned();
            table.arm(nth, fault);
            let joined = with_retries(
                &w,
                &format!("{BASE}/group-buys/{group}/join"),
                &w.buyer("j1"),
                "join",
                &seat,
            )
            .await;
            table.disarm();
            assert_eq!(joined.status, 201, "{fault:?} at {nth}: {}", joined.body);
            let g = w.get(&format!("{BASE}/group-buys/{group}"), None).await;
            assert_eq!(g.body["seats_left"], 1, "{fault:?} at {nth}: {}", g.body);
            let mine = w.get("/v1/me/orders", Some(&w.buyer("j1"))).await;
            assert_eq!(mine.body["orders"].as_array().unwrap().len(), 1);
        }
    }
}

/// Runs the in-process consumers until the queues are empty, retrying what failed
/// (the queue redelivers) up to a bound.
async fn drain_through_faults(w: &World) {
    for _ in 0..20 {
        w.drain().await;
        // a failed message is hidden for its visibility timeout: make it visible again
        if !w.queue.redeliver_now().await {
            return;
        }
    }
}

#[tokio::test]
async fn a_store_fault_at_any_call_of_the_refund_worker_pays_the_refund_once() {
    for fault in [Fault::Before, Fault::AnswerLost] {
        for nth in 1..=6 {
            // given an order paid and cancelled before dispatch: a refund queued
            let (w, table) = faulty_world().await;
            let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "PM-2001", "size": "38", "quantity": 1}], "coupon": "none"});
            let placed = w.place("b1", "k1", &body).await;
            let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
            w.pay(&id).await;
            let r = with_retries(
                &w,
                &format!("{BASE}/orders/{id}/refunds"),
                &w.buyer("b1"),
                "c1",
                &json!({"reason": "changed_mind"}),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
            let refund = r.body["id"].as_str().unwrap().to_owned();
            // when the refund worker's nth store call fails
            table.arm(nth, fault);
            drain_through_faults(&w).await;
            table.disarm();
            drain_through_faults(&w).await;
            // then the refund is paid, exactly once
            let paid = w.sandbox.refunds();
            let entry = paid
                .get(&clearance::domain::ids::RefundId::parse(&refund).unwrap())
                .unwrap_or_else(|| panic!("{fault:?} at {nth}: not paid"));
            assert_eq!(
                entry.amount.get(),
                placed.body["order"]["total_fen"].as_i64().unwrap()
            );
            assert_eq!(paid.len(), 1);
            let seen = w
                .get(&format!("{BASE}/refunds/{refund}"), Some(&w.buyer("b1")))
                .await;
            assert_eq!(
                seen.body["money"], "succeeded",
                "{fault:?} at {nth}: {}",
                seen.body
            );
        }
    }
}

/// The queue port refusing every send while `down`.
struct Flaky {
    inner: Arc<clearance::queue::memory::MemoryQueue>,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Queue for Flaky {
    async fn send(
        &self,
        queue: QueueName,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable("injected fault".into()));
        }
        self.inner.send(queue, body, delay).await
    }
}

#[tokio::test]
async fn a_queue_outage_at_payment_leaves_the_order_to_the_providers_retry_not_lost() {
    // given the queue refusing sends while the provider's payment notice arrives
    let (mut w, _) = faulty_world().await;
    let flaky = Arc::new(Flaky {
        inner: w.queue.clone(),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let mut state = w.state.clone();
    state.queue = flaky.clone();
    w.rebuild(state);
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "PM-2003", "size": "38", "quantity": 1}], "coupon": "none"});
    let placed = w.place("b1", "k1", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    flaky.down.store(true, Ordering::SeqCst);
    // then the notice is answered 503, so the provider sends it again
    let first = w.pay(&id).await;
    assert_eq!(first.status, 503, "{}", first.body);
    // and when the queue is back, the provider's retry queues the dispatch
    flaky.down.store(false, Ordering::SeqCst);
    let again = w.pay(&id).await;
    assert!(again.status.is_success(), "{}", again.body);
    w.drain().await;
    let o = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("b1")))
        .await;
    assert_eq!(o.body["status"], "ready_for_pickup", "{}", o.body);
}

#[tokio::test]
async fn the_close_resumes_through_store_faults_to_the_same_report() {
    // given the same campaign closed twice: once cleanly, once with the store failing at
    // one call of every tenth step
    let mut reports = Vec::new();
    for faulty_run in [false, true] {
        let (w, table) = faulty_world().await;
        for i in 0..12 {
            let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}], "coupon": "none"});
            let placed = w.place(&format!("c{i}"), &format!("k{i}"), &body).await;
            if i % 3 != 0 {
                w.pay(placed.body["order"]["id"].as_str().unwrap()).await;
            }
        }
        w.drain().await;
        w.close_now("summer-clearance").await;
        for step in 0..200 {
            if faulty_run && step % 3 == 0 {
                table.arm(
                    1 + step % 4,
                    if step % 2 == 0 {
                        Fault::Before
                    } else {
                        Fault::AnswerLost
                    },
                );
            }
            let messages = w.queue.receive(QueueName::CloseCampaign, 1).await.unwrap();
            let Some(m) = messages.into_iter().next() else {
                if !w.queue.redeliver_now().await {
                    break;
                }
                continue;
            };
            match clearance::workers::close::step_close(&w.state, &m.body).await {
                Ok(()) => w
                    .queue
                    .ack(QueueName::CloseCampaign, &m.receipt)
                    .await
                    .unwrap(),
                Err(e) => assert!(e.retryable, "{}", e.message),
            }
        }
        let state = w
            .get(
                &format!("{BASE}/campaigns/summer-clearance/report"),
                Some(&w.ops()),
            )
            .await;
        let url = state.body["links"]["json"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", state.body))
            .to_owned();
        let mut report: Value = w.send(request("GET", &url, None, None)).await.body;
        report["generated_at"] = Value::Null;
        reports.push(report);
    }
    // then both reports are the same
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0]["totals"]["orders"], 8);
}
