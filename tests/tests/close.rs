//! Closing a campaign: selling stops at once, everything open is settled, and the
//! report equals a direct recomputation from the records, whether the close runs
//! straight, stops after every page and resumes, or runs on DynamoDB.

use chrono::Duration;
use clearance::clock::Clock;
use clearance::domain::refund::Decision;
use clearance::domain::report::Report;
use clearance::queue::{QueueConsumer, QueueName};
use clearance::table::keys;
use clearance::table::memory::MemoryTable;
use clearance::table::{Item, Table, Write};
use clearance_tests::{coupon, listing, Lcg, World, BASE};
use serde_json::{json, Value};
use std::sync::Arc;

const C: &str = "close-test";
use clearance_tests::{GUIDES, STORES};
const SIZES: [&str; 3] = ["38", "39", "40"];

fn campaign_path(rest: &str) -> String {
    format!("{BASE}/campaigns/{C}{rest}")
}

/// A live campaign with plenty of stock over the three demo stores: six products, two
/// of them sold in groups of three (one completed by the store with two paid), and two
/// coupon tiers.
async fn open_campaign(w: &World, units: i64) {
    let now = w.clock.now();
    let mut campaign = w
        .campaign(C)
        .named("Close test <spring>")
        .runs(now + Duration::minutes(2), now + Duration::days(5))
        .coupon("c20", coupon(2_000))
        .coupon("c50", coupon(5_000).min_spend(50_000));
    for i in 1..=6 {
        let mut trainer = listing(29_900 + 1_000 * i)
            .named(&format!("Trainer {i}"))
            .list_price(59_900)
            .per_buyer(6)
            .shards(2);
        for store in STORES {
            for size in SIZES {
                trainer = trainer.stock(store, size, units);
            }
        }
        trainer = match i {
            1 => trainer.group(json!({"price_fen": 25_900, "size": 3})),
            2 => trainer.group(json!({"price_fen": 26_900, "size": 3, "store_completes_at": 2})),
            _ => trainer,
        };
        campaign = campaign.listing(&format!("CT-{i}"), trainer);
    }
    campaign.live().await;
}

async fn ask_refund(
    w: &World,
    buyer: &str,
    id: &str,
    key: &str,
    body: &Value,
) -> clearance_tests::Resp {
    w.post_keyed(
        &format!("{BASE}/orders/{id}/refunds"),
        &w.buyer(buyer),
        key,
        body,
    )
    .await
}

/// What the generator did, to check the close against.
#[derive(Default, Debug)]
struct Made {
    placed: usize,
    paid: usize,
    groups: usize,
}

/// `orders` generated orders through the API: repeat buyers, one or two lines, coupons,
/// guides' links (some forged), unpaid ones (some timed out), cancellations before
/// dispatch, pickups, returns by rule and by review (received, in transit, rejected),
/// and group buys that form, stay open or will be completed by the store.
async fn generate(w: &World, seed: u64, orders: usize) -> Made {
    let mut r = Lcg(seed);
    let mut made = Made::default();
    let mut paid: Vec<(String, String)> = Vec::new();
    for i in 0..orders {
        let buyer = format!("cb{}", i % (orders / 3).max(1));
        if r.below(5) == 0 {
            let tpl = if r.below(2) == 0 { "c20" } else { "c50" };
            w.json(
                "POST",
                &campaign_path(&format!("/coupons/{tpl}/claim")),
                Some(&w.buyer(&buyer)),
                &json!({}),
            )
            .await;
        }
        let mut lines = vec![];
        let first = 3 + r.below(4);
        lines.push(json!({"sku": format!("CT-{first}"), "size": SIZES[r.below(3) as usize], "quantity": 1 + r.below(2)}));
        if r.below(3) == 0 {
            let second = 1 + (first + r.below(5)) % 6;
            if second != first {
                lines.push(json!({"sku": format!("CT-{second}"), "size": SIZES[r.below(3) as usize], "quantity": 1}));
            }
        }
        let mut body = json!({"campaign": C, "lines": lines});
        match r.below(10) {
            0..=5 => {
                let (g, s) = GUIDES[r.below(6) as usize];
                body["share_token"] = w.share_token(g, s, C).into();
            }
            6 => {
                body["share_token"] =
                    format!("{}x", w.share_token("gz-tianhe-g1", "gz-tianhe", C)).into()
            }
            _ => {}
        }
        let placed = w.place(&buyer, &format!("o{i}"), &body).await;
        if placed.status != 201 {
            assert_eq!(
                placed.body["type"], "https://clearance.dev/problems/purchase-limit-exceeded",
                "{}",
                placed.body
            );
            continue;
        }
        made.placed += 1;
        let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
        match r.below(100) {
            0..=11 => {} // never paid
            12..=15 => {
                assert_eq!(w.pay(&id).await.body["status"], "paid");
                made.paid += 1;
                let c = ask_refund(
                    w,
                    &buyer,
                    &id,
                    &format!("c{i}"),
                    &json!({"reason": "changed_mind"}),
                )
                .await;
                assert_eq!(c.body["kind"], "cancellation", "{}", c.body);
            }
            _ => {
                assert_eq!(w.pay(&id).await.body["status"], "paid");
                made.paid += 1;
                paid.push((buyer.clone(), id));
            }
        }
        if i % 40 == 39 {
            w.drain().await;
            // some of the unpaid time out on their own
            w.clock.advance(Duration::minutes(4));
            clearance::workers::sweep_timers(&w.state).await.unwrap();
        }
    }
    w.drain().await;

    // Pickups, then returns of what was picked up.
    let mut picked = Vec::new();
    for (buyer, id) in &paid {
        if r.below(10) < 8 {
            w.pick_up(buyer, id).await;
            picked.push((buyer.clone(), id.clone()));
        }
    }
    w.clock.advance(Duration::hours(1));
    let reasons = [
        "changed_mind",
        "wrong_size",
        "defective",
        "not_as_described",
    ];
    for (n, (buyer, id)) in picked.iter().enumerate() {
        if r.below(100) >= 18 {
            continue;
        }
        let o = w.read_order(buyer, id).await;
        let line = &o["lines"][0];
        let worn = r.below(5) == 0;
        let body = json!({"lines": [{"sku": line["sku"], "size": line["size"], "quantity": 1}],
            "reason": reasons[r.below(4) as usize],
            "condition": {"unworn": !worn, "tags_on": true, "original_box": true}});
        let asked = ask_refund(w, buyer, id, &format!("r{n}"), &body).await;
        assert_eq!(asked.status, 201, "{}", asked.body);
        let refund = asked.body["id"].as_str().unwrap().to_owned();
        let store = asked.body["return_store"].as_str().map(str::to_owned);
        w.clock.advance(Duration::minutes(1 + r.below(5) as i64));
        let mut approved = asked.body["decision"] == "approved";
        if asked.body["decision"] == "pending_review" && r.below(2) == 0 {
            let approve = r.below(2) == 0;
            let d = w
                .json(
                    "POST",
                    &format!("{BASE}/refunds/{refund}/decision"),
                    Some(&w.ops()),
                    &json!({"approve": approve}),
                )
                .await;
            assert_eq!(d.status, 200, "{}", d.body);
            approved = approve;
        }
        let store = store.or_else(|| o["parcels"][0]["store"].as_str().map(str::to_owned));
        if approved && r.below(10) < 7 {
            let resaleable = r.below(3) != 0;
            let d = w
                .json(
                    "POST",
                    &format!("{BASE}/refunds/{refund}/receive"),
                    Some(&w.clerk(&format!("clerk-{}", store.unwrap_or_default()))),
                    &json!({"units": [{"line": 0, "resaleable": u32::from(resaleable), "damaged": u32::from(!resaleable)}]}),
                )
                .await;
            assert_eq!(d.status, 200, "{}", d.body);
        }
    }

    // Group buys: opened, joined by up to two, mostly paid.
    for g in 0..orders / 50 {
        let sku = format!("CT-{}", 1 + g % 2);
        let seat = json!({"campaign": C, "lines": [{"sku": sku, "size": "38", "quantity": 1}], "coupon": "none"});
        let opener = format!("go{g}");
        let open = w
            .post_keyed(
                &campaign_path("/group-buys"),
                &w.buyer(&opener),
                &format!("g{g}"),
                &seat,
            )
            .await;
        assert_eq!(open.status, 201, "{}", open.body);
        made.groups += 1;
        made.placed += 1;
        let group = open.body["order"]["group_buy"].as_str().unwrap().to_owned();
        let mut members = vec![open.body["order"]["id"].as_str().unwrap().to_owned()];
        for j in 0..r.below(3) {
            let joiner = format!("gj{g}-{j}");
            let joined = w
                .post_keyed(
                    &format!("{BASE}/group-buys/{group}/join"),
                    &w.buyer(&joiner),
                    &format!("j{g}-{j}"),
                    &seat,
                )
                .await;
            assert_eq!(joined.status, 201, "{}", joined.body);
            made.placed += 1;
            members.push(joined.body["order"]["id"].as_str().unwrap().to_owned());
        }
        for m in &members {
            if r.below(10) < 8 {
                w.pay(m).await;
                made.paid += 1;
            }
        }
    }
    w.drain().await;
    // what was left unpaid times out, but for a few more, left for the close to cancel
    w.clock.advance(Duration::minutes(16));
    clearance::workers::sweep_timers(&w.state).await.unwrap();
    w.drain().await;
    for i in 0..5 {
        let body = json!({"campaign": C, "lines": [{"sku": "CT-3", "size": "40", "quantity": 1}], "coupon": "none"});
        assert_eq!(
            w.place(&format!("late{i}"), &format!("late{i}"), &body)
                .await
                .status,
            201
        );
        made.placed += 1;
    }
    made
}

/// A world on a fresh memory table holding `items`, its clock where `like`'s is.
async fn copy_to_memory(items: &[Item], like: &World) -> (World, Arc<MemoryTable>) {
    let table = Arc::new(MemoryTable::new());
    for chunk in items.chunks(100) {
        let writes = chunk
            .iter()
            .map(|i| Write::Put {
                item: i.clone(),
                condition: None,
            })
            .collect();
        table.transact(writes).await.unwrap();
    }
    let w = World::new(table.clone()).await;
    w.clock.set(like.clock.now());
    (w, table)
}

/// A world on a fresh moto_server table holding `items` (written 25 at a time with
/// BatchWriteItem: moto copies its whole table for every transaction).
async fn copy_to_moto(items: &[Item], like: &World) -> World {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let sdk = clearance_tests::moto_sdk().await;
    let name = clearance_tests::unique("close");
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    clearance::table::dynamo::create_table(&client, &name)
        .await
        .unwrap_or_else(|e| panic!("moto_server at {}: {e}", clearance_tests::moto_endpoint()));
    for chunk in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                let item: std::collections::HashMap<
                    String,
                    aws_sdk_dynamodb::types::AttributeValue,
                > = i.clone().into();
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                    .build()
            })
            .collect();
        while !requests.is_empty() {
            let out = client
                .batch_write_item()
                .request_items(&name, requests)
                .send()
                .await
                .unwrap_or_else(|e| panic!("batch write to moto_server: {e:?}"));
            requests = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&name))
                .unwrap_or_default();
        }
    }
    let w = World::new(clearance::aws::table(&sdk, &name)).await;
    w.clock.set(like.clock.now());
    w
}

async fn close_messages(w: &World) -> Vec<clearance::queue::Message> {
    let ms = w.queue.receive(QueueName::CloseCampaign, 10).await.unwrap();
    for m in &ms {
        w.queue
            .ack(QueueName::CloseCampaign, &m.receipt)
            .await
            .unwrap();
    }
    ms
}

async fn stage(w: &World) -> String {
    let r = w.get(&campaign_path(""), Some(&w.ops())).await;
    r.body["status"].as_str().unwrap_or_default().to_owned()
}

/// The published report, read back through the API and its presigned link.
async fn report(w: &World) -> (Value, Report) {
    let r = w.get(&campaign_path("/report"), Some(&w.ops())).await;
    let file = w.published_report(C).await;
    let report: Report = serde_json::from_value(file).unwrap();
    (r.body, report)
}

/// Runs the close queue only (so both runs leave the same other work queued), waking
/// timers through the sweep, until the report of the first pass is published.
async fn run_close(w: &World, crash_after_every_page: bool) {
    let r = w
        .json("POST", &campaign_path("/close"), Some(&w.ops()), &json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    for _ in 0..2_000 {
        let messages = close_messages(w).await;
        if messages.is_empty() {
            if stage(w).await != "closing" {
                return;
            }
            // Nothing queued: a wait (the groups' grace) or a lost message. The
            // schedule's sweep re-sends whatever step is due.
            w.clock.advance(Duration::minutes(11));
            let (a, b) = tokio::join!(
                clearance::workers::close::sweep_campaigns(&w.state),
                clearance::workers::close::sweep_campaigns(&w.state)
            );
            a.unwrap();
            b.unwrap();
            // two nudges for the same step run it twice, concurrently
            let nudges = close_messages(w).await;
            let runs: Vec<_> = nudges
                .iter()
                .map(|m| {
                    let (st, body) = (w.state.clone(), m.body.clone());
                    tokio::spawn(
                        async move { clearance::workers::close::step_close(&st, &body).await },
                    )
                })
                .collect();
            for run in runs {
                run.await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{}", e.message));
            }
            if crash_after_every_page {
                close_messages(w).await;
            }
            continue;
        }
        for m in messages {
            clearance::workers::close::step_close(&w.state, &m.body)
                .await
                .unwrap_or_else(|e| panic!("{}", e.message));
            // a duplicate delivery of the same step changes nothing
            clearance::workers::close::step_close(&w.state, &m.body)
                .await
                .unwrap_or_else(|e| panic!("{}", e.message));
            if crash_after_every_page {
                // the worker stopped before it sent the next step: it is lost
                close_messages(w).await;
            }
        }
    }
    panic!("the close did not finish");
}

/// The report less when it was generated (two runs finish at different times).
fn comparable(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap();
    v["generated_at"] = Value::Null;
    v
}

#[tokio::test]
async fn a_generated_campaign_closes_with_a_report_equal_to_a_recomputation_resumed_or_on_dynamodb()
{
    // given a campaign with a few thousand orders, groups, coupons, returns and guides
    let table = Arc::new(MemoryTable::new());
    let w = World::new(table.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    open_campaign(&w, 400).await;
    let made = generate(&w, 11, 2_400).await;
    assert!(made.placed >= 2_000 && made.groups >= 45, "{made:?}");
    let data = table.snapshot();

    // when it closes straight through
    let (a, a_table) = copy_to_memory(&data, &w).await;
    run_close(&a, false).await;
    let (state, straight) = report(&a).await;
    assert_eq!(state["status"], "settling", "{state}");
    assert_eq!(
        straight.edition,
        clearance::domain::report::Edition::Interim
    );
    // then every figure equals one recomputed from the records as the close left them
    let items = a_table.snapshot();
    clearance_tests::oracle::check_report_against_records(&straight, &items, C);
    // and the generator reached every kind of figure it checks
    let (_, refunds, _) = clearance_tests::oracle::records(&items, C);
    assert!(
        !straight.coupons.is_empty(),
        "the generator redeems coupons"
    );
    for decision in [
        Decision::Approved,
        Decision::Rejected,
        Decision::PendingReview,
    ] {
        assert!(
            refunds.iter().any(|r| r.decision == decision),
            "the generator reaches {decision:?}"
        );
    }
    assert_eq!(
        straight.open.unpaid_orders, 0,
        "the close cancelled every unpaid order"
    );
    assert_eq!(
        straight.groups.open, 0,
        "the close finished every open group"
    );
    assert!(
        straight.groups.formed > 0
            && straight.groups.failed > 0
            && straight.groups.store_completed > 0
    );
    // and the boards are the attribution ledger's
    let board = a.get(&campaign_path("/leaderboard"), Some(&a.ops())).await;
    let ids: Vec<&str> = board.body["guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        straight
            .guides
            .iter()
            .map(|g| g.id.as_str())
            .collect::<Vec<_>>(),
        ids
    );

    // when another copy closes stopping after every page (its next message lost), resumed
    // by the schedule's sweep, each step delivered twice and nudged twice at once
    let (b, _) = copy_to_memory(&data, &w).await;
    run_close(&b, true).await;
    let (_, resumed) = report(&b).await;
    // then the report is the same
    assert_eq!(comparable(&resumed), comparable(&straight));

    // and on DynamoDB (moto_server) the same close gives the same report
    let m = copy_to_moto(&data, &w).await;
    run_close(&m, false).await;
    let (_, on_dynamodb) = report(&m).await;
    assert_eq!(comparable(&on_dynamodb), comparable(&straight));
}

async fn place_paid(w: &World, buyer: &str, sku: &str, share: Option<String>) -> String {
    let mut body = json!({"campaign": C, "lines": [{"sku": sku, "size": "39", "quantity": 1}], "coupon": "none"});
    if let Some(s) = share {
        body["share_token"] = s.into();
    }
    let placed = w.place(buyer, &format!("k-{buyer}-{sku}"), &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(w.pay(&id).await.body["status"], "paid");
    id
}

#[tokio::test]
async fn closing_stops_selling_at_once_settles_what_is_open_and_publishes_a_final_report_last() {
    let w = World::seeded().await;
    open_campaign(&w, 20).await;
    // given a sale through a guide's link, picked up; one paid and waiting at the store;
    // one never paid; a group buy with one paid seat of three
    let link = w.share_token("sz-futian-g1", "sz-futian", C);
    let picked = place_paid(&w, "b1", "CT-3", Some(link)).await;
    let waiting = place_paid(&w, "b2", "CT-4", None).await;
    w.drain().await;
    w.pick_up("b1", &picked).await;
    let unpaid_body =
        json!({"campaign": C, "lines": [{"sku": "CT-5", "size": "38", "quantity": 1}]});
    let unpaid = w.place("b3", "k-unpaid", &unpaid_body).await.body["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seat = json!({"campaign": C, "lines": [{"sku": "CT-1", "size": "38", "quantity": 1}], "coupon": "none"});
    let opened = w
        .post_keyed(&campaign_path("/group-buys"), &w.buyer("b4"), "g", &seat)
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let group = opened.body["order"]["group_buy"]
        .as_str()
        .unwrap()
        .to_owned();
    let seat_order = opened.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&seat_order).await;
    w.drain().await;

    // when an operator closes it, open groups given 30 minutes
    let r = w
        .json(
            "POST",
            &campaign_path("/close"),
            Some(&w.ops()),
            &json!({"grace_minutes": 30}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "closing");
    // then nothing more is sold: browse hides it, orders, new groups, claims and links
    // refused; only the open group may still fill during its grace
    let live = w.get(&format!("{BASE}/campaigns"), None).await;
    assert!(!live.text.contains(C), "{}", live.text);
    w.get(&campaign_path("/products"), None)
        .await
        .problem(409, "campaign-closed");
    w.place("b5", "k5", &unpaid_body)
        .await
        .problem(409, "campaign-closed");
    w.post_keyed(&campaign_path("/group-buys"), &w.buyer("b6"), "g6", &seat)
        .await
        .problem(409, "campaign-closed");
    let joined = w
        .post_keyed(
            &format!("{BASE}/group-buys/{group}/join"),
            &w.buyer("b6"),
            "j",
            &seat,
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    w.json(
        "POST",
        &campaign_path("/coupons/c20/claim"),
        Some(&w.buyer("b7")),
        &json!({}),
    )
    .await
    .problem(409, "campaign-closed");
    // and bad input is refused by name
    w.json(
        "POST",
        &campaign_path("/close"),
        Some(&w.ops()),
        &json!({"grace_minutes": 5000}),
    )
    .await
    .problem(422, "validation-error");
    w.json(
        "POST",
        &campaign_path("/close"),
        Some(&w.buyer("b1")),
        &json!({}),
    )
    .await
    .problem(403, "forbidden");

    // when the close worker runs: the stock is fenced and the unpaid order cancelled
    w.drain().await;
    assert_eq!(w.read_order("b3", &unpaid).await["status"], "cancelled");
    // the group waits out its grace, then fails and its paid seat is refunded
    let g = w.get(&format!("{BASE}/group-buys/{group}"), None).await;
    assert_eq!(g.body["status"], "open", "{}", g.body);
    w.clock.advance(Duration::minutes(31));
    clearance::workers::close::sweep_campaigns(&w.state)
        .await
        .unwrap();
    w.drain().await;
    let g = w.get(&format!("{BASE}/group-buys/{group}"), None).await;
    assert_eq!(g.body["status"], "failed", "{}", g.body);
    assert_eq!(w.read_order("b4", &seat_order).await["status"], "cancelled");

    // then the report is interim while an order waits at the store and returns may come
    let (state, interim) = report(&w).await;
    assert_eq!(state["status"], "settling", "{state}");
    assert_eq!(interim.edition, clearance::domain::report::Edition::Interim);
    // (b6's seat, never paid, was cancelled with its group)
    assert_eq!((interim.totals.orders, interim.orders_placed), (3, 5));
    assert_eq!(interim.open.undelivered_orders, 1);
    assert!(interim.open.commission_pending_fen > 0);
    assert_eq!(interim.groups.failed, 1);
    assert_eq!(interim.guides[0].id, "sz-futian-g1");
    let html = w
        .send(clearance_tests::request(
            "GET",
            state["links"]["html"].as_str().unwrap(),
            None,
            None,
        ))
        .await;
    assert!(
        html.text.contains("Interim"),
        "{}",
        &html.text[..200.min(html.text.len())]
    );
    assert!(html.text.contains("Close test &lt;spring&gt;"));
    // and only the tenant's staff read it
    let other = w
        .tokens
        .mint(
            "ops-2",
            clearance::domain::auth::Role::Ops,
            &["demo/north-china"],
        )
        .unwrap();
    w.get(&campaign_path("/report"), Some(&other))
        .await
        .problem(403, "forbidden");
    w.get(&campaign_path("/report"), Some(&w.buyer("b1")))
        .await
        .problem(403, "forbidden");

    // when the last order is picked up, refunds are paid, and every window has closed
    w.pick_up("b2", &waiting).await;
    w.drain().await;
    w.clock.advance(Duration::days(8));
    clearance::workers::sweep_timers(&w.state).await.unwrap();
    w.drain().await;
    clearance::workers::close::sweep_campaigns(&w.state)
        .await
        .unwrap();
    w.drain().await;
    // then the next count is final: nothing open, commissions confirmed
    let (state, last) = report(&w).await;
    assert_eq!(state["status"], "closed", "{state}");
    assert_eq!(last.edition, clearance::domain::report::Edition::Final);
    assert_eq!(
        last.open,
        clearance::domain::report::OpenWork {
            last_window_closes_at: last.open.last_window_closes_at,
            ..Default::default()
        }
    );
    assert!(last.guides[0].totals.commission_confirmed_fen > 0);
    assert_eq!(
        last.refunds.paid_back_fen,
        interim.groups.formed_cost_fen
            + w.read_order("b4", &seat_order).await["total_fen"]
                .as_i64()
                .unwrap()
    );
    // and closing it again answers with that report
    let again = w
        .json("POST", &campaign_path("/close"), Some(&w.ops()), &json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["report"]["edition"], "final");
}

/// Orders that read the campaign before the close and commit while it fences the stock:
/// each either took its stock before the fence (and is counted) or is refused, never
/// taking stock from a fenced shard.
async fn orders_racing_the_fence_are_counted_or_refused(w: World) {
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap();
    open_campaign(&w, 60).await;
    let t = clearance_local::seed::tenant().unwrap();
    let id = clearance::domain::ids::CampaignId::parse(C).unwrap();
    // every buyer holds the campaign as it was before the close (as a cached read would)
    let stale = Arc::new(w.state.db.campaign(&t, &id, true).await.unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut buyers = Vec::new();
    for b in 0..12 {
        let (st, stale, accepted, t) =
            (w.state.clone(), stale.clone(), accepted.clone(), t.clone());
        buyers.push(tokio::spawn(async move {
            for n in 0..40 {
                let req = clearance::domain::checkout::OrderRequest {
                    tenant: t.clone(),
                    campaign: stale.id.clone(),
                    buyer: clearance::domain::ids::UserId::parse(&format!("racer{b}-{n}")).unwrap(),
                    lines: vec![clearance::domain::checkout::CartLine {
                        sku: clearance::domain::ids::Sku::parse("CT-3").unwrap(),
                        size: clearance::domain::ids::Size::parse("38").unwrap(),
                        quantity: 1,
                    }],
                    coupons: clearance::domain::checkout::CouponChoice::None,
                    link: None,
                    delivery: clearance::domain::order::Delivery {
                        store: None,
                        mode: clearance::domain::order::DeliveryMode::Pickup,
                        address: None,
                        phone: None,
                        location: None,
                    },
                    group: None,
                };
                let key =
                    clearance::domain::ids::IdempotencyKey::parse(&format!("r{b}-{n}")).unwrap();
                let now = st.clock.now();
                match st
                    .place_order(&req, &stale, &key, "h", now, &|_| String::new())
                    .await
                {
                    Ok(_) => {
                        accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Err(clearance::Error::Domain(clearance::domain::DomainError::Conflict {
                        kind: "campaign-closed",
                        ..
                    })) => return,
                    Err(e) => panic!("{e}"),
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    // when the close begins and fences the stock while they buy (once the first of them
    // has an order in, so the race is run even on a busy machine)
    for _ in 0..5_000 {
        if accepted.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    w.close_now(C).await;
    let msg = close_messages(&w).await.remove(0);
    clearance::workers::close::step_close(&w.state, &msg.body)
        .await
        .unwrap();
    let fenced = shard_total(&w, &t).await;
    for b in buyers {
        b.await.unwrap();
    }
    // then no order took stock after the fence, and every accepted order is counted
    assert_eq!(
        shard_total(&w, &t).await,
        fenced,
        "an order took fenced stock"
    );
    w.drain().await;
    let (_, report) = report(&w).await;
    assert_eq!(
        report.orders_placed as usize,
        accepted.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert!(report.orders_placed > 0);
}

async fn shard_total(w: &World, t: &clearance::domain::tenancy::Tenant) -> i64 {
    let q = clearance::table::Query::new(
        clearance::table::Index::Primary,
        keys::campaign_pk(t, &clearance::domain::ids::CampaignId::parse(C).unwrap()),
        clearance::table::SortRange::BeginsWith("P#CT-3#S#".into()),
    );
    let page = w.state.db.table().query(q).await.unwrap();
    page.items
        .iter()
        .filter_map(|i| match i.get("units") {
            Some(serde_dynamo::AttributeValue::M(m)) => Some(
                m.values()
                    .map(|v| match v {
                        serde_dynamo::AttributeValue::N(n) => n.parse::<i64>().unwrap_or(0),
                        _ => 0,
                    })
                    .sum::<i64>(),
            ),
            _ => None,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_the_close_are_counted_or_refused_never_lost_on_memory() {
    orders_racing_the_fence_are_counted_or_refused(World::memory().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_the_close_are_counted_or_refused_never_lost_on_dynamodb() {
    orders_racing_the_fence_are_counted_or_refused(
        World::new(clearance_tests::moto_table().await).await,
    )
    .await;
}

/// The browser the report page is checked in: Debian's `chromium` (scripts/test
/// installs it), or `CHROMIUM` if set.
fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    match std::process::Command::new(&bin).arg("--version").output() {
        Ok(o) if o.status.success() => bin,
        _ => panic!(
            "no headless browser: `{bin} --version` failed. scripts/test installs Debian's \
             chromium (`apt-get install -y chromium`); or set CHROMIUM to a Chromium binary."
        ),
    }
}

#[tokio::test]
async fn the_report_page_renders_in_a_headless_browser_with_its_charts_figures() {
    // given a closed campaign's report page
    let w = World::seeded().await;
    open_campaign(&w, 20).await;
    for (i, (g, s)) in GUIDES.iter().enumerate() {
        let id = place_paid(
            &w,
            &format!("v{i}"),
            &format!("CT-{}", 3 + i % 4),
            Some(w.share_token(g, s, C)),
        )
        .await;
        w.drain().await;
        if i % 2 == 0 {
            w.pick_up(&format!("v{i}"), &id).await;
        }
    }
    w.close_now(C).await;
    w.drain().await;
    let (state, report) = report(&w).await;
    let html = w
        .send(clearance_tests::request(
            "GET",
            state["links"]["html"].as_str().unwrap(),
            None,
            None,
        ))
        .await;
    assert_eq!(html.status, 200);
    let dir = std::env::temp_dir().join(clearance_tests::unique("report-page"));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, &html.text).unwrap();

    // when a headless browser loads it and renders it
    let browser = chromium();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ];
    let dom = std::process::Command::new(&browser)
        .args(common)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout).to_string();
    let shot = dir.join("report.png");
    let out = std::process::Command::new(&browser)
        .args(common)
        .arg("--window-size=1200,2400")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // then the browser's DOM holds the three charts with the report's figures
    for chart in [
        "chart-sell-through",
        "chart-gmv-by-store",
        "chart-leaderboard",
    ] {
        assert!(dom.contains(&format!("id=\"{chart}\"")), "{chart} missing");
    }
    for s in report.stores.iter().filter(|s| s.store != "-") {
        assert!(
            dom.contains(&format!(
                "data-label=\"{}\" data-value=\"{}\"",
                s.store, s.figures.net_gmv_fen
            )) || dom.contains(&format!(
                "data-value=\"{}\" data-label=\"{}\"",
                s.figures.net_gmv_fen, s.store
            )),
            "store {} bar",
            s.store
        );
    }
    for g in &report.guides {
        assert!(dom.contains(&format!("\"{}\"", g.id)), "guide {}", g.id);
    }
    assert!(dom.contains("data-figure=\"gross_gmv_fen\""));
    assert!(dom.contains(&format!("data-value=\"{}\"", report.totals.gross_gmv_fen)));
    // and it painted a page (a blank render is a few kilobytes)
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}
