//! Parcels that travel: a shipping order packed, handed to a courier, moved along by the
//! sandbox carrier's signed pushes and delivered; replays, late and tampered pushes;
//! the return window from the door; parcels lost or returned unclaimed refunded once;
//! parcels needing a person; same-city riders; the aggregator's HTTP adapter.

use chrono::Duration;
use clearance::clock::Clock;
use clearance::couriers::{Script, TrackingPush};
use clearance::domain::shipping::{TrackEvent, TrackStatus};
use clearance_tests::{request, World, BASE};
use serde_json::{json, Value};

const C: &str = "summer-clearance";

/// Given a buyer's paid shipping order of one SD-1001 38, dispatched: its id and the
/// store of its parcel. `pin` drops the address 1 km from Tianhe.
async fn shipped(w: &World, buyer: &str, key: &str, pin: bool) -> (String, String) {
    let mut delivery = json!({"mode": "shipping", "phone": "13800001234",
        "address": {"province": "Guangdong", "city": "Guangzhou", "district": "Tianhe", "line": "8 Secret St"}});
    if pin {
        delivery["location"] = json!({"lat": 23.138, "lng": 113.327});
    }
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}],
        "coupon": "none", "delivery": delivery});
    let r = w.place(buyer, key, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(w.pay(&id).await.status, 200);
    w.drain().await;
    let o = w.read_order(buyer, &id).await;
    assert_eq!(o["status"], "shipped", "{o}");
    let store = o["parcels"][0]["store"].as_str().unwrap().to_owned();
    (id, store)
}

fn clerk(w: &World, store: &str) -> String {
    w.clerk(&format!("clerk-{store}"))
}

async fn pack(w: &World, id: &str, store: &str) -> Value {
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{id}/parcels/1/pack"),
            Some(&clerk(w, store)),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn hand_over(w: &World, id: &str, store: &str, body: Value) -> clearance_tests::Resp {
    w.json(
        "POST",
        &format!("{BASE}/orders/{id}/parcels/1/handover"),
        Some(&clerk(w, store)),
        &body,
    )
    .await
}

async fn notify(w: &World, body: Vec<u8>, sig: &str) -> clearance_tests::Resp {
    let mut req = request("POST", "/v1/couriers/notify", None, None);
    *req.body_mut() = axum::body::Body::from(body);
    req.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    req.headers_mut()
        .insert("x-clearance-signature", sig.parse().unwrap());
    w.send(req).await
}

/// Time passes: the sandbox carrier pushes what is due, timers run, queues drain.
async fn pass(w: &World, d: Duration) {
    w.clock.advance(d);
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
}

async fn parcel_status(w: &World, buyer: &str, id: &str) -> String {
    w.read_order(buyer, id).await["parcels"][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The aggregator's push of parcel 1 of `order` under `carrier`'s `waybill`.
fn push(order: &str, carrier: &str, waybill: &str, events: Vec<TrackEvent>) -> TrackingPush {
    TrackingPush {
        tenant: "demo/south-china".into(),
        order: clearance::domain::ids::OrderId::parse(order).unwrap(),
        parcel: 1,
        carrier: clearance::domain::ids::CarrierId::parse(carrier).unwrap(),
        waybill: clearance::domain::ids::Waybill::parse(waybill).unwrap(),
        events,
    }
}

#[tokio::test]
async fn a_shipping_order_is_packed_handed_over_tracked_and_delivered_on_the_sandbox() {
    // given a paid shipping order, dispatched to its store: to pack
    let w = World::seeded().await;
    let (id, store) = shipped(&w, "b1", "k1", false).await;
    assert_eq!(parcel_status(&w, "b1", &id).await, "to_pack");
    // when a clerk of the store packs it, the slip lists the unit and not the street
    let packed = pack(&w, &id, &store).await;
    assert_eq!(packed["order"]["parcels"][0]["status"], "packed");
    let url = packed["slip_url"].as_str().unwrap();
    let slip = w
        .get(url.trim_start_matches("http://localhost"), None)
        .await;
    let text = slip.text.clone();
    assert!(
        text.contains("SD-1001") && text.contains("Guangzhou"),
        "{text}"
    );
    assert!(
        !text.contains("Secret") && !text.contains("13800001234"),
        "{text}"
    );
    // and hands it to SF with an electronic waybill
    let r = hand_over(&w, &id, &store, json!({"carrier": "sf"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let waybill = r.body["parcels"][0]["shipment"]["waybill"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(waybill.starts_with("SB"), "{waybill}");
    assert_eq!(r.body["parcels"][0]["status"], "handed_over");
    w.drain().await;
    assert_eq!(w.couriers.subscribed(), 1, "the waybill is followed");
    // then the carrier moves it along its schedule
    pass(&w, Duration::hours(3)).await;
    assert_eq!(parcel_status(&w, "b1", &id).await, "in_transit");
    pass(&w, Duration::hours(28)).await;
    let o = w.read_order("b1", &id).await;
    assert_eq!(o["parcels"][0]["status"], "delivered", "{o}");
    assert_eq!(o["status"], "delivered");
    // the order shows the latest event; the track lists them all, newest first
    assert_eq!(
        o["parcels"][0]["shipment"]["track"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let track = w
        .get(
            &format!("{BASE}/orders/{id}/parcels/1/track"),
            Some(&w.buyer("b1")),
        )
        .await;
    assert_eq!(track.status, 200, "{}", track.body);
    let statuses: Vec<&str> = track.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["delivered", "out_for_delivery", "in_transit", "in_transit"]
    );
    assert_eq!(track.body["waybill"], waybill.as_str());
    // someone else's order's track does not exist for them
    let other = w
        .get(
            &format!("{BASE}/orders/{id}/parcels/1/track"),
            Some(&w.buyer("b2")),
        )
        .await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn pushes_replayed_or_out_of_order_change_nothing_and_a_tampered_push_is_401() {
    // given a parcel handed over under a scanned waybill
    let w = World::seeded().await;
    let (id, store) = shipped(&w, "b1", "k1", false).await;
    pack(&w, &id, &store).await;
    let r = hand_over(
        &w,
        &id,
        &store,
        json!({"carrier": "zto", "waybill": "ZT123456789"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t0 = w.clock.now();
    let ev = |h: i64, s: TrackStatus| TrackEvent {
        at: t0 + Duration::hours(h),
        status: s,
        place: Some("hub".into()),
        note: None,
    };
    let push = |events: Vec<TrackEvent>| push(&id, "zto", "ZT123456789", events);
    let full = push(vec![
        ev(1, TrackStatus::InTransit),
        ev(20, TrackStatus::OutForDelivery),
        ev(24, TrackStatus::Delivered),
    ]);
    let older = push(vec![ev(1, TrackStatus::InTransit)]);
    // when the full track arrives, then again, then an older one late
    let (body, sig) = w.couriers.signed(&full);
    let first = notify(&w, body.clone(), &sig).await;
    assert_eq!(
        (
            first.status.as_u16(),
            first.body["changed"].clone(),
            first.body["status"].clone()
        ),
        (200, json!(true), json!("delivered"))
    );
    let after = w.read_order("b1", &id).await;
    let again = notify(&w, body, &sig).await;
    assert_eq!(again.body["changed"], false);
    let (body, sig) = w.couriers.signed(&older);
    let late = notify(&w, body, &sig).await;
    assert_eq!(
        (late.body["changed"].clone(), late.body["status"].clone()),
        (json!(false), json!("delivered"))
    );
    // then nothing moved back
    assert_eq!(w.read_order("b1", &id).await, after);
    // and a push with a byte changed is refused and changes nothing
    let (mut body, sig) = w.couriers.signed(&push(vec![ev(30, TrackStatus::Failed)]));
    let n = body.len() - 3;
    body[n] ^= 1;
    let tampered = notify(&w, body, &sig).await;
    assert_eq!(tampered.problem(401, "invalid-signature"), None);
    assert_eq!(w.read_order("b1", &id).await, after);
}

#[tokio::test]
async fn the_return_window_counts_from_delivery_not_dispatch() {
    let w = World::seeded().await;
    let (id, store) = shipped(&w, "b1", "k1", false).await;
    pack(&w, &id, &store).await;
    hand_over(&w, &id, &store, json!({"carrier": "sf"})).await;
    w.drain().await;
    let ret = json!({"lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}], "reason": "wrong_size",
        "condition": {"unworn": true, "tags_on": true, "original_box": true}});
    // with the carrier: a return is not asked yet
    let r = w
        .post_keyed(
            &format!("{BASE}/orders/{id}/refunds"),
            &w.buyer("b1"),
            "r1",
            &ret,
        )
        .await;
    assert_eq!(r.problem(409, "parcel-not-delivered"), None, "{}", r.body);
    // the parcel is a week on the road (the carrier is slow), then delivered
    w.couriers.script_next(Script::Deliver);
    pass(&w, Duration::hours(31)).await;
    assert_eq!(parcel_status(&w, "b1", &id).await, "delivered");
    // 6 days after delivery (8 after dispatch) a return is still within the 7-day window
    pass(&w, Duration::days(6)).await;
    let r = w
        .post_keyed(
            &format!("{BASE}/orders/{id}/refunds"),
            &w.buyer("b1"),
            "r2",
            &ret,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["decision"], "approved", "{}", r.body);
}

#[tokio::test]
async fn a_parcel_lost_by_the_carrier_is_refunded_in_full_once() {
    // given a parcel refused at the door whose carrier never brings it back
    let w = World::seeded().await;
    let (id, store) = shipped(&w, "b1", "k1", false).await;
    pack(&w, &id, &store).await;
    let r = hand_over(
        &w,
        &id,
        &store,
        json!({"carrier": "yto", "waybill": "YT0001"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t0 = w.clock.now();
    let failed = push(
        &id,
        "yto",
        "YT0001",
        vec![TrackEvent {
            at: t0 + Duration::hours(2),
            status: TrackStatus::Failed,
            place: None,
            note: Some("无人签收".into()),
        }],
    );
    let (body, sig) = w.couriers.signed(&failed);
    assert_eq!(
        notify(&w, body, &sig).await.body["status"],
        "delivery_failed"
    );
    let units_before = clearance_tests::store_units(&w, C, "SD-1001", &store, "38").await;
    // when seven days pass with no news, the timer declares it lost
    pass(&w, Duration::days(7) + Duration::hours(3)).await;
    pass(&w, Duration::minutes(10)).await;
    let o = w.read_order("b1", &id).await;
    assert_eq!(
        (o["parcels"][0]["status"].clone(), o["status"].clone()),
        (json!("lost"), json!("cancelled")),
        "{o}"
    );
    // then the buyer is refunded in full, once, and no unit came back to the store
    let paid = o["total_fen"].as_i64().unwrap();
    let refunds = w.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds.values().next().unwrap().amount.get(), paid);
    assert_eq!(
        clearance_tests::store_units(&w, C, "SD-1001", &store, "38").await,
        units_before
    );
    // and declaring it lost again refunds nothing more
    let again = w
        .json(
            "POST",
            &format!("{BASE}/orders/{id}/parcels/1/lost"),
            Some(&w.ops()),
            &json!({"note": "again"}),
        )
        .await;
    assert_eq!(again.problem(409, "parcel-not-with-carrier"), None);
    pass(&w, Duration::hours(1)).await;
    assert_eq!(w.sandbox.refunds().len(), 1);
}

#[tokio::test]
async fn a_parcel_returned_unclaimed_puts_its_units_back_and_refunds_the_buyer() {
    // given the carrier refuses delivery and brings the parcel back
    let w = World::seeded().await;
    w.couriers.script_next(Script::Refuse);
    let (id, store) = shipped(&w, "b1", "k1", false).await;
    pack(&w, &id, &store).await;
    hand_over(&w, &id, &store, json!({"carrier": "sf"})).await;
    w.drain().await;
    let units = clearance_tests::store_units(&w, C, "SD-1001", &store, "38").await;
    pass(&w, Duration::hours(61)).await;
    assert_eq!(parcel_status(&w, "b1", &id).await, "delivery_failed");
    // the store's staff see it listed: the carrier says it is back
    let list = w
        .get(
            &format!("{BASE}/parcels/attention"),
            Some(&clerk(&w, &store)),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let why = list.body["orders"][0]["parcels"][0]["shipment"]["attention"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(why.contains("returned it to the store"), "{}", list.body);
    // when a clerk of the store takes it back
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{id}/parcels/1/returned"),
            Some(&clerk(&w, &store)),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    w.drain().await;
    // then its unit is back in the store's count and the buyer refunded in full
    assert_eq!(
        clearance_tests::store_units(&w, C, "SD-1001", &store, "38").await,
        units + 1
    );
    let o = w.read_order("b1", &id).await;
    assert_eq!(
        (o["parcels"][0]["status"].clone(), o["status"].clone()),
        (json!("returned_to_store"), json!("cancelled"))
    );
    let refunds = w.sandbox.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        refunds.values().next().unwrap().amount.get(),
        o["total_fen"].as_i64().unwrap()
    );
    // and it is off the list
    let list = w
        .get(&format!("{BASE}/parcels/attention"), Some(&w.ops()))
        .await;
    assert_eq!(list.body["orders"], json!([]), "{}", list.body);
}

#[tokio::test]
async fn a_parcel_not_handed_over_in_48_hours_or_silent_for_72_is_listed_for_its_stores_staff() {
    let w = World::seeded().await;
    let (late, store) = shipped(&w, "b1", "k1", false).await;
    w.couriers.script_next(Script::Vanish);
    let (silent, store2) = shipped(&w, "b2", "k2", false).await;
    pack(&w, &silent, &store2).await;
    hand_over(&w, &silent, &store2, json!({"carrier": "jd"})).await;
    w.drain().await;
    // 47 hours: nothing listed
    pass(&w, Duration::hours(47)).await;
    let list = w
        .get(&format!("{BASE}/parcels/attention"), Some(&w.ops()))
        .await;
    assert_eq!(list.body["orders"], json!([]), "{}", list.body);
    // 49 hours: the parcel never handed over is
    pass(&w, Duration::hours(2)).await;
    let list = w
        .get(&format!("{BASE}/parcels/attention"), Some(&w.ops()))
        .await;
    let ids: Vec<&str> = list.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late.as_str()], "{}", list.body);
    assert!(
        list.body["orders"][0]["parcels"][0]["shipment"]["attention"]
            .as_str()
            .unwrap()
            .contains("48 hours")
    );
    // 3 days after its last event (collected at 2 h), the silent one too
    pass(&w, Duration::hours(26)).await;
    let list = w
        .get(&format!("{BASE}/parcels/attention"), Some(&w.ops()))
        .await;
    assert_eq!(
        list.body["orders"].as_array().unwrap().len(),
        2,
        "{}",
        list.body
    );
    // a clerk of another store sees neither of its store's parcels
    let other = ["gz-tianhe", "sz-futian", "fs-chancheng"]
        .into_iter()
        .find(|s| *s != store && *s != store2)
        .unwrap();
    let theirs = w
        .get(
            &format!("{BASE}/parcels/attention"),
            Some(&clerk(&w, other)),
        )
        .await;
    assert_eq!(theirs.body["orders"], json!([]), "{}", theirs.body);
    // packing it and handing it over takes it off the list
    pack(&w, &late, &store).await;
    assert_eq!(
        hand_over(&w, &late, &store, json!({"carrier": "sf"}))
            .await
            .status,
        200
    );
    let list = w
        .get(&format!("{BASE}/parcels/attention"), Some(&w.ops()))
        .await;
    assert_eq!(
        list.body["orders"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
}

#[tokio::test]
async fn same_city_delivery_goes_only_from_a_store_that_offers_it_within_its_radius() {
    let w = World::seeded().await;
    // a pinned address 1 km from Tianhe, dispatched from Tianhe
    let (near, store) = shipped(&w, "b1", "k1", true).await;
    let (far, store2) = shipped(&w, "b2", "k2", false).await;
    pack(&w, &near, &store).await;
    pack(&w, &far, &store2).await;
    let r = hand_over(&w, &far, &store2, json!({"carrier": "same-city"})).await;
    assert_eq!(
        r.problem(422, "validation-error").as_deref(),
        Some("carrier"),
        "{}",
        r.body
    );
    let r = hand_over(&w, &near, &store, json!({"carrier": "same-city"})).await;
    if store == "gz-tianhe" {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["parcels"][0]["shipment"]["fee_fen"], 800);
        assert_eq!(r.body["parcels"][0]["shipment"]["kind"], "same_city");
        w.drain().await;
        // the rider delivers within two hours
        pass(&w, Duration::minutes(95)).await;
        assert_eq!(parcel_status(&w, "b1", &near).await, "delivered");
    } else {
        assert_eq!(
            r.problem(422, "validation-error").as_deref(),
            Some("carrier")
        );
    }
}

#[tokio::test]
async fn a_waybill_belongs_to_one_parcel_and_only_the_parcels_clerks_handle_it() {
    let w = World::seeded().await;
    let (a, sa) = shipped(&w, "b1", "k1", false).await;
    let (b, sb) = shipped(&w, "b2", "k2", false).await;
    let other = ["gz-tianhe", "sz-futian", "fs-chancheng"]
        .into_iter()
        .find(|s| *s != sa)
        .unwrap();
    let r = w
        .json(
            "POST",
            &format!("{BASE}/orders/{a}/parcels/1/pack"),
            Some(&clerk(&w, other)),
            &json!({}),
        )
        .await;
    assert_eq!(r.problem(403, "forbidden"), None, "{}", r.body);
    // not packed: not handed over
    let r = hand_over(&w, &a, &sa, json!({"carrier": "sf", "waybill": "SF1"})).await;
    assert_eq!(r.problem(409, "parcel-not-packed"), None);
    pack(&w, &a, &sa).await;
    pack(&w, &b, &sb).await;
    assert_eq!(
        hand_over(&w, &a, &sa, json!({"carrier": "sf", "waybill": "SF1"}))
            .await
            .status,
        200
    );
    let r = hand_over(&w, &b, &sb, json!({"carrier": "sf", "waybill": "SF1"})).await;
    assert_eq!(r.problem(409, "waybill-taken"), None, "{}", r.body);
    assert_eq!(
        parcel_status(&w, "b2", &b).await,
        "packed",
        "nothing half-written"
    );
    // the same number at another carrier is another waybill
    assert_eq!(
        hand_over(&w, &b, &sb, json!({"carrier": "ems", "waybill": "SF1"}))
            .await
            .status,
        200
    );
    let r = hand_over(&w, &b, &sb, json!({"carrier": "ems"})).await;
    assert_eq!(r.problem(409, "parcel-not-waiting"), None);
}

#[tokio::test]
async fn the_http_courier_adapter_creates_follows_and_tracks_a_waybill_at_the_aggregator() {
    // the sandbox aggregator served over real HTTP, as the production adapter calls it
    let w = World::seeded().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = w.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    use clearance::couriers::{Couriers, Subscription, WaybillRequest};
    let api = clearance::couriers::http::HttpCouriers::new(
        format!("http://{addr}/dev/couriers/api"),
        clearance_local::COURIER_SECRET.as_bytes().to_vec(),
        clearance_local::COURIER_SECRET.as_bytes().to_vec(),
        "https://api.example/v1/couriers/notify",
    );
    let carrier = clearance::domain::ids::CarrierId::parse("sf").unwrap();
    let order = clearance::domain::ids::OrderId::parse("01JDEMOORDER00000000000000").unwrap();
    let waybill = api
        .create_waybill(&WaybillRequest {
            carrier: carrier.clone(),
            tenant: "demo/south-china".into(),
            order: order.clone(),
            parcel: 1,
            from_store: clearance::domain::ids::StoreId::parse("gz-tianhe").unwrap(),
            to: None,
            phone: None,
        })
        .await
        .unwrap();
    let sub = Subscription {
        carrier: carrier.clone(),
        waybill: waybill.clone(),
        tenant: "demo/south-china".into(),
        order,
        parcel: 1,
    };
    api.subscribe(&sub).await.unwrap();
    api.subscribe(&sub).await.unwrap();
    assert_eq!(
        w.couriers.subscribed(),
        1,
        "followed once however often asked"
    );
    w.clock.advance(Duration::hours(3));
    let events = api.track(&carrier, &waybill).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, TrackStatus::InTransit);
    // an unknown carrier is refused, not retried; a wrong secret is refused too
    let bad = api
        .track(
            &clearance::domain::ids::CarrierId::parse("sf").unwrap(),
            &clearance::domain::ids::Waybill::parse("NOPE").unwrap(),
        )
        .await;
    assert!(
        matches!(bad, Err(clearance::couriers::CourierError::Refused(_))),
        "{bad:?}"
    );
    let forged = clearance::couriers::http::HttpCouriers::new(
        format!("http://{addr}/dev/couriers/api"),
        b"guess".to_vec(),
        b"guess".to_vec(),
        "x",
    );
    assert!(forged.track(&carrier, &waybill).await.is_err());
    // pushes it verifies with its push secret
    let (body, sig) = w.couriers.signed(&TrackingPush {
        tenant: "demo/south-china".into(),
        order: sub.order.clone(),
        parcel: 1,
        carrier,
        waybill,
        events,
    });
    assert!(api.verify(&body, Some(&sig)).is_ok());
    assert!(forged.verify(&body, Some(&sig)).is_err());
}
