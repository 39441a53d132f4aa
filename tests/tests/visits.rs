//! Store visits: the campaign's stores nearest first with the size they hold now, and
//! the pickup store a buyer chooses (honoured when it holds every unit; otherwise the
//! usual rule, and the order says why).

use clearance_tests::{World, BASE};
use serde_json::{json, Value};

const C: &str = "summer-clearance";

async fn nearby(w: &World, query: &str) -> clearance_tests::Resp {
    w.get(&format!("{BASE}/campaigns/{C}/stores?{query}"), None)
        .await
}

fn ids(r: &Value) -> Vec<String> {
    r["stores"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_nearest_store_list_is_right_for_known_coordinates_and_says_who_holds_the_size() {
    let w = World::seeded().await;
    // from a pin in Foshan's Chancheng district: Chancheng, then Tianhe, then Futian
    let r = nearby(&w, "near=23.03,113.12").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), ["fs-chancheng", "gz-tianhe", "sz-futian"]);
    let d = |i: usize| r.body["stores"][i]["distance_m"].as_u64().unwrap_or(0);
    assert!(d(0) < 2_000, "Chancheng is about 1 km away: {}", d(0));
    assert!(
        (20_000..30_000).contains(&d(1)),
        "Tianhe is about 24 km away: {}",
        d(1)
    );
    assert!(
        (100_000..125_000).contains(&d(2)),
        "Futian is about 110 km away: {}",
        d(2)
    );
    // from Futian itself: Futian first, at 0 m
    let r = nearby(&w, "near=22.5431,114.0579").await;
    assert_eq!(ids(&r.body)[0], "sz-futian");
    assert_eq!(r.body["stores"][0]["distance_m"], 0);
    // the demo's stock of SD-1001 in size 35: none at Tianhe, some at Futian and Chancheng
    let r = nearby(&w, "near=23.1291,113.3270&sku=SD-1001&size=35").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let holds: Vec<(String, Value)> = r.body["stores"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or_default().to_owned(),
                        s["holds_size"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        holds,
        [
            ("gz-tianhe".to_owned(), json!(false)),
            ("fs-chancheng".to_owned(), json!(true)),
            ("sz-futian".to_owned(), json!(true)),
        ]
    );
    // the demo's stores open 10:00-22:00; T0 is 11:00 in Shanghai
    assert_eq!(r.body["stores"][0]["open_now"], true);
    // without a pin: every store, by id, no distances
    let r = nearby(&w, "").await;
    assert_eq!(ids(&r.body), ["fs-chancheng", "gz-tianhe", "sz-futian"]);
    assert_eq!(r.body["stores"][0]["distance_m"], Value::Null);
}

#[tokio::test]
async fn a_bad_pin_or_a_size_without_its_product_is_refused_naming_the_parameter() {
    let w = World::seeded().await;
    for (query, name) in [
        ("near=91,113", "near"),
        ("near=abc", "near"),
        ("size=38", "sku"),
        ("sku=SD-1001", "size"),
        ("far=1", "far"),
    ] {
        let r = nearby(&w, query).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert!(r.body.to_string().contains(name), "{query}: {}", r.body);
    }
}

async fn pickup_order(w: &World, buyer: &str, size: &str, store: &str) -> Value {
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": size, "quantity": 1}],
        "coupon": "none", "delivery": {"mode": "pickup", "store": store}});
    let r = w.place(buyer, &format!("pick-{buyer}"), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(w.pay(&id).await.status, 200);
    w.drain().await;
    w.read_order(buyer, &id).await
}

#[tokio::test]
async fn the_pickup_store_a_buyer_chooses_is_honoured_when_it_holds_the_units() {
    let w = World::seeded().await;
    // given Futian holds SD-1001 in 36, chosen by the buyer (Tianhe holds it too)
    let o = pickup_order(&w, "buyer-choose-1", "36", "sz-futian").await;
    // then its parcel is at Futian
    assert_eq!(o["parcels"][0]["store"], "sz-futian", "{o}");
    assert_eq!(o["parcels"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_chosen_store_without_the_units_falls_back_to_the_rule_and_the_order_says_why() {
    let w = World::seeded().await;
    // given Tianhe holds no SD-1001 in 35
    let o = pickup_order(&w, "buyer-choose-2", "35", "gz-tianhe").await;
    // then another store dispatches it, and the history says why
    let store = o["parcels"][0]["store"].as_str().unwrap_or_default();
    assert!(store == "sz-futian" || store == "fs-chancheng", "{o}");
    let notes: Vec<&str> = o["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["note"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("chosen store gz-tianhe does not hold SD-1001 size 35")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_pickup_store_outside_the_campaign_or_on_a_shipping_order_is_refused() {
    let w = World::seeded().await;
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}],
        "coupon": "none", "delivery": {"mode": "pickup", "store": "zh-nowhere"}});
    let r = w.place("buyer-choose-3", "pick-x", &body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("delivery.store"), "{}", r.body);
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "36", "quantity": 1}],
        "coupon": "none", "delivery": {"mode": "shipping", "store": "gz-tianhe", "phone": "13800001234",
        "address": {"province": "Guangdong", "city": "Guangzhou", "district": "Tianhe", "line": "1 Road"}}});
    let r = w.place("buyer-choose-3", "pick-y", &body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("delivery.store"), "{}", r.body);
}
