//! Store visits: the campaign's stores nearest first with the size they hold now, and
//! the pickup store a buyer chooses (honoured when it holds every unit; otherwise the
//! usual rule, and the order says why).

use clearance_tests::{shard_units, World, BASE};
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
/// `V-1` from Tianhe's 60 units in 38 and `V-2` from its one unit in 39. The clock is
/// 12:01 in Shanghai, 2026-11-23.
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
        .listing(
            "V-2",
            listing(19_900)
                .named("Last pair")
                .per_buyer(1)
                .stock("gz-tianhe", "39", 1),
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
    let reqs = orders
        .iter()
        .map(|(buyer, order)| {
            clearance_tests::request(
                "PUT",
                &format!("{BASE}/orders/{order}/parcels/1/appointment"),
                Some(&w.buyer(buyer)),
                Some(json!({"date": "2026-11-23", "start": "13:00"}).to_string()),
            )
        })
        .collect();
    let (mut booked, mut full) = (0, 0);
    for r in w.at_once(reqs).await {
        match r.status.as_u16() {
            200 => booked += 1,
            409 if r.text.contains("slot-full") => full += 1,
            other => panic!("unexpected {other}: {}", r.text),
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
    // and the report counts the booking and its no-show at Tianhe
    let line = tianhe_report_line(&w).await;
    assert_eq!(
        (&line["pickup_bookings"], &line["pickup_no_shows"]),
        (&json!(1), &json!(1)),
        "{line}"
    );
}

/// Closes the visits campaign after its end and reads Tianhe's line of the report.
async fn tianhe_report_line(w: &World) -> Value {
    w.clock.advance(chrono::Duration::days(6));
    w.close_now(V).await;
    w.drain().await;
    let report = w.published_report(V).await;
    report["visits"]
        .as_array()
        .and_then(|v| v.iter().find(|l| l["store"] == "gz-tianhe"))
        .cloned()
        .unwrap_or_else(|| panic!("no line for Tianhe: {report}"))
}

/// The slot world with Tianhe's guide
/// `tianhe-g1` (login `guide-tianhe-1`) and Futian's `futian-g1`.
async fn try_on_world() -> World {
    let w = slot_world().await;
    for (guide, store, user) in [
        ("tianhe-g1", "gz-tianhe", "guide-tianhe-1"),
        ("futian-g1", "sz-futian", "guide-futian-1"),
    ] {
        let r = w
            .json(
                "PUT",
                &format!("{BASE}/guides/{guide}"),
                Some(&w.ops()),
                &json!({"name": guide, "store": store, "user": user}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    w
}

fn guide_token(w: &World, user: &str) -> String {
    w.tokens
        .mint(
            user,
            clearance::domain::auth::Role::Guide,
            &["demo/south-china"],
        )
        .unwrap_or_else(|p| panic!("{p:?}"))
}

/// `buyer` books a try-on at Tianhe in today's `start` slot.
async fn try_on(w: &World, buyer: &str, start: &str, items: Value) -> clearance_tests::Resp {
    w.json(
        "POST",
        &format!("{BASE}/campaigns/{V}/visits"),
        Some(&w.buyer(buyer)),
        &json!({"store": "gz-tianhe", "date": "2026-11-23", "start": start, "items": items}),
    )
    .await
}

async fn check_in(
    w: &World,
    token: &str,
    visit: &Value,
    code: &str,
    guide: Option<&str>,
) -> clearance_tests::Resp {
    let id = visit["id"].as_str().unwrap_or_default();
    let mut body = json!({ "code": code });
    if let Some(g) = guide {
        body["guide"] = g.into();
    }
    w.json(
        "POST",
        &format!("{BASE}/stores/gz-tianhe/visits/{id}/check-in"),
        Some(token),
        &body,
    )
    .await
}

async fn tianhe(w: &World, sku: &str, size: &str) -> i64 {
    clearance_tests::store_units(w, V, sku, "gz-tianhe", size).await
}

#[tokio::test]
async fn held_try_on_units_are_never_sold_to_another_order_and_come_back_by_the_timer() {
    // given the last V-2 39 at Tianhe, held for a try-on in the 12:30 slot
    let w = try_on_world().await;
    let r = try_on(&w, "trier", "12:30", json!([{"sku": "V-2", "size": "39"}])).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "booked");
    assert_eq!(
        (
            tianhe(&w, "V-2", "39").await,
            shard_units(&w, V, "V-2", "39").await
        ),
        (0, 0),
        "held: out of the store's count and off sale"
    );
    // when another buyer tries to buy it online
    let body = json!({"campaign": V, "lines": [{"sku": "V-2", "size": "39", "quantity": 1}], "coupon": "none"});
    let placed = w.place("other", "other-1", &body).await;
    // then it is sold out to them: nobody is sold a unit on a visitor's feet
    assert_eq!(placed.status, 409, "{}", placed.body);
    assert!(
        placed.body.to_string().contains("sold-out"),
        "{}",
        placed.body
    );
    // when the slot ends and its timer message arrives
    w.clock.advance(chrono::Duration::minutes(60));
    let timer = json!({"tenant": "demo/south-china", "campaign": V, "buyer": "trier", "due": r.body["slot"]["ends_at"]});
    clearance::workers::timeouts::expire_unpaid(&w.state, &timer.to_string())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // then the unit is back on sale and in the store's count, and the visitor who never
    // came is a no-show, their place back
    assert_eq!(
        (
            tianhe(&w, "V-2", "39").await,
            shard_units(&w, V, "V-2", "39").await
        ),
        (1, 1)
    );
    let mine = w
        .get(
            &format!("{BASE}/campaigns/{V}/visit"),
            Some(&w.buyer("trier")),
        )
        .await;
    assert_eq!(mine.body["status"], "no_show", "{}", mine.body);
    assert!(mine.body["released_at"].is_string());
    assert_eq!(free_places(&w, "2026-11-23", "1230").await, Some(5));
    // and a second delivery of the timer gives nothing back twice
    clearance::workers::timeouts::expire_unpaid(&w.state, &timer.to_string())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(shard_units(&w, V, "V-2", "39").await, 1);
    // and the other buyer can have it now, shipped from Tianhe
    let placed = w.place("other", "other-2", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(w.pay(&id).await.status, 200);
    w.drain().await;
    let o = w.read_order("other", &id).await;
    assert_eq!(o["parcels"][0]["store"], "gz-tianhe", "{o}");
    assert_eq!(tianhe(&w, "V-2", "39").await, 0);
}

#[tokio::test]
async fn the_sweeper_gives_a_try_ons_units_back_when_its_timer_is_lost() {
    let w = try_on_world().await;
    let r = try_on(
        &w,
        "trier-2",
        "12:30",
        json!([{"sku": "V-1", "size": "38"}, {"sku": "V-2", "size": "39"}]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(tianhe(&w, "V-1", "38").await, 59);
    // when the slot is long over and only the sweeper looks
    w.clock.advance(chrono::Duration::minutes(90));
    clearance_local::sweep_once(&w.state).await;
    // then both units are back, in the store's count and on sale
    assert_eq!(
        (tianhe(&w, "V-1", "38").await, tianhe(&w, "V-2", "39").await),
        (60, 1)
    );
    assert_eq!(
        (
            shard_units(&w, V, "V-1", "38").await,
            shard_units(&w, V, "V-2", "39").await
        ),
        (60, 1)
    );
    // and the report counts a visit nobody came to
    let line = tianhe_report_line(&w).await;
    assert_eq!(
        (
            &line["visits"],
            &line["visit_no_shows"],
            &line["check_ins"],
            &line["conversion_bp"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(0)),
        "{line}"
    );
}

#[tokio::test]
async fn a_visits_order_is_credited_in_store_trial_and_ships_the_held_unit_from_that_store() {
    // given a try-on of V-1 38 at Tianhe, checked in by Tianhe's guide
    let w = try_on_world().await;
    let before = w.counts.snapshot();
    let r = try_on(
        &w,
        "visitor",
        "12:30",
        json!([{"sku": "V-1", "size": "38"}]),
    )
    .await;
    let calls = w.counts.since(before);
    assert_eq!(r.status, 201, "{}", r.body);
    // (a booking: the cached campaign read, one batch read and one transaction)
    assert_eq!(
        (calls.batch_get, calls.transact, calls.query, calls.put),
        (1, 1, 0, 0),
        "{calls:?}"
    );
    assert!(calls.get <= 1, "{calls:?}");
    let visit = r.body.clone();
    let code = visit["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(tianhe(&w, "V-1", "38").await, 59);
    let guide = guide_token(&w, "guide-tianhe-1");
    let before = w.counts.snapshot();
    let c = check_in(&w, &guide, &visit, &code, Some("tianhe-g1")).await;
    let calls = w.counts.since(before);
    assert_eq!(c.status, 200, "{}", c.body);
    // (the guide checking in themself: their record, the visit, one transaction)
    assert_eq!(
        (calls.get, calls.batch_get, calls.transact, calls.total()),
        (2, 0, 1, 3),
        "{calls:?}"
    );
    assert_eq!(c.body["status"], "checked_in");
    assert_eq!(c.body["code"], Value::Null, "staff never see the code");
    // when, during the slot, the visitor orders it with a Futian guide's link in hand
    w.clock.advance(chrono::Duration::minutes(35));
    let mut body = json!({"campaign": V, "lines": [{"sku": "V-1", "size": "38", "quantity": 1}], "coupon": "none"});
    body["share_token"] = w.share_token("futian-g1", "sz-futian", V).into();
    // (the preview warms the campaign's cached read, and says who would be credited)
    let preview = w
        .json(
            "POST",
            &format!("{BASE}/orders/preview"),
            Some(&w.buyer("visitor")),
            &body,
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let before = w.counts.snapshot();
    let placed = w.place("visitor", "visit-order", &body).await;
    let calls = w.counts.since(before);
    assert_eq!(placed.status, 201, "{}", placed.body);
    // then the order is still one read and one transaction (the visit read in the batch)
    assert_eq!(
        (calls.batch_get, calls.transact, calls.total()),
        (1, 1, 2),
        "{calls:?}"
    );
    // and it is credited to the guide who checked the visitor in, not the link's
    let a = &placed.body["order"]["attribution"];
    assert_eq!(a["rule"], "in_store_trial", "{a}");
    assert_eq!(a["reason"], "tried_in_store", "{a}");
    assert_eq!(a["guide"], "tianhe-g1");
    assert_eq!(a["store"], "gz-tianhe");
    assert_eq!(a["visit"], visit["id"]);
    // when it is paid and dispatched
    let id = placed.body["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(w.pay(&id).await.status, 200);
    w.drain().await;
    // then it ships from Tianhe with the held unit: the store's count is not taken twice
    let o = w.read_order("visitor", &id).await;
    assert_eq!(o["parcels"][0]["store"], "gz-tianhe", "{o}");
    assert_eq!(tianhe(&w, "V-1", "38").await, 59);
    assert_eq!(
        shard_units(&w, V, "V-1", "38").await,
        59,
        "the held unit was the order's: no second unit came off sale"
    );
    let mine = w
        .get(
            &format!("{BASE}/campaigns/{V}/visit"),
            Some(&w.buyer("visitor")),
        )
        .await;
    assert_eq!(mine.body["holds"][0]["used_by"], json!(id), "{}", mine.body);
    // and the slot's end gives nothing back (the unit left with the order)
    w.clock.advance(chrono::Duration::minutes(60));
    clearance_local::sweep_once(&w.state).await;
    assert_eq!(tianhe(&w, "V-1", "38").await, 59);
    // and the clerks' day lists the visit, checked in, without its code
    let day = tianhe_day(&w, "2026-11-23").await;
    assert_eq!(
        day.body["visits"][0]["status"], "checked_in",
        "{}",
        day.body
    );
    assert_eq!(day.body["visits"][0]["code"], Value::Null);
    // and the report counts the visit, its check-in and its order
    let line = tianhe_report_line(&w).await;
    assert_eq!(
        (
            &line["visits"],
            &line["check_ins"],
            &line["converted"],
            &line["conversion_bp"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(10_000)),
        "{line}"
    );
}

#[tokio::test]
async fn a_visit_is_checked_in_only_by_its_stores_people_and_five_wrong_codes_lock_it() {
    let w = try_on_world().await;
    let r = try_on(
        &w,
        "locked-out",
        "12:30",
        json!([{"sku": "V-1", "size": "38"}]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let visit = r.body.clone();
    let code = visit["code"].as_str().unwrap_or_default().to_owned();
    // another store's clerk, or its guide, may not
    let c = check_in(&w, &w.clerk("clerk-2"), &visit, &code, None).await;
    assert_eq!(c.status, 403, "{}", c.body);
    let futian = guide_token(&w, "guide-futian-1");
    let c = check_in(&w, &futian, &visit, &code, Some("futian-g1")).await;
    assert_eq!(c.status, 403, "{}", c.body);
    // and a clerk may credit only a guide of their own store
    let c = check_in(&w, &w.clerk("clerk-1"), &visit, &code, Some("futian-g1")).await;
    assert_eq!(c.status, 422, "{}", c.body);
    assert!(c.body.to_string().contains("guide"), "{}", c.body);
    // four wrong codes say how many tries are left; the fifth locks the visit
    let clerk = w.clerk("clerk-1");
    for left in (1..5).rev() {
        let c = check_in(&w, &clerk, &visit, "000000", None).await;
        assert_eq!(c.status, 422, "{}", c.body);
        assert!(
            c.body.to_string().contains("wrong-visit-code"),
            "{}",
            c.body
        );
        assert!(
            c.body.to_string().contains(&format!("{left} of 5")),
            "{}",
            c.body
        );
    }
    let c = check_in(&w, &clerk, &visit, "000000", None).await;
    assert_eq!(c.status, 409, "{}", c.body);
    assert!(c.body.to_string().contains("visit-locked"), "{}", c.body);
    // the right old code no longer works, even after the lock: the buyer has a new one
    w.clock.advance(chrono::Duration::minutes(16));
    let c = check_in(&w, &clerk, &visit, &code, None).await;
    assert_eq!(c.status, 422, "{}", c.body);
    let mine = w
        .get(
            &format!("{BASE}/campaigns/{V}/visit"),
            Some(&w.buyer("locked-out")),
        )
        .await;
    let new_code = mine.body["code"].as_str().unwrap_or_default().to_owned();
    assert_ne!(new_code, code);
    let c = check_in(&w, &clerk, &visit, &new_code, None).await;
    assert_eq!(c.status, 200, "{}", c.body);
    // a clerk's check-in with no guide credits nobody: a later order follows the usual rule
    w.clock.advance(chrono::Duration::minutes(1));
    let body = json!({"campaign": V, "lines": [{"sku": "V-1", "size": "38", "quantity": 1}], "coupon": "none"});
    let placed = w.place("locked-out", "lo-1", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["order"]["attribution"]["rule"], "last_touch");
}

#[tokio::test]
async fn a_try_on_of_a_pair_the_store_lacks_too_many_pairs_or_a_second_visit_is_refused() {
    let w = try_on_world().await;
    // a pair Tianhe does not hold
    let r = try_on(&w, "picky", "12:30", json!([{"sku": "V-1", "size": "40"}])).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.to_string().contains("not-in-store"), "{}", r.body);
    // four pairs, none, or one twice: 422 naming `items`
    for items in [
        json!([{"sku": "V-1", "size": "38"}, {"sku": "V-2", "size": "39"}, {"sku": "V-1", "size": "39"}, {"sku": "V-1", "size": "40"}]),
        json!([]),
        json!([{"sku": "V-1", "size": "38"}, {"sku": "V-1", "size": "38"}]),
    ] {
        let r = try_on(&w, "picky", "12:30", items).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert!(r.body.to_string().contains("items"), "{}", r.body);
    }
    // a slot off the grid names `start`; a store outside the campaign names `store`
    let r = try_on(&w, "picky", "12:10", json!([{"sku": "V-1", "size": "38"}])).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("start"), "{}", r.body);
    // nothing was held by a refusal
    assert_eq!(tianhe(&w, "V-1", "38").await, 60);
    // the same booking twice is one visit; another while it is active is refused
    let first = try_on(&w, "picky", "12:30", json!([{"sku": "V-1", "size": "38"}])).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = try_on(&w, "picky", "12:30", json!([{"sku": "V-1", "size": "38"}])).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(tianhe(&w, "V-1", "38").await, 59, "held once");
    let other = try_on(&w, "picky", "13:00", json!([{"sku": "V-1", "size": "38"}])).await;
    assert_eq!(other.status, 409, "{}", other.body);
    assert!(
        other.body.to_string().contains("visit-active"),
        "{}",
        other.body
    );
    // cancelling gives the unit and the place back, and then another may be booked
    let c = w
        .json(
            "DELETE",
            &format!("{BASE}/campaigns/{V}/visit"),
            Some(&w.buyer("picky")),
            &json!(null),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["status"], "cancelled");
    assert_eq!(tianhe(&w, "V-1", "38").await, 60);
    assert_eq!(free_places(&w, "2026-11-23", "1230").await, Some(5));
    let other = try_on(&w, "picky", "13:00", json!([{"sku": "V-1", "size": "38"}])).await;
    assert_eq!(other.status, 201, "{}", other.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_try_ons_of_the_last_pair_hold_it_once() {
    // given Tianhe's last V-2 39, and 20 buyers asking for it at once over four slots
    let w = try_on_world().await;
    let reqs = (0..20)
        .map(|i| {
            let start = ["12:30", "13:00", "13:30", "14:00"][i % 4];
            let body = json!({"store": "gz-tianhe", "date": "2026-11-23", "start": start,
                "items": [{"sku": "V-2", "size": "39"}]});
            clearance_tests::request(
                "POST",
                &format!("{BASE}/campaigns/{V}/visits"),
                Some(&w.buyer(&format!("rush-{i}"))),
                Some(body.to_string()),
            )
        })
        .collect();
    let (mut held, mut lacking) = (0, 0);
    for r in w.at_once(reqs).await {
        match r.status.as_u16() {
            201 => held += 1,
            409 if r.text.contains("sold-out") || r.text.contains("not-in-store") => lacking += 1,
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    // then one visit holds it, and the store's count never went below nothing
    assert_eq!((held, lacking), (1, 19));
    assert_eq!(tianhe(&w, "V-2", "39").await, 0);
}

#[tokio::test]
async fn a_booked_parcel_collected_shows_as_honoured_on_the_clerks_list() {
    // given a parcel booked into Tianhe's 12:30 slot
    let w = slot_world().await;
    let order = waiting(&w, "buyer-on-time").await;
    w.drain().await;
    let r = book(&w, "buyer-on-time", &order, "2026-11-23", "12:30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // when the clerk hands it over with the buyer's code
    let o = w.read_order("buyer-on-time", &order).await;
    let picked = w
        .json(
            "POST",
            &format!("{BASE}/orders/{order}/pickup"),
            Some(&w.clerk("clerk-1")),
            &json!({"code": o["parcels"][0]["pickup_code"], "parcel": 1}),
        )
        .await;
    assert_eq!(picked.status, 200, "{}", picked.body);
    // then the order and the clerks' list both say the booking was honoured
    let o = w.read_order("buyer-on-time", &order).await;
    assert_eq!(o["parcels"][0]["appointment"]["status"], "honoured", "{o}");
    let day = tianhe_day(&w, "2026-11-23").await;
    assert_eq!(
        day.body["bookings"][0]["appointment"]["status"], "honoured",
        "{}",
        day.body
    );
    // and its place stays taken (it was used)
    assert_eq!(free_places(&w, "2026-11-23", "1230").await, Some(4));
}
