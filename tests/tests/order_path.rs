//! The order path tried as a hostile user would: one test per hole found, each failing
//! on the code before the fix. Parcels, needs-attention, pagination, share tokens,
//! authorization before the body, pickup brute force, masking, the go-live race, token
//! scopes, one campaign status, the OpenAPI document, and the unpaid sweeper.

use async_trait::async_trait;
use clearance::clock::Clock;
use clearance::domain::auth::Role;
use clearance::queue::{QueueConsumer, QueueName};
use clearance::table::{Condition, Item, Key, Page, Query, Table, TableError, Write};
use clearance_tests::{listing, request, t0, World, BASE};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A live campaign "split" over two stores that each hold part of SP-1:
/// gz-tianhe (clerk-gz) has sizes 35 and 38, sz-futian (clerk-sz) has 37 and 38,
/// one unit each.
async fn split_world(table: Arc<dyn Table>) -> World {
    let w = World::new(table).await;
    w.store("gz-tianhe")
        .named("Guangzhou")
        .city("Guangzhou")
        .clerks(&["clerk-gz"])
        .put()
        .await;
    w.store("sz-futian")
        .named("Shenzhen")
        .city("Shenzhen")
        .clerks(&["clerk-sz"])
        .put()
        .await;
    w.campaign("split")
        .named("Split")
        .stores(&["gz-tianhe", "sz-futian"])
        .runs(
            t0() + chrono::Duration::hours(1),
            t0() + chrono::Duration::days(3),
        )
        .listing(
            "SP-1",
            listing(9_900)
                .named("Split sandal")
                .list_price(29_900)
                .sizes(&["35", "37", "38"])
                .stock("gz-tianhe", "35", 1)
                .stock("gz-tianhe", "38", 1)
                .stock("sz-futian", "37", 1)
                .stock("sz-futian", "38", 1),
        )
        .live()
        .await;
    w.clock.set(t0() + chrono::Duration::hours(2));
    w
}

fn split_order(lines: Value) -> Value {
    json!({"campaign": "split", "lines": lines})
}

/// Places and pays an order, runs fulfillment, and returns its id.
async fn paid_and_dispatched(w: &World, buyer: &str, body: &Value) -> String {
    let placed = w.place(buyer, &format!("k-{buyer}"), body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    let paid = w.pay(&id).await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);
    w.drain().await;
    id
}

fn codes_by_store(order: &Value) -> Vec<(String, String)> {
    order["parcels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["store"].as_str().unwrap().to_owned(),
                p["pickup_code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_pickup_order_goes_whole_to_one_store_that_covers_every_line() {
    // given the demo's SD-1001 in sizes 35 and 37, which used to go line by line to two
    // stores (Shenzhen holds the most 35s, Foshan the most 37s), though both hold both
    let w = World::seeded().await;
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1001", "size": "35", "quantity": 1}, {"sku": "SD-1001", "size": "37", "quantity": 1}]});
    // when it is paid and dispatched
    let id = paid_and_dispatched(&w, "buyer-1", &body).await;
    // then it is one parcel at one store, and that store's clerk hands it over
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await;
    let parcels = codes_by_store(&order.body);
    assert_eq!(parcels.len(), 1, "{}", order.body);
    let (store, code) = &parcels[0];
    assert_eq!(
        store, "fs-chancheng",
        "of the two stores covering it, the one holding more of it"
    );
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{id}/pickup"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "picked_up");
}

#[tokio::test]
async fn a_pickup_order_no_store_covers_is_split_into_parcels_each_handed_over_by_its_own_store() {
    // given sizes 35 (only at gz) and 37 (only at sz), and 2 of size 38 held 1 + 1
    let w = split_world(clearance_tests::memory_table()).await;
    let body = split_order(
        json!([{"sku": "SP-1", "size": "35", "quantity": 1}, {"sku": "SP-1", "size": "37", "quantity": 1},
                                  {"sku": "SP-1", "size": "38", "quantity": 2}]),
    );
    // when it is paid and dispatched
    let id = paid_and_dispatched(&w, "buyer-1", &body).await;
    // then there is one parcel per store, each with its own code, shown to the buyer
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await;
    assert_eq!(order.body["status"], "ready_for_pickup", "{}", order.body);
    let parcels = codes_by_store(&order.body);
    let stores: Vec<&str> = parcels.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(stores, ["gz-tianhe", "sz-futian"]);
    assert!(parcels.iter().all(|(_, c)| c.len() == 6));
    for p in order.body["parcels"].as_array().unwrap() {
        let units: u64 = p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["quantity"].as_u64().unwrap())
            .sum();
        assert_eq!(units, 2, "each store gives its two units: {p}");
    }
    // each clerk sees only their own parcel, and no code
    let gz_view = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.clerk("clerk-gz")))
        .await;
    assert_eq!(gz_view.body["parcels"].as_array().map(Vec::len), Some(1));
    assert_eq!(gz_view.body["parcels"][0]["store"], "gz-tianhe");
    assert_eq!(gz_view.body["parcels"][0]["pickup_code"], Value::Null);
    // a clerk cannot open the other store's parcel, even with its code
    let pickup = format!("{BASE}/orders/{id}/pickup");
    let (gz_code, sz_code) = (&parcels[0].1, &parcels[1].1);
    if gz_code != sz_code {
        w.json(
            "POST",
            &pickup,
            Some(&w.clerk("clerk-gz")),
            &json!({"code": sz_code}),
        )
        .await
        .problem(422, "wrong-pickup-code");
    }
    // each clerk hands over theirs; the order is picked up with the last
    let r = w
        .json(
            "POST",
            &pickup,
            Some(&w.clerk("clerk-gz")),
            &json!({"code": gz_code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ready_for_pickup");
    let r = w
        .json(
            "POST",
            &pickup,
            Some(&w.clerk("clerk-sz")),
            &json!({"code": sz_code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "picked_up");
}

#[tokio::test]
async fn a_line_split_across_stores_ships_as_parcels_and_what_no_store_holds_waits_for_a_person() {
    let w = split_world(clearance_tests::memory_table()).await;
    // a shipped line of 2 held 1 + 1: two parcels
    let delivery = json!({"mode": "shipping", "address": {"province": "Guangdong", "city": "Foshan", "district": "Nanhai", "line": "9 Home St"}, "phone": "13800001234"});
    let mut body = split_order(json!([{"sku": "SP-1", "size": "38", "quantity": 2}]));
    body["delivery"] = delivery;
    let id = paid_and_dispatched(&w, "buyer-1", &body).await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await;
    assert_eq!(order.body["status"], "shipped", "{}", order.body);
    assert_eq!(order.body["parcels"].as_array().map(Vec::len), Some(2));

    // given the stores' own counts drifted below what the shards sold (a person moved
    // stock by hand): what no store holds can never be dispatched
    let t = clearance_local::seed::tenant().unwrap();
    let pk = clearance::table::keys::campaign_pk(
        &t,
        &clearance::domain::ids::CampaignId::parse("split").unwrap(),
    );
    let sk = clearance::table::keys::store_stock_sk(
        &clearance::domain::ids::Sku::parse("SP-1").unwrap(),
    );
    let mut drifted = w
        .state
        .db
        .table()
        .get(&Key::new(&pk, &sk), true)
        .await
        .unwrap()
        .unwrap();
    drifted.insert(
        "units".into(),
        serde_dynamo::to_attribute_value(json!({"gz-tianhe": {"35": 1}})).unwrap(),
    );
    w.state.db.table().put(drifted, None).await.unwrap();
    let body = split_order(json!([{"sku": "SP-1", "size": "37", "quantity": 1}]));
    let id = paid_and_dispatched(&w, "buyer-2", &body).await;
    // then the order is held, visibly, with the reason, and listed for staff
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(&w.ops())).await;
    assert_eq!(order.body["status"], "needs_attention", "{}", order.body);
    assert!(
        order.body["attention"]
            .as_str()
            .unwrap()
            .contains("SP-1 size 37"),
        "{}",
        order.body
    );
    let listed = w
        .get(
            &format!("{BASE}/orders?status=needs_attention"),
            Some(&w.ops()),
        )
        .await;
    let ids: Vec<&str> = listed.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    // nothing was left to retry into the dead-letter queue
    assert!(w
        .queue
        .receive(QueueName::Fulfillment, 10)
        .await
        .unwrap()
        .is_empty());
    // and buyers cannot list it
    w.get(
        &format!("{BASE}/orders?status=needs_attention"),
        Some(&w.buyer("buyer-2")),
    )
    .await
    .problem(403, "forbidden");
}

/// Follows `next_cursor` from `first` to the end, collecting `key` of each item of
/// `list`; asserts no page is larger than `limit`.
async fn walk(
    w: &World,
    first: &str,
    token: Option<&str>,
    list: &str,
    key: &str,
    limit: usize,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = first.to_owned();
    for _ in 0..100 {
        let r = w.get(&url, token).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let items = r.body[list]
            .as_array()
            .unwrap_or_else(|| panic!("{url}: {}", r.body));
        assert!(items.len() <= limit, "{url}: page of {}", items.len());
        seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_owned()));
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                url = format!("{first}{sep}cursor={c}");
            }
            None => return seen,
        }
    }
    panic!("{first}: more than 100 pages");
}

fn once_each(seen: &[String], expected: usize, what: &str) {
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "{what}: an item came twice: {seen:?}"
    );
    assert_eq!(seen.len(), expected, "{what}: {seen:?}");
}

#[tokio::test]
async fn walking_every_page_of_every_list_yields_each_item_exactly_once() {
    let w = World::seeded().await;
    let ops = w.ops();
    // products: 13 in the demo campaign
    for limit in [1, 2, 5, 13, 50] {
        let seen = walk(
            &w,
            &format!("{BASE}/campaigns/summer-clearance/products?limit={limit}"),
            None,
            "products",
            "sku",
            limit,
        )
        .await;
        once_each(&seen, 13, "products");
    }
    // my orders: 5 (the reported case: limit 2 lost the oldest)
    let skus = ["SD-1001", "SD-1002", "SD-1004", "PM-2001", "PM-2002"];
    for (i, sku) in skus.iter().enumerate() {
        let body = json!({"campaign": "summer-clearance", "lines": [{"sku": sku, "size": "38", "quantity": 1}], "coupon": "none"});
        assert_eq!(
            w.place("buyer-1", &format!("k{i}"), &body).await.status,
            201
        );
    }
    let buyer = w.buyer("buyer-1");
    for limit in [1, 2, 3, 5, 50] {
        let seen = walk(
            &w,
            &format!("/v1/me/orders?limit={limit}"),
            Some(&buyer),
            "orders",
            "id",
            limit,
        )
        .await;
        once_each(&seen, 5, "my orders");
    }
    // my coupons: the three demo tiers
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
    for limit in [1, 2, 3] {
        let seen = walk(
            &w,
            &format!("/v1/me/coupons?limit={limit}"),
            Some(&buyer),
            "coupons",
            "id",
            limit,
        )
        .await;
        once_each(&seen, 3, "my coupons");
    }
    // stores (3) and guides (6)
    for limit in [1, 2, 3, 4] {
        once_each(
            &walk(
                &w,
                &format!("{BASE}/stores?limit={limit}"),
                Some(&ops),
                "stores",
                "id",
                limit,
            )
            .await,
            3,
            "stores",
        );
        once_each(
            &walk(
                &w,
                &format!("{BASE}/guides?limit={limit}"),
                Some(&ops),
                "guides",
                "id",
                limit,
            )
            .await,
            6,
            "guides",
        );
    }
    // a cursor from one list does not open another partition
    let mine = w.get("/v1/me/orders?limit=1", Some(&buyer)).await;
    let cursor = mine.body["next_cursor"].as_str().unwrap().to_owned();
    w.get(
        &format!("/v1/me/orders?limit=1&cursor={cursor}"),
        Some(&w.buyer("buyer-2")),
    )
    .await
    .problem(400, "invalid-parameter");
}

#[tokio::test]
async fn orders_needing_attention_page_through_each_once() {
    let w = split_world(clearance_tests::memory_table()).await;
    // every store's count wiped: nothing can be dispatched
    let t = clearance_local::seed::tenant().unwrap();
    let pk = clearance::table::keys::campaign_pk(
        &t,
        &clearance::domain::ids::CampaignId::parse("split").unwrap(),
    );
    let sk = clearance::table::keys::store_stock_sk(
        &clearance::domain::ids::Sku::parse("SP-1").unwrap(),
    );
    let mut wiped = w
        .state
        .db
        .table()
        .get(&Key::new(&pk, &sk), true)
        .await
        .unwrap()
        .unwrap();
    wiped.insert(
        "units".into(),
        serde_dynamo::to_attribute_value(json!({})).unwrap(),
    );
    w.state.db.table().put(wiped, None).await.unwrap();
    for (i, size) in ["35", "37", "38"].iter().enumerate() {
        let body = split_order(json!([{"sku": "SP-1", "size": size, "quantity": 1}]));
        paid_and_dispatched(&w, &format!("buyer-{i}"), &body).await;
    }
    for limit in [1, 2, 3] {
        let seen = walk(
            &w,
            &format!("{BASE}/orders?status=needs_attention&limit={limit}"),
            Some(&w.ops()),
            "orders",
            "id",
            limit,
        )
        .await;
        once_each(&seen, 3, "orders needing attention");
    }
}

#[tokio::test]
async fn a_truncated_share_token_credits_nobody() {
    let w = World::seeded().await;
    let full = w.share_token("gz-tianhe-g1", "gz-tianhe", "summer-clearance");
    let (who, tag) = full.rsplit_once('.').unwrap();
    let preview = |token: String| {
        let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}], "share_token": token});
        w.send(request(
            "POST",
            &format!("{BASE}/orders/preview"),
            Some(&w.buyer("b")),
            Some(body.to_string()),
        ))
    };
    let whole = preview(full.clone()).await;
    assert_eq!(
        whole.body["attribution"]["guide"], "gz-tianhe-g1",
        "the whole token credits its guide"
    );
    // when the tag is cut to 1..15 bytes (or anything short of its 32), nobody is
    // credited, and the answer says why
    for bytes in 1..32 {
        let cut = format!("{who}.{}", &tag[..bytes * 2]);
        let r = preview(cut).await;
        assert_eq!(r.status, 200, "the sale itself goes ahead");
        assert_eq!(
            r.body["attribution"]["guide"],
            Value::Null,
            "{bytes}-byte tag"
        );
        assert_eq!(
            r.body["attribution"]["reason"], "link_forged",
            "{bytes}-byte tag"
        );
    }
    // and guessing a one-byte tag credits nobody for any byte
    for b in 0..=255u8 {
        let guess = format!("{who}.{b:02x}");
        assert_eq!(
            preview(guess).await.body["attribution"]["guide"],
            Value::Null
        );
    }
}

#[tokio::test]
async fn a_caller_without_the_role_learns_nothing_about_what_the_body_should_be() {
    let w = World::seeded().await;
    let consumer = w.buyer("nosy");
    let guide = w.token(Role::Guide, &["demo/south-china"]);
    let staff_writes = [
        ("POST", "campaigns"),
        ("PUT", "campaigns/summer-clearance"),
        ("PUT", "campaigns/summer-clearance/slots"),
        ("PUT", "campaigns/summer-clearance/listings/SD-1001"),
        ("PUT", "campaigns/summer-clearance/coupons/x"),
        ("POST", "campaigns/summer-clearance/publish"),
        ("PUT", "stores/gz-tianhe"),
        ("PUT", "guides/gz-tianhe-g1"),
    ];
    let counter = [("POST", "orders/01JDEMOORDER00000000000000/pickup")];
    let bodies: [(&str, &str); 4] = [
        ("application/json", r#"{"unknown": 1}"#),
        ("application/json", "{"),
        ("text/plain", "hello"),
        ("application/json", r#"{"name": 7}"#),
    ];
    let mut checked = 0;
    for (token, routes) in [
        (&consumer, &staff_writes[..]),
        (&guide, &staff_writes[..]),
        (&consumer, &counter[..]),
    ] {
        for (method, path) in routes {
            for (content_type, body) in bodies {
                let req = axum::http::Request::builder()
                    .method(*method)
                    .uri(format!("{BASE}/{path}"))
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", content_type)
                    .body(axum::body::Body::from(body))
                    .unwrap();
                w.send(req).await.problem(403, "forbidden");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * (8 + 8 + 1));
}

async fn parcel_code(w: &World, id: &str, buyer: &str) -> String {
    let order = w.get(&format!("{BASE}/orders/{id}"), Some(buyer)).await;
    order.body["parcels"][0]["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn five_wrong_pickup_codes_lock_the_parcel_and_give_the_buyer_a_new_code() {
    let w = split_world(clearance_tests::memory_table()).await;
    let id = paid_and_dispatched(
        &w,
        "buyer-1",
        &split_order(json!([{"sku": "SP-1", "size": "35", "quantity": 1}])),
    )
    .await;
    let buyer = w.buyer("buyer-1");
    let first = parcel_code(&w, &id, &buyer).await;
    let wrong = if first == "000000" {
        "000001"
    } else {
        "000000"
    };
    let pickup = format!("{BASE}/orders/{id}/pickup");
    for left in (1..5).rev() {
        let r = w
            .json(
                "POST",
                &pickup,
                Some(&w.clerk("clerk-gz")),
                &json!({"code": wrong}),
            )
            .await;
        r.problem(422, "wrong-pickup-code");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} of 5")),
            "{}",
            r.body
        );
    }
    // the fifth wrong code locks the parcel and replaces its code
    w.json(
        "POST",
        &pickup,
        Some(&w.clerk("clerk-gz")),
        &json!({"code": wrong}),
    )
    .await
    .problem(409, "parcel-locked");
    let second = parcel_code(&w, &id, &buyer).await;
    // while locked, even the right code is refused; the old one stays dead after
    w.json(
        "POST",
        &pickup,
        Some(&w.clerk("clerk-gz")),
        &json!({"code": second}),
    )
    .await
    .problem(409, "parcel-locked");
    w.clock.advance(chrono::Duration::minutes(16));
    if first != second {
        w.json(
            "POST",
            &pickup,
            Some(&w.clerk("clerk-gz")),
            &json!({"code": first}),
        )
        .await
        .problem(422, "wrong-pickup-code");
    }
    // who tried is on record, for staff
    let staff = w.get(&format!("{BASE}/orders/{id}"), Some(&w.ops())).await;
    let tries = staff.body["parcels"][0]["wrong_codes"].as_array().unwrap();
    assert!(
        tries.len() >= 5 && tries.iter().all(|t| t["by"] == "clerk-gz"),
        "{}",
        staff.body
    );
    let r = w
        .json(
            "POST",
            &pickup,
            Some(&w.clerk("clerk-gz")),
            &json!({"code": second}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "picked_up");
}

#[tokio::test]
async fn only_the_store_that_ships_a_parcel_sees_the_buyers_street_and_phone() {
    let w = split_world(clearance_tests::memory_table()).await;
    let mut body = split_order(json!([{"sku": "SP-1", "size": "35", "quantity": 1}]));
    body["delivery"] = json!({"mode": "shipping", "address": {"province": "Guangdong", "city": "Foshan", "district": "Nanhai", "line": "9 Secret St"}, "phone": "13800001234"});
    let id = paid_and_dispatched(&w, "buyer-1", &body).await;
    let url = format!("{BASE}/orders/{id}");
    let buyer = w.get(&url, Some(&w.buyer("buyer-1"))).await;
    assert_eq!(buyer.body["delivery"]["address"]["line"], "9 Secret St");
    let shipper = w.get(&url, Some(&w.clerk("clerk-gz"))).await;
    assert_eq!(
        shipper.body["delivery"]["address"]["line"], "9 Secret St",
        "gz ships it"
    );
    assert_eq!(shipper.body["delivery"]["phone"], "13800001234");
    for (who, token) in [
        ("ops", w.ops()),
        ("another store", w.clerk("clerk-sz")),
        ("hq", w.token(Role::Hq, &["*"])),
    ] {
        let seen = w.get(&url, Some(&token)).await;
        assert_eq!(seen.status, 200, "{who}");
        let shown = seen.body["delivery"].to_string();
        assert!(
            !shown.contains("Secret") && !shown.contains("00001"),
            "{who} saw {shown}"
        );
        assert_eq!(seen.body["delivery"]["address"]["city"], "Foshan", "{who}");
    }
}

/// A table that moves the clock to `to` the first time the campaign item is read: as
/// if the write that follows the read reached DynamoDB after the campaign went live.
struct LateWrites {
    inner: Arc<dyn Table>,
    clock: Arc<clearance::clock::ManualClock>,
    to: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
impl Table for LateWrites {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        let out = self.inner.get(key, consistent).await;
        if key.sk.starts_with("CAMPAIGN#") && self.clock.now() < self.to {
            self.clock.set(self.to);
        }
        out
    }
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        self.inner.batch_get(keys, consistent).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        self.inner.put(item, condition).await
    }
    async fn query(&self, q: Query) -> Result<Page, TableError> {
        self.inner.query(q).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        self.inner.transact(writes).await
    }
}

#[tokio::test]
async fn a_listing_or_coupon_edit_that_lands_after_go_live_is_refused() {
    for edit in ["listing", "coupon", "campaign"] {
        // given a published campaign starting at 04:00, edited at 03:00
        let inner = clearance_tests::memory_table();
        let setup = World::new(inner.clone()).await;
        let ops = setup.ops();
        let store = json!({"name": "Tianhe", "address": {"province": "Guangdong", "city": "Guangzhou", "district": "Tianhe", "line": "1 Rd"}});
        setup
            .json(
                "PUT",
                &format!("{BASE}/stores/gz-tianhe"),
                Some(&ops),
                &store,
            )
            .await;
        let campaign = json!({"id": "race", "name": "Race", "starts_at": "2026-11-23T04:00:00Z", "ends_at": "2026-11-25T04:00:00Z",
            "categories": [{"id": "c", "name": "C"}], "stores": ["gz-tianhe"]});
        setup
            .json("POST", &format!("{BASE}/campaigns"), Some(&ops), &campaign)
            .await;
        let listing = json!({"name": "L", "category": "c", "sizes": ["38"], "list_price_fen": 1000, "clearance_price_fen": 500,
            "stock": [{"store": "gz-tianhe", "size": "38", "units": 5}]});
        assert_eq!(
            setup
                .json(
                    "PUT",
                    &format!("{BASE}/campaigns/race/listings/L-1"),
                    Some(&ops),
                    &listing
                )
                .await
                .status,
            200
        );
        let coupon = json!({"name": "c", "off_fen": 100, "budget": 10});
        assert_eq!(
            setup
                .json(
                    "PUT",
                    &format!("{BASE}/campaigns/race/coupons/c1"),
                    Some(&ops),
                    &coupon
                )
                .await
                .status,
            200
        );
        assert_eq!(
            setup
                .json(
                    "POST",
                    &format!("{BASE}/campaigns/race/publish"),
                    Some(&ops),
                    &json!({})
                )
                .await
                .status,
            200
        );
        // when the edit is read before the start but its write lands after it
        let clock = Arc::new(clearance::clock::ManualClock::new(t0()));
        let late: Arc<dyn Table> = Arc::new(LateWrites {
            inner: inner.clone(),
            clock: clock.clone(),
            to: t0() + chrono::Duration::hours(1) + chrono::Duration::seconds(1),
        });
        let w = World::new(late).await;
        let mut state = w.state.clone();
        state.clock = clock.clone();
        let app = clearance_local::app(
            state,
            w.tokens.clone(),
            Arc::new(clearance::payments::Sandbox::new(b"x".to_vec())),
        );
        let (method, path, body) = match edit {
            "listing" => (
                "PUT",
                "campaigns/race/listings/L-1",
                json!({"name": "L", "category": "c", "sizes": ["38"], "list_price_fen": 1000,
                "clearance_price_fen": 500, "stock": [{"store": "gz-tianhe", "size": "38", "units": 50}]}),
            ),
            "coupon" => (
                "PUT",
                "campaigns/race/coupons/c1",
                json!({"name": "c", "off_fen": 100, "budget": 1000}),
            ),
            _ => ("PUT", "campaigns/race/slots", json!({"slots": []})),
        };
        let req = request(
            method,
            &format!("{BASE}/{path}"),
            Some(&ops),
            Some(body.to_string()),
        );
        let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
        // then it is refused, and the live stock and budget are what they were
        assert_eq!(res.status(), 409, "{edit}");
        let t = clearance_local::seed::tenant().unwrap();
        let pk = clearance::table::keys::campaign_pk(
            &t,
            &clearance::domain::ids::CampaignId::parse("race").unwrap(),
        );
        let shard = inner
            .get(&Key::new(&pk, "P#L-1#S#00"), true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shard.get("units"),
            Some(&serde_dynamo::to_attribute_value(json!({"38": 5})).unwrap()),
            "{edit}"
        );
        let budget = inner
            .get(&Key::new(&pk, "K#c1"), true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            budget.get("remaining"),
            Some(&clearance::table::n(10)),
            "{edit}"
        );
    }
}

#[tokio::test]
async fn a_role_reaches_only_the_tenants_its_token_names() {
    let w = World::seeded().await;
    let store = json!({"name": "Zhuhai", "address": {"province": "Guangdong", "city": "Zhuhai", "district": "Xiangzhou", "line": "1 Harbour Rd"}});
    let campaign = json!({"id": "hq-made", "name": "HQ", "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-03T00:00:00Z"});
    let elsewhere = w.token(Role::Hq, &["other/north"]);
    w.json(
        "PUT",
        &format!("{BASE}/stores/zh-1"),
        Some(&elsewhere),
        &store,
    )
    .await
    .problem(403, "forbidden");
    w.json(
        "POST",
        &format!("{BASE}/campaigns"),
        Some(&elsewhere),
        &campaign,
    )
    .await
    .problem(403, "forbidden");
    let everywhere = w.token(Role::Hq, &["*"]);
    assert_eq!(
        w.json(
            "PUT",
            &format!("{BASE}/stores/zh-1"),
            Some(&everywhere),
            &store
        )
        .await
        .status,
        200
    );
    assert_eq!(
        w.json(
            "POST",
            &format!("{BASE}/campaigns"),
            Some(&everywhere),
            &campaign
        )
        .await
        .status,
        201
    );
    let brand = w.token(Role::BrandAdmin, &["demo/*"]);
    assert_eq!(
        w.get(&format!("{BASE}/stores"), Some(&brand)).await.status,
        200
    );
    w.get(
        &format!("{BASE}/stores"),
        Some(&w.token(Role::BrandAdmin, &["acme/*"])),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn staff_and_buyers_see_one_status_for_a_campaign_at_one_moment() {
    let w = World::seeded().await;
    let staff = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance"),
            Some(&w.ops()),
        )
        .await;
    let browse = w.get(&format!("{BASE}/campaigns"), None).await;
    assert_eq!(staff.body["status"], "live", "{}", staff.body);
    assert_eq!(browse.body["campaigns"][0]["status"], staff.body["status"]);
    assert_eq!(staff.body["stage"], "published");
}

#[test]
fn the_openapi_document_declares_every_path_parameter_the_bearer_token_and_problem_answers() {
    let doc: Value = serde_json::from_str(&clearance::api::openapi::json()).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(declared, in_path, "{method} {path}");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}"
                    );
                    assert!(
                        response["content"]["application/json"].is_null(),
                        "{method} {path} {status}"
                    );
                }
            }
            // who may call it is checked against the template in openapi.rs; here,
            // that public routes carry no token and need no 403
            let public = (path.contains("/products") && !path.ends_with("/size-advice"))
                || path.ends_with("/search")
                || path.ends_with("/campaigns/{campaign}/stores")
                || (path == "/v1/{brand}/{store_group}/campaigns" && method == "get")
                || (path.contains("/group-buys") && method == "get" && !path.starts_with("/v1/me"));
            let webhook = path.starts_with("/v1/payments/") || path == "/v1/couriers/notify";
            let scheme = if webhook {
                "provider_signature"
            } else {
                "bearer"
            };
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()));
            assert_eq!(secured, !public, "{method} {path}");
            if !public && !webhook {
                assert!(op["responses"]["403"].is_object(), "{method} {path}");
            }
            if op["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 25, "{operations}");
}

async fn a_lost_payment_timeout_is_caught_by_the_sweeper(table: Arc<dyn Table>) {
    // given an order whose timeout message could not be sent after the commit
    let mut w = split_world(table).await;
    let mut state = w.state.clone();
    state.queue = Arc::new(clearance::queue::Unconfigured);
    w.rebuild(state);
    let body = split_order(json!([{"sku": "SP-1", "size": "38", "quantity": 2}]));
    let placed = w.place("buyer-1", "k1", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(3600)).await;
    assert!(
        w.queue
            .receive(QueueName::OrderTimeouts, 10)
            .await
            .unwrap()
            .is_empty(),
        "no timeout message exists"
    );
    let product = format!("{BASE}/campaigns/split/products/SP-1");
    assert_eq!(
        w.get(&product, None).await.body["product"]["sizes"][2]["stock"],
        "sold_out"
    );
    // when the sweeper runs before the deadline, it leaves the order alone
    clearance_local::sweep_once(&w.state).await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await;
    assert_eq!(order.body["status"], "awaiting_payment");
    // and when it runs on its schedule after the deadline, the order is cancelled
    w.clock.advance(chrono::Duration::minutes(16));
    clearance_local::sweep_once(&w.state).await;
    let order = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer("buyer-1")))
        .await;
    assert_eq!(order.body["status"], "cancelled", "{}", order.body);
    // then the stock is back, and a second sweep finds nothing to do
    assert_eq!(
        w.get(&product, None).await.body["product"]["sizes"][2]["stock"],
        "low"
    );
    let swept = clearance::workers::sweep_timers(&w.state).await.unwrap();
    assert_eq!(swept["orders"], 0, "{swept}");
}

#[tokio::test]
async fn a_lost_payment_timeout_is_caught_by_the_sweeper_on_memory() {
    a_lost_payment_timeout_is_caught_by_the_sweeper(clearance_tests::memory_table()).await;
}

#[tokio::test]
async fn a_lost_payment_timeout_is_caught_by_the_sweeper_on_dynamodb() {
    a_lost_payment_timeout_is_caught_by_the_sweeper(clearance_tests::moto_table().await).await;
}
