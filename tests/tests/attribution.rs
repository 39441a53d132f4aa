//! Guide attribution: every credited sale counted once, in any order, net of refunds;
//! forged links credit nobody; guides and stores see only their own tenant.

use clearance::domain::auth::Role;
use clearance::domain::ids::{CampaignId, GuideId, OrderId, Size, Sku, StoreId, UserId};
use clearance::domain::money::Fen;
use clearance::queue::messages::{AttributionMessage, EventLine, OrderEvent, OrderEventKind};
use clearance::table::Table;
use clearance_tests::{binding_rule, t0, Lcg, World, BASE};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const BP: u32 = 300;

/// (line, units, amount)
type RefundedLine = (usize, u32, i64);

struct GeneratedOrder {
    id: OrderId,
    buyer: UserId,
    guide: GuideId,
    store: StoreId,
    /// (units, paid) per line
    lines: Vec<(u32, i64)>,
    /// refund id -> (line, units, amount)
    refunds: Vec<(String, Vec<RefundedLine>)>,
    /// The buyer's first paid order in the tenant (payment marks it).
    new_buyer: bool,
}

fn generate(seed: u64, orders: usize) -> Vec<GeneratedOrder> {
    let mut r = Lcg(seed);
    let mut buyers_seen: BTreeSet<UserId> = BTreeSet::new();
    (0..orders)
        .map(|i| {
            let (g, s) = clearance_tests::GUIDES[r.below(6) as usize];
            let lines: Vec<(u32, i64)> = (0..1 + r.below(3))
                .map(|_| {
                    let units = 1 + r.below(3) as u32;
                    (units, i64::from(units) * (1_000 + r.below(50_000) as i64))
                })
                .collect();
            // some orders refunded in part, some twice
            let mut refunds = Vec::new();
            let mut left: Vec<(u32, i64)> = lines.clone();
            for k in 0..r.below(3) {
                let line = r.below(lines.len() as u64) as usize;
                let (units_left, paid_left) = left[line];
                if units_left == 0 {
                    continue;
                }
                let units = 1 + r.below(u64::from(units_left)) as u32;
                let amount = paid_left * i64::from(units) / i64::from(units_left);
                left[line] = (units_left - units, paid_left - amount);
                refunds.push((format!("R{i}-{k}"), vec![(line, units, amount)]));
            }
            // buyers come back: only a buyer's first order is a new buyer
            let buyer =
                UserId::parse(&format!("gen-buyer-{}", r.below(orders as u64 / 2 + 1))).unwrap();
            GeneratedOrder {
                id: OrderId::parse(&format!("01JGEN{i:020}")).unwrap(),
                new_buyer: buyers_seen.insert(buyer.clone()),
                buyer,
                guide: GuideId::parse(g).unwrap(),
                store: StoreId::parse(s).unwrap(),
                lines,
                refunds,
            }
        })
        .collect()
}

fn events(orders: &[GeneratedOrder]) -> Vec<AttributionMessage> {
    let t = clearance_local::seed::tenant().unwrap();
    let mut out = Vec::new();
    for o in orders {
        let event = |id: String, kind, lines: Vec<EventLine>| OrderEvent {
            id,
            tenant: t.clone(),
            order: o.id.clone(),
            campaign: CampaignId::parse("summer-clearance").unwrap(),
            buyer: o.buyer.clone(),
            guide: Some(o.guide.clone()),
            store: Some(o.store.clone()),
            commission_bp: BP,
            window_days: 7,
            kind,
            amount_fen: Fen::new(lines.iter().map(|l| l.amount_fen.get()).sum()).unwrap(),
            lines,
            new_buyer: o.new_buyer && kind == OrderEventKind::Paid,
            at: t0(),
        };
        let line = |i: usize, units: u32, amount: i64| EventLine {
            line: i,
            sku: Sku::parse("SD-1001").unwrap(),
            size: Size::parse("38").unwrap(),
            units,
            amount_fen: Fen::new(amount).unwrap(),
        };
        out.push(AttributionMessage::Event(event(
            format!("{}-paid", o.id),
            OrderEventKind::Paid,
            o.lines
                .iter()
                .enumerate()
                .map(|(i, (u, a))| line(i, *u, *a))
                .collect(),
        )));
        for (rid, lines) in &o.refunds {
            out.push(AttributionMessage::Event(event(
                rid.clone(),
                OrderEventKind::Refunded,
                lines.iter().map(|(i, u, a)| line(*i, *u, *a)).collect(),
            )));
        }
    }
    out
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Expect {
    orders: i64,
    units: i64,
    gmv: i64,
    refunded: i64,
    pending: i64,
    new_buyers: i64,
}

/// The totals straight from the generated orders, computed here and not by the code
/// under test: commission 3 % of each line rounded down, given back in proportion to
/// the refunded share of the line.
fn recompute(orders: &[GeneratedOrder]) -> (BTreeMap<String, Expect>, BTreeMap<String, Expect>) {
    let mut guides: BTreeMap<String, Expect> = BTreeMap::new();
    let mut stores: BTreeMap<String, Expect> = BTreeMap::new();
    for o in orders {
        let mut refunded_line = vec![0i64; o.lines.len()];
        for (_, lines) in &o.refunds {
            for (i, _, a) in lines {
                refunded_line[*i] += a;
            }
        }
        let mut e = Expect {
            orders: 1,
            units: o.lines.iter().map(|(u, _)| i64::from(*u)).sum(),
            gmv: o.lines.iter().map(|(_, a)| a).sum(),
            refunded: refunded_line.iter().sum(),
            ..Expect::default()
        };
        for ((_, paid), refunded) in o.lines.iter().zip(&refunded_line) {
            let c = paid * i64::from(BP) / 10_000;
            e.pending += c - c * refunded / paid;
        }
        if o.new_buyer {
            e.new_buyers = 1;
        }
        for (map, key) in [
            (&mut guides, o.guide.to_string()),
            (&mut stores, o.store.to_string()),
        ] {
            let x = map.entry(key).or_default();
            x.orders += e.orders;
            x.units += e.units;
            x.gmv += e.gmv;
            x.refunded += e.refunded;
            x.pending += e.pending;
            x.new_buyers += e.new_buyers;
        }
    }
    (guides, stores)
}

fn as_expect(v: &Value) -> Expect {
    let n = |f: &str| v[f].as_i64().unwrap_or_else(|| panic!("{f} in {v}"));
    Expect {
        orders: n("orders"),
        units: n("units"),
        gmv: n("gmv_fen"),
        refunded: n("refunded_fen"),
        pending: n("commission_pending_fen"),
        new_buyers: n("new_buyers"),
    }
}

async fn a_thousand_shuffled_duplicated_events_equal_a_recomputation(
    table: Arc<dyn Table>,
    orders: usize,
) {
    // given generated sales, their events duplicated and shuffled
    let w = World::new(table).await;
    clearance_local::seed::seed_demo(&w.state.db, t0())
        .await
        .unwrap();
    let generated = generate(42, orders);
    let mut all = events(&generated);
    let mut r = Lcg(7);
    for i in 0..all.len() / 10 {
        let dup = all[(i * 7) % all.len()].clone();
        all.push(dup);
    }
    for i in (1..all.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        all.swap(i, j);
    }
    assert!(all.len() >= 1_000, "{} events", all.len());
    // when the worker folds them a batch of 10 at a time
    let mut calls = Vec::new();
    for chunk in all.chunks(10) {
        let before = w.counts.snapshot();
        let batch: Vec<(String, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("m{i}"), serde_json::to_string(m).unwrap()))
            .collect();
        let failed = clearance::workers::attribution::attribute(&w.state, batch).await;
        assert!(
            failed.is_empty(),
            "{:?}",
            failed.iter().map(|f| &f.1.message).collect::<Vec<_>>()
        );
        calls.push(w.counts.since(before));
    }
    // then every guide's and store's figures are exactly the recomputed ones
    let (guides, stores) = recompute(&generated);
    let board = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance/leaderboard"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    for (list, expected) in [("guides", &guides), ("stores", &stores)] {
        let got: BTreeMap<String, Expect> = board.body[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].as_str().unwrap().to_owned(), as_expect(s)))
            .collect();
        assert_eq!(&got, expected, "{list}");
    }
    for (g, e) in &guides {
        let perf = w
            .get(
                &format!("{BASE}/guides/{g}/performance?campaign=summer-clearance"),
                Some(&w.ops()),
            )
            .await;
        assert_eq!(as_expect(&perf.body), *e, "{g}");
    }
    // and each batch of 10 was one read and one transaction
    for c in &calls {
        assert_eq!((c.batch_get, c.transact, c.total()), (1, 1, 2), "{c:?}");
    }
}

#[tokio::test]
async fn a_thousand_shuffled_duplicated_events_equal_a_recomputation_on_memory() {
    a_thousand_shuffled_duplicated_events_equal_a_recomputation(
        clearance_tests::memory_table(),
        520,
    )
    .await;
}

#[tokio::test]
async fn a_thousand_shuffled_duplicated_events_equal_a_recomputation_on_dynamodb() {
    a_thousand_shuffled_duplicated_events_equal_a_recomputation(
        clearance_tests::moto_table().await,
        520,
    )
    .await;
}

async fn order_with_link(w: &World, buyer: &str, link: Option<String>) -> String {
    let mut body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}], "coupon": "none"});
    if let Some(l) = link {
        body["share_token"] = l.into();
    }
    let r = w.place(buyer, &format!("k-{buyer}"), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["order"]["id"].as_str().unwrap().to_owned();
    w.pay(&id).await;
    w.drain().await;
    id
}

#[tokio::test]
async fn forged_truncated_or_foreign_links_move_no_counter() {
    let w = World::seeded().await;
    let good = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let (payload, tag) = good.rsplit_once('.').unwrap();
    let truncated = format!("{payload}.{}", &tag[..30]);
    let forged = format!("{payload}.{}", "0".repeat(64));
    let other_campaign = w.share_token("gz-tianhe-g1", "gz-tianhe", "winter");
    for (i, link) in [
        truncated,
        forged,
        other_campaign,
        "gz-tianhe-g1.00ff".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        let id = order_with_link(&w, &format!("b{i}"), Some(link)).await;
        let order = w
            .get(
                &format!("{BASE}/orders/{id}"),
                Some(&w.buyer(&format!("b{i}"))),
            )
            .await;
        assert_eq!(order.body["attribution"]["guide"], Value::Null);
        assert!(
            order.body["attribution"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("link_"),
            "{}",
            order.body["attribution"]
        );
    }
    let board = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance/leaderboard"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(board.body["guides"], json!([]), "no counter moved");
    // the good link is counted
    order_with_link(&w, "b9", Some(good)).await;
    let board = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance/leaderboard"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(board.body["guides"][0]["id"], "gz-tianhe-g1");
    assert_eq!(board.body["guides"][0]["orders"], 1);
    assert_eq!(board.body["guides"][0]["new_buyers"], 1);
    assert_eq!(board.body["stores"][0]["id"], "gz-tianhe");
}

#[tokio::test]
async fn a_guide_of_one_group_sees_nothing_of_another() {
    let w = World::seeded().await;
    let north_ops = w.token(Role::Ops, &["demo/north-china"]);
    w.get(
        &format!("{BASE}/campaigns/summer-clearance/leaderboard"),
        Some(&north_ops),
    )
    .await
    .problem(403, "forbidden");
    w.get(
        "/v1/demo/north-china/campaigns/summer-clearance/leaderboard",
        Some(&north_ops),
    )
    .await
    .problem(404, "not-found");
    let north_guide = w
        .tokens
        .mint("guide-gz-tianhe-g1", Role::Guide, &["demo/north-china"])
        .unwrap();
    w.get(
        &format!("{BASE}/guides/gz-tianhe-g1/performance?campaign=summer-clearance"),
        Some(&north_guide),
    )
    .await
    .problem(403, "forbidden");
    w.get(
        &format!("{BASE}/campaigns/summer-clearance/leaderboard"),
        Some(&w.buyer("b")),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn share_links_are_signed_for_the_guide_their_stores_manager_or_ops() {
    let w = World::seeded().await;
    let body = json!({"campaign": "summer-clearance", "sku": "SD-1001"});
    let path = format!("{BASE}/guides/gz-tianhe-g1/share-links");
    let guide = w
        .tokens
        .mint("guide-gz-tianhe-g1", Role::Guide, &["demo/south-china"])
        .unwrap();
    let r = w.json("POST", &path, Some(&guide), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["url"]
        .as_str()
        .unwrap()
        .contains("/p/SD-1001?share="));
    assert_eq!(r.body["claims"]["store"], "gz-tianhe");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let manager = w.clerk("clerk-gz-tianhe");
    assert_eq!(
        w.json("POST", &path, Some(&manager), &body).await.status,
        201
    );
    assert_eq!(
        w.json("POST", &path, Some(&w.ops()), &body).await.status,
        201
    );
    let other_guide = w
        .tokens
        .mint("guide-sz-futian-g1", Role::Guide, &["demo/south-china"])
        .unwrap();
    w.json("POST", &path, Some(&other_guide), &body)
        .await
        .problem(403, "forbidden");
    w.json("POST", &path, Some(&w.clerk("clerk-sz-futian")), &body)
        .await
        .problem(403, "forbidden");
    w.json("POST", &path, Some(&w.buyer("b")), &body)
        .await
        .problem(403, "forbidden");
    // the link credits its guide and store; it expires with its validity
    let id = order_with_link(&w, "b1", Some(token.clone())).await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("b1")))
        .await;
    assert_eq!(
        (
            order.body["attribution"]["guide"].as_str(),
            order.body["attribution"]["reason"].as_str()
        ),
        (Some("gz-tianhe-g1"), Some("link"))
    );
    // a link never outlives its campaign
    let live = w.get(&format!("{BASE}/campaigns"), None).await;
    assert_eq!(
        r.body["expires_at"], live.body["campaigns"][0]["ends_at"],
        "{}",
        live.body
    );
    let short = w.share_token_valid_for(
        "gz-tianhe-g1",
        "gz-tianhe",
        "summer-clearance",
        chrono::Duration::hours(1),
    );
    w.clock.advance(chrono::Duration::hours(2));
    let late = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}], "share_token": short});
    let r = w
        .send(clearance_tests::request(
            "POST",
            &format!("{BASE}/orders/preview"),
            Some(&w.buyer("b2")),
            Some(late.to_string()),
        ))
        .await;
    assert_eq!(
        r.body["attribution"]["reason"], "link_expired",
        "{}",
        r.body
    );
}

async fn performance(w: &World, guide: &str) -> Value {
    w.get(
        &format!("{BASE}/guides/{guide}/performance?campaign=summer-clearance"),
        Some(&w.ops()),
    )
    .await
    .body
}

#[tokio::test]
async fn commission_is_confirmed_when_the_return_window_has_closed() {
    let w = World::seeded().await;
    let link = w.share_token("sz-futian-g1", "sz-futian", "summer-clearance");
    let id = order_with_link(&w, "b1", Some(link)).await;
    let pending = performance(&w, "sz-futian-g1").await;
    assert!(pending["commission_pending_fen"].as_i64().unwrap() > 0);
    assert_eq!(pending["commission_confirmed_fen"], 0);
    // picked up, then the 7-day window passes: the sweeper has the worker confirm it
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("b1")))
        .await;
    let store = order.body["parcels"][0]["store"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = order.body["parcels"][0]["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned();
    w.json(
        "POST",
        &format!("{BASE}/orders/{id}/pickup"),
        Some(&w.clerk(&format!("clerk-{store}"))),
        &json!({"code": code}),
    )
    .await;
    w.clock
        .advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    let confirmed = performance(&w, "sz-futian-g1").await;
    assert_eq!(confirmed["commission_pending_fen"], 0, "{confirmed}");
    assert_eq!(
        confirmed["commission_confirmed_fen"],
        pending["commission_pending_fen"]
    );
}

#[tokio::test]
async fn under_the_binding_rule_the_first_guide_keeps_the_buyer() {
    let w = World::seeded().await;
    // the demo campaign switched to binding
    binding_rule(&w, 15).await;
    let first = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let second = w.share_token("sz-futian-g2", "sz-futian", "summer-clearance");
    let a = order_with_link(&w, "b1", Some(first)).await;
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1004", "size": "38", "quantity": 1}], "share_token": second});
    let b = w.place("b1", "k-second", &body).await;
    let credited = |v: &Value| {
        (
            v["attribution"]["guide"].as_str().map(str::to_owned),
            v["attribution"]["reason"].as_str().map(str::to_owned),
        )
    };
    let first_order = w
        .get(&format!("{BASE}/orders/{a}"), Some(&w.buyer("b1")))
        .await;
    assert_eq!(
        credited(&first_order.body),
        (Some("gz-tianhe-g1".into()), Some("link".into()))
    );
    assert_eq!(
        credited(&b.body["order"]),
        (Some("gz-tianhe-g1".into()), Some("bound".into())),
        "{}",
        b.body
    );
}

#[tokio::test]
async fn a_lapsed_binding_gives_way_to_the_next_guides_link() {
    // given a buyer bound to a guide under the binding rule, protected for a day
    let w = World::seeded().await;
    binding_rule(&w, 1).await;
    let first = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    order_with_link(&w, "b1", Some(first)).await;
    // when the protection has lapsed and the buyer orders through another guide's link
    w.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let second = w.share_token("sz-futian-g2", "sz-futian", "summer-clearance");
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1004", "size": "38", "quantity": 1}], "share_token": second});
    let relinked = w.place("b1", "k-relinked", &body).await;
    // then the order is taken, credited to the new guide, who now keeps the buyer
    assert_eq!(relinked.status, 201, "{}", relinked.body);
    assert_eq!(
        relinked.body["order"]["attribution"]["guide"],
        "sz-futian-g2"
    );
    assert_eq!(relinked.body["order"]["attribution"]["reason"], "link");
    // (a sale binds once it is paid)
    let id = relinked.body["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(w.pay(&id).await.body["status"], "paid");
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1004", "size": "39", "quantity": 1}]});
    let bound = w.place("b1", "k-bound", &body).await;
    assert_eq!(bound.status, 201, "{}", bound.body);
    assert_eq!(bound.body["order"]["attribution"]["guide"], "sz-futian-g2");
    assert_eq!(bound.body["order"]["attribution"]["reason"], "bound");
}
