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

// ---- pickup appointments ----

const V: &str = "visits";

/// Tianhe (clerk-1) opens 00:00-22:00 every day but the 25th, with 30-minute pickup
/// slots of 5 places; Futian (clerk-2) takes no appointments. Campaign `visits` sells
/// `V-1` from Tianhe's 60 units in 38. The clock is 12:01 in Shanghai, 2026-11-23.
async fn slot_world() -> World {
    use clearance_tests::{listing, t0};
    let w = World::memory().await;
    let days: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"day": d, "opens": "00:00", "closes": "22:00"}))
        .collect();
    w.store("gz-tianhe")
        .named("天河店")
        .clerks(&["clerk-1"])
        .with(
            "opening",
            json!({"hours": days, "closed_dates": ["2026-11-25"]}),
        )
        .with("pickup_slots", json!({"minutes": 30, "capacity": 5}))
        .put()
        .await;
    w.store("sz-futian")
        .named("福田店")
        .clerks(&["clerk-2"])
        .put()
        .await;
    w.campaign(V)
        .named("Visits")
        .stores(&["gz-tianhe", "sz-futian"])
        .runs(
            t0() + chrono::Duration::hours(1),
            t0() + chrono::Duration::days(5),
        )
        .listing(
            "V-1",
            listing(9_900)
                .named("Visit shoe")
                .per_buyer(1)
                .stock("gz-tianhe", "38", 60),
        )
        .live()
        .await;
    w
}

/// A paid pickup order of one V-1 38, waiting at Tianhe: its id.
async fn waiting(w: &World, buyer: &str) -> String {
    let body = json!({"campaign": V, "lines": [{"sku": "V-1", "size": "38", "quantity": 1}], "coupon": "none"});
    let r = w.place(buyer, &format!("wait-{buyer}"), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(w.pay(&id).await.status, 200);
    id
}

async fn book(
    w: &World,
    buyer: &str,
    order: &str,
    date: &str,
    start: &str,
) -> clearance_tests::Resp {
    w.json(
        "PUT",
        &format!("{BASE}/orders/{order}/parcels/1/appointment"),
        Some(&w.buyer(buyer)),
        &json!({"date": date, "start": start}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_bookings_of_a_slot_with_five_places_give_five() {
    // given 50 buyers whose parcels wait at Tianhe
    let w = slot_world().await;
    let mut orders = Vec::new();
    for i in 0..50 {
        let buyer = format!("slot-buyer-{i}");
        orders.push((buyer.clone(), waiting(&w, &buyer).await));
    }
    w.drain().await;
    // when all of them book the 13:00 slot at once
    let tasks: Vec<_> = orders
        .iter()
        .map(|(buyer, order)| {
            let app = w.app.clone();
            let req = clearance_tests::request(
                "PUT",
                &format!("{BASE}/orders/{order}/parcels/1/appointment"),
                Some(&w.buyer(buyer)),
                Some(json!({"date": "2026-11-23", "start": "13:00"}).to_string()),
            );
            tokio::spawn(async move {
                use tower::ServiceExt;
                let res = app.oneshot(req).await.map_err(|e| format!("{e:?}"))?;
                let status = res.status().as_u16();
                let bytes = http_body_util::BodyExt::collect(res.into_body())
                    .await
                    .map_err(|e| format!("{e:?}"))?
                    .to_bytes();
                Ok::<_, String>((status, String::from_utf8_lossy(&bytes).into_owned()))
            })
        })
        .collect();
    let mut booked = 0;
    let mut full = 0;
    for t in tasks {
        let (status, body) = t
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        match status {
            200 => booked += 1,
            409 if body.contains("slot-full") => full += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // then exactly five are booked, the rest told the slot is full
    assert_eq!((booked, full), (5, 45));
    let day = tianhe_day(&w, "2026-11-23").await;
    assert_eq!(day.status, 200, "{}", day.body);
    assert_eq!(day.body["bookings"].as_array().map(Vec::len), Some(5));
    // and the slot's counter holds none free, never less
    let free = free_places(&w, "2026-11-23", "1300").await;
    assert_eq!(free, Some(0));
}

/// Tianhe's bookings of a local date, as its clerk lists them.
async fn tianhe_day(w: &World, date: &str) -> clearance_tests::Resp {
    w.get(
        &format!("{BASE}/stores/gz-tianhe/appointments?date={date}"),
        Some(&w.clerk("clerk-1")),
    )
    .await
}

async fn free_places(w: &World, date: &str, slot: &str) -> Option<i64> {
    use clearance::table::{keys, Key};
    let t = clearance::domain::tenancy::Tenant::parse("demo", "south-china")
        .unwrap_or_else(|e| panic!("{e}"));
    let store =
        clearance::domain::ids::StoreId::parse("gz-tianhe").unwrap_or_else(|e| panic!("{e}"));
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap_or_default();
    let item = w
        .state
        .db
        .table()
        .get(
            &Key::new(keys::appointments_pk(&t, &store, date), keys::slot_sk(slot)),
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))?;
    match item.get("free") {
        Some(serde_dynamo::AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

#[tokio::test]
async fn a_slot_outside_the_hours_off_the_grid_on_a_closed_date_or_at_a_store_without_slots_is_refused(
) {
    let w = slot_world().await;
    let order = waiting(&w, "buyer-refused").await;
    w.drain().await;
    for (date, start, field) in [
        ("2026-11-25", "12:00", "date"),  // closed that day
        ("2026-11-23", "21:45", "start"), // ends after closing (and off the grid)
        ("2026-11-23", "22:00", "start"), // after closing
        ("2026-11-23", "12:15", "start"), // not on the 30-minute grid
        ("2026-11-23", "09:00", "start"), // already over
    ] {
        let r = book(&w, "buyer-refused", &order, date, start).await;
        assert_eq!(r.status, 422, "{date} {start}: {}", r.body);
        assert!(
            r.body.to_string().contains(field),
            "{date} {start}: {}",
            r.body
        );
    }
    // someone else's order is not theirs to book
    let r = book(&w, "buyer-other", &order, "2026-11-23", "13:00").await;
    assert_eq!(r.status, 404, "{}", r.body);
    // another store's clerk does not see Tianhe's day
    let r = w
        .get(
            &format!("{BASE}/stores/gz-tianhe/appointments"),
            Some(&w.clerk("clerk-2")),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn a_half_past_midnight_slot_belongs_to_the_stores_local_day_not_utcs_day_before() {
    let w = slot_world().await;
    let order = waiting(&w, "buyer-midnight").await;
    w.drain().await;
    // when the buyer books 00:30 on the 24th in Shanghai
    let r = book(&w, "buyer-midnight", &order, "2026-11-24", "00:30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = &r.body["parcels"][0]["appointment"];
    // then it is the 24th's slot, which starts at 16:30 UTC on the 23rd
    assert_eq!(a["date"], "2026-11-24");
    assert_eq!(a["starts_at"], "2026-11-23T16:30:00Z");
    let list = |date: &'static str| {
        let w = &w;
        async move {
            tianhe_day(w, date).await.body["bookings"]
                .as_array()
                .map(Vec::len)
        }
    };
    assert_eq!(list("2026-11-24").await, Some(1));
    assert_eq!(list("2026-11-23").await, Some(0));
    // moving it frees its place: the same slot, then another, then cancelled
    let again = book(&w, "buyer-midnight", &order, "2026-11-24", "00:30").await;
    assert_eq!(again.status, 200);
    assert_eq!(free_places(&w, "2026-11-24", "0030").await, Some(4));
    let moved = book(&w, "buyer-midnight", &order, "2026-11-24", "10:00").await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(free_places(&w, "2026-11-24", "0030").await, Some(5));
    assert_eq!(free_places(&w, "2026-11-24", "1000").await, Some(4));
    let gone = w
        .json(
            "DELETE",
            &format!("{BASE}/orders/{order}/parcels/1/appointment"),
            Some(&w.buyer("buyer-midnight")),
            &json!(null),
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(free_places(&w, "2026-11-24", "1000").await, Some(5));
    assert_eq!(list("2026-11-24").await, Some(0));
}

#[tokio::test]
async fn a_booking_not_honoured_by_the_slots_end_is_a_no_show_and_gives_its_place_back() {
    let w = slot_world().await;
    let order = waiting(&w, "buyer-late").await;
    w.drain().await;
    let r = book(&w, "buyer-late", &order, "2026-11-23", "12:30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(free_places(&w, "2026-11-23", "1230").await, Some(4));
    // when the slot ends without the buyer (its delayed message not yet delivered: the
    // sweeper finds the order's timer)
    w.clock.advance(chrono::Duration::minutes(80));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    // then it is a no-show, its place back, shown to the clerks
    let o = w.read_order("buyer-late", &order).await;
    assert_eq!(o["parcels"][0]["appointment"]["status"], "no_show", "{o}");
    assert_eq!(o["parcels"][0]["status"], "ready_for_pickup");
    assert_eq!(free_places(&w, "2026-11-23", "1230").await, Some(5));
    let day = tianhe_day(&w, "2026-11-23").await;
    assert_eq!(
        day.body["bookings"][0]["appointment"]["status"], "no_show",
        "{}",
        day.body
    );
    // and pickup without a booking still works
    let code = o["parcels"][0]["pickup_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let picked = w
        .json(
            "POST",
            &format!("{BASE}/orders/{order}/pickup"),
            Some(&w.clerk("clerk-1")),
            &json!({"code": code, "parcel": 1}),
        )
        .await;
    assert_eq!(picked.status, 200, "{}", picked.body);
}
