//! The one publication of order events: a payment and a refund each write their event
//! in the same write as the change (the outbox), and every subscribed queue receives
//! it once the stream (here, its local stand-in) or, failing that, the sweeper relays
//! it. Producers name no consumer.

use clearance::db::outbox::RELAY_AFTER;
use clearance::queue::messages::{MemberMessage, ORDER_EVENT_QUEUES};
use clearance::queue::{QueueConsumer, QueueName};
use clearance::table::{keys, Query, SortRange};
use clearance_tests::World;
use serde_json::json;

/// The events waiting in an order's outbox.
async fn outbox(w: &World, order: &str) -> Vec<String> {
    let t = clearance_local::seed::tenant().unwrap();
    let o = clearance::domain::ids::OrderId::parse(order).unwrap();
    let page = w
        .state
        .db
        .table()
        .query(Query::new(
            clearance::table::Index::Primary,
            keys::order_pk(&t, &o),
            SortRange::BeginsWith(keys::EVENT_PREFIX.into()),
        ))
        .await
        .unwrap();
    page.items
        .iter()
        .filter_map(|i| clearance::table::string_attr(i, "SK").map(str::to_owned))
        .collect()
}

/// What the members queue holds (no consumer reads it in these tests).
async fn member_events(w: &World) -> Vec<MemberMessage> {
    let mut out = Vec::new();
    loop {
        let got = w.queue.receive(QueueName::Members, 10).await.unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            w.queue.ack(QueueName::Members, &m.receipt).await.unwrap();
        }
    }
}

async fn paid_order(w: &World, buyer: &str) -> String {
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "SD-1002", "size": "38", "quantity": 1}]});
    let placed = w.place(buyer, &format!("k-{buyer}"), &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(w.pay(&id).await.body["status"], "paid");
    id
}

#[tokio::test]
async fn a_payment_publishes_its_event_once_to_every_subscriber_with_the_payment_itself() {
    // given a paid order no guide is credited with
    let w = World::seeded().await;
    let id = paid_order(&w, "b1").await;
    // then its event sits in its outbox, written with the payment
    assert_eq!(outbox(&w, &id).await, vec![format!("EVENT#{id}-paid")]);
    // when the stream's stand-in relays it and the members worker takes it (and the
    // payment notice comes again)
    w.drain().await;
    w.pay(&id).await;
    w.drain().await;
    // then the buyer earned the order's points once, pending, and the outbox is empty
    let member = clearance::domain::ids::UserId::parse("b1").unwrap();
    let brand = clearance::domain::ids::BrandId::parse("demo").unwrap();
    let (account, _, terms) = w.state.db.account(&member, &brand).await.unwrap();
    let total = w
        .get(
            &format!("/v1/demo/south-china/orders/{id}"),
            Some(&w.buyer("b1")),
        )
        .await
        .body["total_fen"]
        .as_i64()
        .unwrap();
    assert_eq!(
        (account.pending, account.available),
        (terms.points_for(total), 0)
    );
    assert!(outbox(&w, &id).await.is_empty());
    // and nothing is left for any subscriber
    assert!(member_events(&w).await.is_empty());
    assert_eq!(
        ORDER_EVENT_QUEUES.len(),
        2,
        "attribution and members subscribe"
    );
}

#[tokio::test]
async fn an_event_the_stream_did_not_relay_is_relayed_by_the_sweeper_after_its_grace() {
    // given a paid order whose event no stream relayed
    let w = World::seeded().await;
    let id = paid_order(&w, "b2").await;
    // when the sweeper runs within the grace: nothing yet (the stream has it)
    clearance::workers::sweep_timers(&w.state).await.unwrap();
    assert_eq!(outbox(&w, &id).await.len(), 1);
    assert!(member_events(&w).await.is_empty());
    // and after it
    w.clock.advance(RELAY_AFTER + chrono::Duration::minutes(1));
    let swept = clearance::workers::sweep_timers(&w.state).await.unwrap();
    // then every subscriber has it, and the outbox is empty
    assert_eq!(swept["events"], 1, "{swept}");
    let got = member_events(&w).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let attribution = w.queue.receive(QueueName::Attribution, 10).await.unwrap();
    assert_eq!(attribution.len(), 1);
    assert!(attribution[0].body.contains(&format!("{id}-paid")));
    assert!(outbox(&w, &id).await.is_empty());
}
