//! The ledger's promises, one test per defect found in review, each written before its
//! fix: money adds up to the fen per line, parcel and payment; stock and seats never
//! drift; the provider's word and its refusals reach everyone who counts; attribution
//! credits only what it should; the close and its report count each thing once.

use async_trait::async_trait;
use clearance::domain::ids::{OrderId, PaymentRef, RefundId};
use clearance::table::keys;
use clearance::table::{Condition, Item, Key, Page, Query, Table, TableError, Write};
use clearance_tests::build::{CampaignBuilder, ListingBuilder};
use clearance_tests::{coupon, listing, shard_units, store_units, Resp, World, BASE};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The demo campaign.
const DEMO: &str = "summer-clearance";
/// The campaign [`ledger`] opens when the demo's listings do not fit a test.
const C: &str = "ledger";

// ---------------------------------------------------------------------------------
// 1. Refund amounts per line
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_rejected_return_never_makes_the_next_return_cost_more_than_the_line() {
    // given a picked-up order of 3 units of one line, paid 28000 with a 20-off coupon
    // (not divisible by 3)
    let w = World::seeded().await;
    ledger(&w)
        .listing("LG-1", shoe(10_000, 3, &[("gz-tianhe", "38", 5)]))
        .live()
        .await;
    claim(&w, "b1", C, "c20").await;
    let order = picked_up(
        &w,
        "b1",
        &json!({"campaign": C, "lines": [line("LG-1", "38", 3)]}),
    )
    .await;
    let paid = num(&read_order(&w, "b1", &order).await, "/lines/0/paid_fen");
    assert_eq!(paid, 28_000, "3 x 10000 less the 20-off coupon");
    let one =
        json!({"lines": [line("LG-1", "38", 1)], "reason": "wrong_size", "condition": good()});
    let mut worn_one = one.clone();
    worn_one["condition"] = worn();

    // when the buyer returns one unit (approved by rule), declares another worn (sent to
    // a person), returns the third while the worn one waits (so its share is reckoned
    // after the waiting unit's), and staff then reject the worn one
    let first = ask_refund(&w, "b1", &order, "r1", &one).await;
    assert_eq!(
        (first.status.as_u16(), text(&first.body, "/decision")),
        (201, "approved".into()),
        "{}",
        first.body
    );
    let pending = ask_refund(&w, "b1", &order, "r2", &worn_one).await;
    assert_eq!(
        text(&pending.body, "/decision"),
        "pending_review",
        "{}",
        pending.body
    );
    let third = ask_refund(&w, "b1", &order, "r3", &one).await;
    assert_eq!(text(&third.body, "/decision"), "approved", "{}", third.body);
    let pending_id = text(&pending.body, "/id");
    let rejected = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{pending_id}/decision"),
            Some(&w.ops()),
            &json!({"approve": false, "note": "worn"}),
        )
        .await;
    assert_eq!(
        text(&rejected.body, "/decision"),
        "rejected",
        "{}",
        rejected.body
    );

    // then the rejected unit is the buyer's to return again, and it is accepted
    let again = ask_refund(&w, "b1", &order, "r4", &one).await;
    assert_eq!(
        again.status, 201,
        "the unit the rejection gave back: {}",
        again.body
    );
    assert_eq!(text(&again.body, "/decision"), "approved", "{}", again.body);
    // and the line's live refunds, every unit refunded, sum to exactly what it cost
    let live: Vec<i64> = [&first, &third, &again]
        .iter()
        .map(|r| num(&r.body, "/amount_fen"))
        .collect();
    assert_eq!(
        live.iter().sum::<i64>(),
        paid,
        "live refunds {live:?} of a line paid {paid}"
    );
}

// ---------------------------------------------------------------------------------
// 2. A return of units still waiting at the store
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn returning_units_still_waiting_at_the_store_cancels_their_parcel_and_restocks_it() {
    // given a paid pickup order waiting at its store with the buyer's code
    let w = World::seeded().await;
    let (order, code) = pickup_order_ready(&w, "b1", DEMO, line("SD-1002", "38", 1)).await;
    let view = read_order(&w, "b1", &order).await;
    let store = text(&view, "/parcels/0/store");
    let paid = num(&view, "/lines/0/paid_fen");
    let on_sale = shard_units(&w, DEMO, "SD-1002", "38").await;
    let in_store = store_units(&w, DEMO, "SD-1002", &store, "38").await;

    // when the buyer asks to return its units before collecting them
    let body =
        json!({"lines": [line("SD-1002", "38", 1)], "reason": "changed_mind", "condition": good()});
    let r = ask_refund(&w, "b1", &order, "r1", &body).await;

    // then its parcel is cancelled, for what the parcel cost
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(text(&r.body, "/kind"), "cancellation", "{}", r.body);
    assert_eq!(r.body["parcel"], 1, "{}", r.body);
    assert_eq!(num(&r.body, "/amount_fen"), paid, "{}", r.body);
    // the money goes back at once
    w.drain().await;
    let refund = read_refund(&w, &text(&r.body, "/id")).await;
    assert_eq!(text(&refund, "/money"), "succeeded", "{refund}");
    // the unit is back on sale and in the store's count
    assert_eq!(shard_units(&w, DEMO, "SD-1002", "38").await, on_sale + 1);
    assert_eq!(
        store_units(&w, DEMO, "SD-1002", &store, "38").await,
        in_store + 1
    );
    // and the buyer's code no longer hands it over
    let counter = w
        .json(
            "POST",
            &format!("{BASE}/orders/{order}/pickup"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"code": code}),
        )
        .await;
    assert_not_ready(&counter);

    // and a whole parcel can be cancelled by naming it
    let (second, _) = pickup_order_ready(&w, "b2", DEMO, line("SD-1004", "38", 1)).await;
    let r = ask_refund(
        &w,
        "b2",
        &second,
        "p1",
        &json!({"parcel": 1, "reason": "changed_mind"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (text(&r.body, "/kind"), r.body["parcel"].clone()),
        ("cancellation".to_owned(), json!(1)),
        "{}",
        r.body
    );
}

// ---------------------------------------------------------------------------------
// 3. Receiving counts that overflow
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_receipt_whose_unit_counts_overflow_is_refused_and_restocks_nothing() {
    // given an approved return of one unit on its way back
    let w = World::seeded().await;
    let order = picked_up(
        &w,
        "b1",
        &json!({"campaign": DEMO, "lines": [line("SD-1001", "38", 1)], "coupon": "none"}),
    )
    .await;
    let body =
        json!({"lines": [line("SD-1001", "38", 1)], "reason": "wrong_size", "condition": good()});
    let r = ask_refund(&w, "b1", &order, "r1", &body).await;
    assert_eq!(text(&r.body, "/goods"), "awaiting_return", "{}", r.body);
    let refund = text(&r.body, "/id");
    let store = text(&r.body, "/return_store");
    let before = (
        store_units(&w, DEMO, "SD-1001", &store, "38").await,
        shard_units(&w, DEMO, "SD-1001", "38").await,
    );

    // when a clerk records 4294967295 resaleable and 2 damaged units of it
    let receipt = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{refund}/receive"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"units": [{"line": 0, "resaleable": 4_294_967_295u32, "damaged": 2}]}),
        )
        .await;

    // then it is refused, naming the line's counts
    let field = receipt.problem(422, "validation-error");
    assert!(
        field.as_deref().is_some_and(|f| f.starts_with("units[0]")),
        "field {field:?}"
    );
    // and nothing moved: the return still waits, the stock is as it was
    assert_eq!(
        text(&read_refund(&w, &refund).await, "/goods"),
        "awaiting_return"
    );
    let after = (
        store_units(&w, DEMO, "SD-1001", &store, "38").await,
        shard_units(&w, DEMO, "SD-1001", "38").await,
    );
    assert_eq!(after, before, "(store count, on sale)");
}

// ---------------------------------------------------------------------------------
// 4. A line shipped from two stores
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn each_parcel_of_a_line_split_over_two_stores_is_returned_to_its_own_store() {
    // given shipped orders of 2 units of one size that no store holds 2 of: two parcels
    let w = World::seeded().await;
    let split = &[
        ("gz-tianhe", "38", 1),
        ("sz-futian", "38", 1),
        ("gz-tianhe", "39", 1),
        ("sz-futian", "39", 1),
    ];
    ledger(&w)
        .listing("LG-2", shoe(9_900, 2, split))
        .live()
        .await;
    let shipped = |size: &str| {
        let mut body = json!({"campaign": C, "lines": [line("LG-2", size, 2)], "coupon": "none"});
        body["delivery"] = shipping("13812345678");
        body
    };
    let order = paid(&w, "b1", "k1", &shipped("38")).await;
    let other = paid(&w, "b2", "k2", &shipped("39")).await;
    w.drain().await;
    let view = read_order(&w, "b1", &order).await;
    assert_eq!(text(&view, "/status"), "shipped", "{view}");
    let stores = (
        text(&view, "/parcels/0/store"),
        text(&view, "/parcels/1/store"),
    );
    assert_ne!(stores.0, stores.1, "{view}");
    let unit = |size: &str, parcel: Option<u8>| {
        let mut b =
            json!({"lines": [line("LG-2", size, 1)], "reason": "wrong_size", "condition": good()});
        if let Some(p) = parcel {
            b["parcel"] = p.into();
        }
        b
    };

    // when the buyer returns parcel 1's unit, then parcel 2's
    let first = ask_refund(&w, "b1", &order, "r1", &unit("38", Some(1))).await;
    let second = ask_refund(&w, "b1", &order, "r2", &unit("38", Some(2))).await;

    // then each is approved, back to the store that shipped it
    for (r, store) in [(&first, &stores.0), (&second, &stores.1)] {
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(text(&r.body, "/decision"), "approved", "{}", r.body);
        assert_eq!(&text(&r.body, "/return_store"), store, "{}", r.body);
    }
    // and on such a line a return that names no parcel is asked which
    let r = ask_refund(&w, "b2", &other, "r1", &unit("39", None)).await;
    assert_eq!(
        r.problem(422, "validation-error").as_deref(),
        Some("parcel")
    );
}

// ---------------------------------------------------------------------------------
// 5. The provider's refund notice
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_refund_settled_by_the_providers_notice_is_netted_off_the_guides_sale() {
    // given a sale through a guide's link, picked up, returned and received: its money
    // is queued, the provider not asked yet
    let w = World::seeded().await;
    let link = w.share_token("gz-tianhe-g1", "gz-tianhe", DEMO);
    let mut body = json!({"campaign": DEMO, "lines": [line("SD-1003", "38", 1)], "coupon": "none"});
    body["share_token"] = link.into();
    let order = picked_up(&w, "b1", &body).await;
    let ret =
        json!({"lines": [line("SD-1003", "38", 1)], "reason": "wrong_size", "condition": good()});
    let r = ask_refund(&w, "b1", &order, "r1", &ret).await;
    let refund = text(&r.body, "/id");
    let amount = num(&r.body, "/amount_fen");
    let store = text(&r.body, "/return_store");
    let received = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{refund}/receive"),
            Some(&w.clerk(&format!("clerk-{store}"))),
            &json!({"units": [{"line": 0, "resaleable": 1, "damaged": 0}]}),
        )
        .await;
    assert_eq!(
        text(&received.body, "/money"),
        "queued",
        "{}",
        received.body
    );

    // when a signed notice arrives for it before the provider was ever asked
    let early = json!({"tenant": "demo/south-china", "refund": refund, "status": "succeeded", "amount_fen": amount});
    let early = serde_json::to_vec(&early).expect("a notice serializes");
    let sig = clearance::domain::signing::sign_body(&w.sandbox.secret, &early);
    let r = send_signed(&w, "/v1/payments/refund-notify", early, &sig).await;
    // then it is refused, and the refund stays queued
    r.problem(409, "refund-not-submitted");
    assert_eq!(text(&read_refund(&w, &refund).await, "/money"), "queued");

    // when the provider takes the refund but settles it later, by its notice
    w.sandbox.hold_refunds(true);
    w.drain().await;
    assert_eq!(text(&read_refund(&w, &refund).await, "/money"), "submitted");
    let tenant = clearance_local::seed::tenant().expect("the demo tenant");
    let (notice, sig) = w
        .sandbox
        .settle(&tenant, &refund_id(&refund), true)
        .expect("the provider was asked for this refund");
    let r = send_signed(&w, "/v1/payments/refund-notify", notice, &sig).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text(&r.body, "/money"), "succeeded", "{}", r.body);
    w.drain().await;

    // then the refund is paid, and the guide's sale is counted net of it
    assert_eq!(text(&read_refund(&w, &refund).await, "/money"), "succeeded");
    let perf = performance(&w, "gz-tianhe-g1", DEMO).await;
    assert_eq!(num(&perf, "/refunded_fen"), amount, "{perf}");
}

// ---------------------------------------------------------------------------------
// 6. A refund the provider refuses
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_refund_is_retried_with_backoff_then_listed_for_a_person_who_retries_it() {
    // given a provider that refuses every refund asked of it, and a paid order cancelled
    // before dispatch (its refund due at once)
    let w = World::seeded().await;
    w.sandbox.fail_next_refunds(10);
    let order = paid(
        &w,
        "b1",
        "k1",
        &json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)], "coupon": "none"}),
    )
    .await;
    let r = ask_refund(&w, "b1", &order, "c1", &json!({"reason": "changed_mind"})).await;
    assert_eq!(text(&r.body, "/kind"), "cancellation", "{}", r.body);
    let refund = text(&r.body, "/id");
    let amount = num(&r.body, "/amount_fen");

    // when the worker asks and is refused
    w.drain().await;
    // then it failed, but is not yet a person's work: it will be asked again
    assert_eq!(text(&read_refund(&w, &refund).await, "/money"), "failed");
    assert!(
        !listed_as_failed(&w, &refund).await,
        "listed after one refusal"
    );
    // an hour on it is asked again, and refused again: still not listed
    w.clock.advance(chrono::Duration::hours(1));
    sweep(&w).await;
    assert!(
        !listed_as_failed(&w, &refund).await,
        "listed after two refusals"
    );
    // and after its third refusal it is listed for staff
    let mut hours = 1;
    while !listed_as_failed(&w, &refund).await {
        assert!(
            hours < 48,
            "never listed for a person after {hours} hours of refusals"
        );
        w.clock.advance(chrono::Duration::hours(1));
        sweep(&w).await;
        hours += 1;
    }

    // when the provider takes refunds again and ops retry it
    w.sandbox.fail_next_refunds(0);
    let retry = w
        .json(
            "POST",
            &format!("{BASE}/refunds/{refund}/retry"),
            Some(&w.ops()),
            &json!({}),
        )
        .await;
    assert!(
        [200, 202].contains(&retry.status.as_u16()),
        "retry: {} {}",
        retry.status,
        retry.body
    );
    w.drain().await;

    // then it is paid, once
    assert_eq!(text(&read_refund(&w, &refund).await, "/money"), "succeeded");
    assert!(
        !listed_as_failed(&w, &refund).await,
        "still listed once paid"
    );
    let ledger = w.sandbox.refunds();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    let paid_back = ledger
        .get(&refund_id(&refund))
        .unwrap_or_else(|| panic!("the provider never paid {refund}: {ledger:?}"));
    assert_eq!(paid_back.amount.get(), amount);
}

// ---------------------------------------------------------------------------------
// 7. Unapplied payments are listed
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_payment_the_order_could_not_take_is_listed_with_the_orders_refunds() {
    // given a paid order paid a second time by another payment, then cancelled
    let w = World::seeded().await;
    let order = paid(
        &w,
        "b1",
        "k1",
        &json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)], "coupon": "none"}),
    )
    .await;
    let second = pay_again(&w, &order, "wx-second").await;
    assert_eq!(
        text(&second.body, "/status"),
        "refund_due",
        "{}",
        second.body
    );
    let cancel = ask_refund(&w, "b1", &order, "c1", &json!({"reason": "changed_mind"})).await;
    assert_eq!(
        text(&cancel.body, "/kind"),
        "cancellation",
        "{}",
        cancel.body
    );

    // when the buyer, and ops, list the order's refunds
    let path = format!("{BASE}/orders/{order}/refunds");
    for (who, token) in [("buyer", w.buyer("b1")), ("ops", w.ops())] {
        let r = w.get(&path, Some(&token)).await;
        // then both refunds are there, the unapplied payment with its own kind
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        let mut kinds = kinds_of(&r.body["refunds"]);
        kinds.sort();
        assert_eq!(
            kinds,
            ["cancellation", "unapplied_payment"],
            "{who}: {}",
            r.body
        );
    }
    // and ops find it on its own list
    let r = w
        .get(
            &format!("{BASE}/refunds?status=unapplied_payment"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: Vec<&Value> = r.body["refunds"]
        .as_array()
        .map(|a| a.iter().filter(|x| x["order"] == order.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds_of(&json!(listed)),
        ["unapplied_payment"],
        "{}",
        r.body
    );
}

// ---------------------------------------------------------------------------------
// 8. Uncollected parcels
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_uncollected_parcel_is_reminded_then_cancelled_refunded_and_restocked() {
    // given a paid pickup order waiting at its store (the campaign's pickup window is
    // the default 7 days)
    let w = World::seeded().await;
    ledger(&w)
        .listing("LG-3", shoe(9_900, 2, &[("gz-tianhe", "38", 4)]))
        .live()
        .await;
    let stocked = store_units(&w, C, "LG-3", "gz-tianhe", "38").await;
    let (order, code) = pickup_order_ready(&w, "b1", C, line("LG-3", "38", 1)).await;
    let total = num(&read_order(&w, "b1", &order).await, "/total_fen");
    assert_eq!(
        store_units(&w, C, "LG-3", "gz-tianhe", "38").await,
        stocked - 1
    );

    // when half the window has passed
    w.clock.advance(chrono::Duration::hours(84));
    sweep(&w).await;
    // then the buyer has been reminded
    let view = read_order(&w, "b1", &order).await;
    assert!(
        view["parcels"][0]["reminded_at"].is_string(),
        "not reminded: {view}"
    );

    // when the whole window has passed
    w.clock
        .advance(chrono::Duration::hours(84) + chrono::Duration::minutes(1));
    sweep(&w).await;
    // then the parcel is cancelled and refunded in full
    let view = read_order(&w, "b1", &order).await;
    assert_eq!(text(&view, "/parcels/0/status"), "cancelled", "{view}");
    let refunds = w
        .get(
            &format!("{BASE}/orders/{order}/refunds"),
            Some(&w.buyer("b1")),
        )
        .await;
    assert_eq!(refunds.status, 200, "{}", refunds.body);
    let cancellation = refunds.body["refunds"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["kind"] == "cancellation"))
        .unwrap_or_else(|| panic!("no cancellation: {}", refunds.body))
        .clone();
    assert_eq!(
        (
            num(&cancellation, "/amount_fen"),
            text(&cancellation, "/money")
        ),
        (total, "succeeded".to_owned()),
        "{cancellation}"
    );
    // the store counts the unit again
    assert_eq!(store_units(&w, C, "LG-3", "gz-tianhe", "38").await, stocked);
    // and the code hands nothing over
    let counter = w
        .json(
            "POST",
            &format!("{BASE}/orders/{order}/pickup"),
            Some(&w.clerk("clerk-gz-tianhe")),
            &json!({"code": code}),
        )
        .await;
    assert_not_ready(&counter);
}

// ---------------------------------------------------------------------------------
// 9. A payment racing a join
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_payment_racing_a_join_never_overfills_the_group() {
    // given a group of 3 seats: A opened it and B joined, neither paid
    let race = Arc::new(JoinBetween::new(clearance_tests::memory_table()));
    let w = World::new(race.clone()).await;
    clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
        .await
        .unwrap_or_else(|e| panic!("seeding: {e}"));
    let (group, a_order) = open_group(&w, "a", DEMO, "SD-1001").await;
    assert_eq!(
        join_group(&w, "b", &group, DEMO, "SD-1001").await.status,
        201
    );

    // when C takes the last seat after A's payment read the group and before it writes
    let c_joined = Arc::new(AtomicU16::new(0));
    let (app, req, seen) = (
        w.app.clone(),
        join_request(&w, "c", &group, DEMO, "SD-1001"),
        c_joined.clone(),
    );
    race.before_next_group_write(Box::pin(async move {
        let res = app.oneshot(req).await.unwrap_or_else(|e| match e {});
        seen.store(res.status().as_u16(), Ordering::SeqCst);
    }));
    let paid = w.pay(&a_order).await;
    assert_eq!(text(&paid.body, "/status"), "paid", "{}", paid.body);
    assert_eq!(
        c_joined.load(Ordering::SeqCst),
        201,
        "C's join ran inside the race"
    );

    // then the group is full: D is refused, and it has its 3 members
    join_group(&w, "d", &group, DEMO, "SD-1001")
        .await
        .problem(409, "group-full");
    let view = w
        .get(&format!("{BASE}/group-buys/{group}"), None)
        .await
        .body;
    assert_eq!(view["seats_left"], 0, "{view}");
    assert_eq!(view["members"].as_array().map(Vec::len), Some(3), "{view}");
}

// ---------------------------------------------------------------------------------
// 10. A failed group gives its allowance back
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_paid_member_of_a_failed_group_may_open_another() {
    // given a buyer who opened a group of SD-1001 (one group per buyer) and paid
    let w = World::seeded().await;
    let (group, order) = open_group(&w, "b1", DEMO, "SD-1001").await;
    let paid = w.pay(&order).await;
    assert_eq!(text(&paid.body, "/status"), "paid", "{}", paid.body);
    let total = num(&read_order(&w, "b1", &order).await, "/total_fen");

    // when the group expires without forming
    w.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    sweep(&w).await;

    // then the buyer is refunded in full
    let view = w
        .get(&format!("{BASE}/group-buys/{group}"), None)
        .await
        .body;
    assert_eq!(view["status"], "failed", "{view}");
    let payment = PaymentRef::parse(&format!("sandbox-{order}")).expect("a payment ref");
    assert_eq!(w.sandbox.refunded(&payment).get(), total);
    // and may open a new group of the same listing
    let again = w
        .post_keyed(
            &format!("{BASE}/campaigns/{DEMO}/group-buys"),
            &w.buyer("b1"),
            "second-group",
            &seat(DEMO, "SD-1001"),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
}

// ---------------------------------------------------------------------------------
// 11. The close's grace for open groups
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_close_with_a_grace_lets_open_groups_fill_and_sells_nothing_else() {
    // given a group of 3 with the opener paid and B holding an unpaid seat
    let w = World::seeded().await;
    let (group, a_order) = open_group(&w, "a", DEMO, "SD-1001").await;
    let paid = w.pay(&a_order).await;
    assert_eq!(text(&paid.body, "/status"), "paid", "{}", paid.body);
    let b = join_group(&w, "b", &group, DEMO, "SD-1001").await;
    assert_eq!(b.status, 201, "{}", b.body);
    let b_order = text(&b.body, "/order/id");

    // when ops close the campaign giving open groups an hour
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{DEMO}/close"),
            Some(&w.ops()),
            &json!({"grace_minutes": 60}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    w.drain().await;

    // then B's seat is still B's to pay
    assert_eq!(
        text(&read_order(&w, "b", &b_order).await, "/status"),
        "awaiting_payment"
    );
    let paid = w.pay(&b_order).await;
    assert_eq!(text(&paid.body, "/status"), "paid", "{}", paid.body);
    // and C may take the last seat, whose payment forms the group
    let c = join_group(&w, "c", &group, DEMO, "SD-1001").await;
    assert_eq!(c.status, 201, "{}", c.body);
    let paid = w.pay(&text(&c.body, "/order/id")).await;
    assert_eq!(text(&paid.body, "/status"), "paid", "{}", paid.body);
    w.drain().await;
    let view = w
        .get(&format!("{BASE}/group-buys/{group}"), None)
        .await
        .body;
    assert_eq!(view["status"], "formed", "{view}");
    // but nothing else is sold: no new group, no plain order
    w.post_keyed(
        &format!("{BASE}/campaigns/{DEMO}/group-buys"),
        &w.buyer("d"),
        "new-group",
        &seat(DEMO, "SD-1002"),
    )
    .await
    .problem(409, "campaign-closed");
    w.place(
        "e",
        "plain",
        &json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)]}),
    )
    .await
    .problem(409, "campaign-closed");
}

#[tokio::test]
async fn a_close_with_no_open_group_publishes_its_first_report_without_waiting_out_the_grace() {
    // given the demo campaign with no group buy open
    let w = World::seeded().await;
    // when ops close it with the default grace, and the close's steps run
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{DEMO}/close"),
            Some(&w.ops()),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    w.drain().await;
    // then the first report is out, without the clock moving
    let r = w
        .get(&format!("{BASE}/campaigns/{DEMO}/report"), Some(&w.ops()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["links"]["json"].is_string(), "no report: {}", r.body);
    let stage = text(&r.body, "/status");
    assert!(
        ["settling", "closed"].contains(&stage.as_str()),
        "{}",
        r.body
    );
}

// ---------------------------------------------------------------------------------
// 12-16. Attribution
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_guide_buying_through_their_own_link_earns_nothing() {
    // given the guide gz-tianhe-g1, whose login is guide-gz-tianhe-g1
    let w = World::seeded().await;
    let own = w.share_token("gz-tianhe-g1", "gz-tianhe", DEMO);
    // when they buy through their own link, and pay
    let mut body = json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)], "coupon": "none"});
    body["share_token"] = own.into();
    let order = paid(&w, "guide-gz-tianhe-g1", "k1", &body).await;
    w.drain().await;
    // then the sale is credited to nobody, and says why
    let view = read_order(&w, "guide-gz-tianhe-g1", &order).await;
    assert_eq!(view["attribution"]["guide"], Value::Null, "{view}");
    assert_eq!(view["attribution"]["reason"], "self_referral", "{view}");
    // and the guide's figures did not move
    let perf = performance(&w, "gz-tianhe-g1", DEMO).await;
    assert_eq!(
        (num(&perf, "/orders"), num(&perf, "/new_buyers")),
        (0, 0),
        "{perf}"
    );
}

#[tokio::test]
async fn under_the_binding_rule_only_a_paid_order_binds_the_buyer() {
    // given the demo campaign under the binding rule
    let w = World::seeded().await;
    clearance_tests::binding_rule(&w, 15).await;
    // and a buyer's order through G1's link that is never paid and times out
    let mut first =
        json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)], "coupon": "none"});
    first["share_token"] = w.share_token("gz-tianhe-g1", "gz-tianhe", DEMO).into();
    let unpaid = placed(&w, "b1", "k1", &first).await;
    w.clock.advance(chrono::Duration::minutes(16));
    sweep(&w).await;
    assert_eq!(
        text(&read_order(&w, "b1", &unpaid).await, "/status"),
        "cancelled"
    );

    // when the buyer orders through G2's link and pays
    let mut second =
        json!({"campaign": DEMO, "lines": [line("SD-1004", "38", 1)], "coupon": "none"});
    second["share_token"] = w.share_token("sz-futian-g2", "sz-futian", DEMO).into();
    let order = paid(&w, "b1", "k2", &second).await;
    w.drain().await;

    // then it is G2's, by the link
    let view = read_order(&w, "b1", &order).await;
    assert_eq!(
        credited(&view),
        (Some("sz-futian-g2".into()), "link".into()),
        "{view}"
    );
    // and G2, whose sale was paid, keeps the buyer: an order with no link is G2's
    let third = placed(
        &w,
        "b1",
        "k3",
        &json!({"campaign": DEMO, "lines": [line("SD-1003", "38", 1)], "coupon": "none"}),
    )
    .await;
    let view = read_order(&w, "b1", &third).await;
    assert_eq!(
        credited(&view),
        (Some("sz-futian-g2".into()), "bound".into()),
        "{view}"
    );
}

#[tokio::test]
async fn a_guide_of_a_store_outside_the_campaign_credits_nobody() {
    // given a campaign of gz-tianhe and sz-futian only
    let w = World::seeded().await;
    ledger(&w)
        .stores(&["gz-tianhe", "sz-futian"])
        .listing("LG-4", shoe(9_900, 2, &[("gz-tianhe", "38", 4)]))
        .live()
        .await;
    // when a link is asked for a guide of fs-chancheng
    let r = w
        .json(
            "POST",
            &format!("{BASE}/guides/fs-chancheng-g1/share-links"),
            Some(&w.ops()),
            &json!({"campaign": C}),
        )
        .await;
    // then none is signed
    r.problem(409, "guide-not-in-campaign");
    // and an order carrying such a guide's token credits nobody, saying why
    let mut body = json!({"campaign": C, "lines": [line("LG-4", "38", 1)], "coupon": "none"});
    body["share_token"] = w.share_token("fs-chancheng-g1", "fs-chancheng", C).into();
    let order = placed(&w, "b1", "k1", &body).await;
    let view = read_order(&w, "b1", &order).await;
    assert_eq!(
        credited(&view),
        (None, "guide_not_in_campaign".into()),
        "{view}"
    );
}

#[tokio::test]
async fn a_new_buyer_counts_once_per_tenant() {
    // given a buyer's first paid order through G1's link (gz-tianhe) and a second through
    // G2's (sz-futian)
    let w = World::seeded().await;
    for (key, sku, guide, store) in [
        ("k1", "SD-1002", "gz-tianhe-g1", "gz-tianhe"),
        ("k2", "SD-1004", "sz-futian-g1", "sz-futian"),
    ] {
        let mut body = json!({"campaign": DEMO, "lines": [line(sku, "38", 1)], "coupon": "none"});
        body["share_token"] = w.share_token(guide, store, DEMO).into();
        paid(&w, "b1", key, &body).await;
    }
    w.drain().await;
    // then only the first guide and store brought a new buyer
    let g1 = performance(&w, "gz-tianhe-g1", DEMO).await;
    let g2 = performance(&w, "sz-futian-g1", DEMO).await;
    assert_eq!((num(&g1, "/orders"), num(&g2, "/orders")), (1, 1));
    assert_eq!(
        (num(&g1, "/new_buyers"), num(&g2, "/new_buyers")),
        (1, 0),
        "{g1} {g2}"
    );
    let board = leaderboard(&w, DEMO).await;
    let stores = (
        num(standing(&board, "stores", "gz-tianhe"), "/new_buyers"),
        num(standing(&board, "stores", "sz-futian"), "/new_buyers"),
    );
    assert_eq!(stores, (1, 0), "{board}");
    // and the close's report counts one new buyer
    w.close_now(DEMO).await;
    w.drain().await;
    let report = published_report(&w, DEMO).await;
    assert_eq!(
        num(&report, "/totals/new_buyers"),
        1,
        "{}",
        report["totals"]
    );
}

#[tokio::test]
async fn a_stores_sell_through_counts_what_it_shipped_whoever_is_credited() {
    // given a listing whose size 38 only sz-futian holds (5 units); gz-tianhe holds 4 of
    // size 39
    let w = World::seeded().await;
    ledger(&w)
        .listing(
            "LG-5",
            shoe(9_900, 2, &[("gz-tianhe", "39", 4), ("sz-futian", "38", 5)]),
        )
        .live()
        .await;
    // when a buyer of gz-tianhe's guide buys a 38: credited to gz-tianhe, sent by sz-futian
    let mut body = json!({"campaign": C, "lines": [line("LG-5", "38", 1)], "coupon": "none"});
    body["share_token"] = w.share_token("gz-tianhe-g1", "gz-tianhe", C).into();
    let order = paid(&w, "b1", "k1", &body).await;
    w.drain().await;
    let view = read_order(&w, "b1", &order).await;
    assert_eq!(text(&view, "/parcels/0/store"), "sz-futian", "{view}");
    assert_eq!(text(&view, "/attribution/store"), "gz-tianhe", "{view}");

    // then sz-futian sold 1 of its 5, and gz-tianhe none of its 4
    let board = leaderboard(&w, C).await;
    let sent = standing(&board, "stores", "sz-futian")["sell_through"]
        .as_f64()
        .unwrap_or_else(|| panic!("sz-futian has no sell-through: {board}"));
    assert!((sent - 0.2).abs() < 1e-9, "sz-futian {sent}: {board}");
    let credited_store = board["stores"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == "gz-tianhe"))
        .and_then(|s| s["sell_through"].as_f64())
        .unwrap_or(0.0);
    assert_eq!(credited_store, 0.0, "gz-tianhe shipped nothing: {board}");
}

// ---------------------------------------------------------------------------------
// 17. The close report
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_report_counts_a_coupon_once_and_no_unapplied_payment_as_a_rule_approval() {
    // given a buyer's 20-off coupon used on an order they cancelled before dispatch
    let w = World::seeded().await;
    claim(&w, "b1", DEMO, "no-threshold-20").await;
    let body = |sku: &str| json!({"campaign": DEMO, "lines": [line(sku, "38", 1)]});
    let first = paid(&w, "b1", "k1", &body("SD-1002")).await;
    let view = read_order(&w, "b1", &first).await;
    assert_eq!(view["coupons"], json!(["no-threshold-20.1"]), "{view}");
    let cancel = ask_refund(&w, "b1", &first, "c1", &json!({"reason": "changed_mind"})).await;
    assert_eq!(
        text(&cancel.body, "/kind"),
        "cancellation",
        "{}",
        cancel.body
    );
    let coupons = w.get("/v1/me/coupons", Some(&w.buyer("b1"))).await;
    assert_eq!(
        text(&coupons.body, "/coupons/0/status"),
        "available",
        "{}",
        coupons.body
    );
    // and then on a second paid order, which was also paid twice
    let second = placed(&w, "b1", "k2", &body("SD-1004")).await;
    let view = read_order(&w, "b1", &second).await;
    assert_eq!(view["coupons"], json!(["no-threshold-20.1"]), "{view}");
    assert_eq!(text(&w.pay(&second).await.body, "/status"), "paid");
    let twice = pay_again(&w, &second, "wx-second").await;
    assert_eq!(text(&twice.body, "/status"), "refund_due", "{}", twice.body);
    w.drain().await;

    // when the campaign is closed and its report published
    w.close_now(DEMO).await;
    w.drain().await;
    let report = published_report(&w, DEMO).await;

    // then the coupon was redeemed once, at its face
    let line = report["coupons"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["template"] == "no-threshold-20"))
        .unwrap_or_else(|| panic!("no line for the coupon: {}", report["coupons"]))
        .clone();
    assert_eq!(
        (num(&line, "/redemptions"), num(&line, "/cost_fen")),
        (1, 2_000),
        "{line}"
    );
    // and the one refund the rules approved is the cancellation, not the second payment
    assert_eq!(
        num(&report, "/refunds/approved_by_rule"),
        1,
        "{}",
        report["refunds"]
    );
}

// ---------------------------------------------------------------------------------
// 18. Phone masking
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_masked_phone_shows_at_most_its_last_four_digits() {
    // a short number and a mobile number, masked
    for (number, last4) in [("5551234", "1234"), ("13812345678", "5678")] {
        let phone = clearance::domain::catalog::Phone::try_from(number.to_string())
            .unwrap_or_else(|e| panic!("{number}: {e}"));
        let shown = String::from(phone.masked());
        assert!(shows_at_most(&shown, last4), "{number} masked as {shown}");
    }
    // and through HTTP: ops, who ship nothing of it, see a buyer's delivery phone masked
    let w = World::seeded().await;
    let mut body = json!({"campaign": DEMO, "lines": [line("SD-1002", "38", 1)], "coupon": "none"});
    body["delivery"] = shipping("13812345678");
    let order = placed(&w, "b1", "k1", &body).await;
    let seen = w
        .get(&format!("{BASE}/orders/{order}"), Some(&w.ops()))
        .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let shown = text(&seen.body, "/delivery/phone");
    assert!(shows_at_most(&shown, "5678"), "ops saw {shown}");
}

// ---------------------------------------------------------------------------------
// Helpers: worlds and orders
// ---------------------------------------------------------------------------------

/// [`C`], a campaign over the demo stores without flash slots (the clearance price
/// all day), with a 20-off coupon `c20` and returns sent to a person only after 10 of
/// a buyer's returns.
fn ledger(w: &World) -> CampaignBuilder<'_> {
    w.campaign(C)
        .named("Ledger")
        .returns(json!({"window_days": 7, "review_after_returns": 10, "send_back_days": 7, "escalate_after_hours": 4}))
        .coupon("c20", coupon(2_000))
}

/// A shoe at `price_fen`, `per_buyer` units per buyer, with `stock` as (store, size,
/// units).
fn shoe(price_fen: i64, per_buyer: u32, stock: &[(&str, &str, i64)]) -> ListingBuilder {
    listing(price_fen)
        .named("Ledger shoe")
        .per_buyer(per_buyer)
        .stocked(stock)
}

fn line(sku: &str, size: &str, quantity: u32) -> Value {
    json!({"sku": sku, "size": size, "quantity": quantity})
}

fn shipping(phone: &str) -> Value {
    json!({"mode": "shipping", "address": {"province": "Guangdong", "city": "Foshan",
        "district": "Nanhai", "line": "9 Quiet St"}, "phone": phone})
}

fn good() -> Value {
    json!({"unworn": true, "tags_on": true, "original_box": true})
}

fn worn() -> Value {
    json!({"unworn": false, "tags_on": true, "original_box": true})
}

/// Places an order (201 asserted); its id.
async fn placed(w: &World, buyer: &str, key: &str, body: &Value) -> String {
    let r = w.place(buyer, key, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    text(&r.body, "/order/id")
}

/// Places and pays an order (not yet dispatched: the queue is not drained); its id.
async fn paid(w: &World, buyer: &str, key: &str, body: &Value) -> String {
    let id = placed(w, buyer, key, body).await;
    let r = w.pay(&id).await;
    assert_eq!(text(&r.body, "/status"), "paid", "{}", r.body);
    id
}

/// A paid pickup order of `line`, dispatched and waiting at its store: its id and the
/// buyer's pickup code.
async fn pickup_order_ready(
    w: &World,
    buyer: &str,
    campaign: &str,
    line: Value,
) -> (String, String) {
    let body = json!({"campaign": campaign, "lines": [line], "coupon": "none"});
    let id = paid(w, buyer, &format!("ready-{buyer}"), &body).await;
    w.drain().await;
    let view = read_order(w, buyer, &id).await;
    assert_eq!(text(&view, "/status"), "ready_for_pickup", "{view}");
    let code = text(&view, "/parcels/0/pickup_code");
    (id, code)
}

/// Places, pays and dispatches an order, and has each parcel handed over; its id.
async fn picked_up(w: &World, buyer: &str, body: &Value) -> String {
    let id = paid(w, buyer, &format!("picked-{buyer}"), body).await;
    w.drain().await;
    let view = read_order(w, buyer, &id).await;
    for p in view["parcels"].as_array().into_iter().flatten() {
        let store = text(p, "/store");
        let r = w
            .json(
                "POST",
                &format!("{BASE}/orders/{id}/pickup"),
                Some(&w.clerk(&format!("clerk-{store}"))),
                &json!({"code": p["pickup_code"], "parcel": p["id"]}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(
        text(&read_order(w, buyer, &id).await, "/status"),
        "picked_up"
    );
    id
}

async fn read_order(w: &World, buyer: &str, id: &str) -> Value {
    let r = w
        .get(&format!("{BASE}/orders/{id}"), Some(&w.buyer(buyer)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn claim(w: &World, buyer: &str, campaign: &str, template: &str) {
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{campaign}/coupons/{template}/claim"),
            Some(&w.buyer(buyer)),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A second payment of the whole order under another payment reference, signed by the
/// sandbox as the provider would send it.
async fn pay_again(w: &World, order: &str, payment: &str) -> Resp {
    let t = clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}"));
    let id = OrderId::parse(order).unwrap_or_else(|e| panic!("{order}: {e}"));
    let o = w
        .state
        .db
        .order(&t, &id, true)
        .await
        .unwrap_or_else(|e| panic!("reading {order}: {e}"));
    let payment = PaymentRef::parse(payment).unwrap_or_else(|e| panic!("{payment}: {e}"));
    let (body, sig) = w.sandbox.notice(&o, o.total_fen, &payment);
    send_signed(w, "/v1/payments/notify", body, &sig).await
}

/// POSTs a provider's signed body.
async fn send_signed(
    w: &World,
    path: &str,
    body: impl Into<Vec<u8>>,
    sig: impl AsRef<str>,
) -> Resp {
    let mut req = clearance_tests::request("POST", path, None, None);
    *req.body_mut() = axum::body::Body::from(body.into());
    let headers = req.headers_mut();
    headers.insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        clearance::payments::SIGNATURE_HEADER,
        sig.as_ref()
            .parse()
            .unwrap_or_else(|e| panic!("bad signature header: {e}")),
    );
    w.send(req).await
}

/// The timers' schedule runs once, then every queue is drained.
async fn sweep(w: &World) {
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
}

// ---------------------------------------------------------------------------------
// Helpers: refunds
// ---------------------------------------------------------------------------------

async fn ask_refund(w: &World, buyer: &str, order: &str, key: &str, body: &Value) -> Resp {
    w.post_keyed(
        &format!("{BASE}/orders/{order}/refunds"),
        &w.buyer(buyer),
        key,
        body,
    )
    .await
}

async fn read_refund(w: &World, id: &str) -> Value {
    let r = w.get(&format!("{BASE}/refunds/{id}"), Some(&w.ops())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn listed_as_failed(w: &World, id: &str) -> bool {
    let r = w
        .get(
            &format!("{BASE}/refunds?status=refund_failed&limit=50"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["refunds"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["id"] == id))
}

fn kinds_of(refunds: &Value) -> Vec<String> {
    refunds
        .as_array()
        .unwrap_or_else(|| panic!("not a list of refunds: {refunds}"))
        .iter()
        .map(|r| text(r, "/kind"))
        .collect()
}

fn refund_id(id: &str) -> RefundId {
    RefundId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// 409, and the parcel or the order is not waiting for pickup (never handed over).
fn assert_not_ready(r: &Resp) {
    let kind = r.body["type"].as_str().unwrap_or_default();
    assert!(
        r.status == 409
            && (kind.ends_with("/parcel-not-ready") || kind.ends_with("/order-not-ready")),
        "the old code at the counter: {} {}",
        r.status,
        r.body
    );
}

// ---------------------------------------------------------------------------------
// Helpers: groups
// ---------------------------------------------------------------------------------

fn seat(campaign: &str, sku: &str) -> Value {
    json!({"campaign": campaign, "lines": [line(sku, "38", 1)], "coupon": "none"})
}

/// Opens a group of `sku` as `buyer` (201 asserted); the group and the seat's order.
async fn open_group(w: &World, buyer: &str, campaign: &str, sku: &str) -> (String, String) {
    let r = w
        .post_keyed(
            &format!("{BASE}/campaigns/{campaign}/group-buys"),
            &w.buyer(buyer),
            &format!("open-{buyer}"),
            &seat(campaign, sku),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    (
        text(&r.body, "/order/group_buy"),
        text(&r.body, "/order/id"),
    )
}

fn join_request(
    w: &World,
    buyer: &str,
    group: &str,
    campaign: &str,
    sku: &str,
) -> axum::http::Request<axum::body::Body> {
    let mut req = clearance_tests::request(
        "POST",
        &format!("{BASE}/group-buys/{group}/join"),
        Some(&w.buyer(buyer)),
        Some(seat(campaign, sku).to_string()),
    );
    let key = format!("join-{buyer}");
    req.headers_mut().insert(
        "idempotency-key",
        key.parse().unwrap_or_else(|e| panic!("bad key: {e}")),
    );
    req
}

async fn join_group(w: &World, buyer: &str, group: &str, campaign: &str, sku: &str) -> Resp {
    w.send(join_request(w, buyer, group, campaign, sku)).await
}

type Hook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The table with one interleaving armed: the next write of a group item (a put, or a
/// transaction writing it) first runs the hook, as if another request landed between
/// the writer's read of the group and its write.
struct JoinBetween {
    inner: Arc<dyn Table>,
    hook: Mutex<Option<Hook>>,
}

impl JoinBetween {
    fn new(inner: Arc<dyn Table>) -> Self {
        JoinBetween {
            inner,
            hook: Mutex::new(None),
        }
    }

    fn before_next_group_write(&self, hook: Hook) {
        *self.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    async fn run_hook_if(&self, writes_group: bool) {
        if !writes_group {
            return;
        }
        let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(hook) = hook {
            hook.await;
        }
    }
}

fn is_group(key: Option<Key>) -> bool {
    key.is_some_and(|k| k.sk == keys::GROUP_SK)
}

#[async_trait]
impl Table for JoinBetween {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        self.inner.get(key, consistent).await
    }
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        self.inner.batch_get(keys, consistent).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        self.run_hook_if(is_group(Key::of(&item))).await;
        self.inner.put(item, condition).await
    }
    async fn query(&self, q: Query) -> Result<Page, TableError> {
        self.inner.query(q).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        let writes_group = writes
            .iter()
            .any(|w| !matches!(w, Write::Check { .. }) && is_group(w.key()));
        self.run_hook_if(writes_group).await;
        self.inner.transact(writes).await
    }
}

// ---------------------------------------------------------------------------------
// Helpers: attribution and reports
// ---------------------------------------------------------------------------------

async fn performance(w: &World, guide: &str, campaign: &str) -> Value {
    let r = w
        .get(
            &format!("{BASE}/guides/{guide}/performance?campaign={campaign}"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn leaderboard(w: &World, campaign: &str) -> Value {
    let r = w
        .get(
            &format!("{BASE}/campaigns/{campaign}/leaderboard"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// One guide's or store's line of a leaderboard.
fn standing<'a>(board: &'a Value, list: &str, id: &str) -> &'a Value {
    board[list]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("{id} is not on the {list} board: {board}"))
}

/// Who an order is credited to, and why.
fn credited(order: &Value) -> (Option<String>, String) {
    (
        order["attribution"]["guide"].as_str().map(str::to_owned),
        text(order, "/attribution/reason"),
    )
}

/// The campaign's latest report, read through its link.
async fn published_report(w: &World, campaign: &str) -> Value {
    let r = w
        .get(
            &format!("{BASE}/campaigns/{campaign}/report"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = text(&r.body, "/links/json");
    let file = w.get(&url, None).await;
    assert_eq!(file.status, 200, "{}", file.text);
    file.body
}

// ---------------------------------------------------------------------------------
// Helpers: reading JSON
// ---------------------------------------------------------------------------------

/// The string at `pointer` in `v`.
fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no text at {pointer} in {v}"))
        .to_owned()
}

/// The integer at `pointer` in `v`.
fn num(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("no integer at {pointer} in {v}"))
}

/// Whether the digits `shown` are at most the last digits of `last4`.
fn shows_at_most(shown: &str, last4: &str) -> bool {
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    last4.ends_with(&digits)
}
