//! Invite friends to assist: three helpers unlock one pack; a second account on the
//! starter's phone, a fourth assist of the day, a helper without a verified phone are
//! refused; a rush of completions never grants more packs than the budget; repeats
//! grant nothing twice; an expired assist unlocks nothing.

use chrono::Duration;
use clearance::domain::ids::AssistId;
use clearance::domain::tenancy::Tenant;
use clearance_tests::{World, BASE};
use serde_json::{json, Value};

const C: &str = "summer-clearance";

fn phone(i: usize) -> String {
    format!("1390000{i:04}")
}

/// Given a member `sub` with phone `i`, when they start an assist of `offer`: its view.
async fn start(w: &World, sub: &str, i: usize, offer: &str) -> Value {
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{C}/assist-offers/{offer}/assists"),
            Some(&w.buyer_with_phone(sub, &phone(i))),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn help(w: &World, a: &Value, sub: &str, i: usize) -> clearance_tests::Resp {
    w.json(
        "POST",
        &format!("{BASE}/assists/{}/help", a["id"].as_str().unwrap()),
        Some(&w.buyer_with_phone(sub, &phone(i))),
        &json!({"link": a["link"]}),
    )
    .await
}

/// The report's line of `offer`.
fn offer_line(report: &Value, offer: &str) -> Value {
    report["assists"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["offer"] == offer)
        .cloned()
        .unwrap_or_else(|| panic!("no line for {offer}: {report}"))
}

async fn coupons(w: &World, sub: &str) -> Vec<String> {
    let r = w.get("/v1/me/coupons", Some(&w.buyer(sub))).await;
    r.body["coupons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn three_helpers_unlock_exactly_one_pack() {
    let w = World::seeded().await;
    let a = start(&w, "starter", 0, "three-friends").await;
    assert_eq!(
        (a["needed"].clone(), a["helped"].clone()),
        (json!(3), json!(0))
    );
    for (n, sub) in ["h1", "h2", "h3"].iter().enumerate() {
        let r = help(&w, &a, sub, n + 1).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let done = w
        .get(
            &format!("{BASE}/assists/{}", a["id"].as_str().unwrap()),
            Some(&w.buyer("starter")),
        )
        .await;
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    let mut held = coupons(&w, "starter").await;
    held.sort();
    assert_eq!(held, ["assist-20-a.101", "assist-20-a.102"]);
    // a fourth helper is too late, and the starter does not unlock it twice
    assert_eq!(
        help(&w, &a, "h4", 4).await.problem(409, "assist-closed"),
        None
    );
    let again = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{C}/assist-offers/three-friends/assists"),
            Some(&w.buyer_with_phone("starter", &phone(0))),
            &json!({}),
        )
        .await;
    assert_eq!(again.problem(409, "pack-already-unlocked"), None);
    // and the pack's coupons pay: a no-threshold 20 off on an order
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}],
        "coupon": "assist-20-a.101"});
    let r = w.place("starter", "k1", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["order"]["discount_fen"], 2000, "{}", r.body);
}

#[tokio::test]
async fn a_second_account_on_the_starters_phone_and_a_phone_not_verified_cannot_assist() {
    let w = World::seeded().await;
    let a = start(&w, "starter", 0, "three-friends").await;
    assert_eq!(
        help(&w, &a, "starter", 0).await.problem(409, "assist-self"),
        None
    );
    assert_eq!(
        help(&w, &a, "second-account", 0)
            .await
            .problem(409, "assist-self"),
        None
    );
    let r = w
        .json(
            "POST",
            &format!("{BASE}/assists/{}/help", a["id"].as_str().unwrap()),
            Some(&w.buyer("no-phone")),
            &json!({"link": a["link"]}),
        )
        .await;
    assert_eq!(r.problem(403, "phone-not-verified"), None);
    // a link forged for the assist is refused by field
    let r = w
        .json(
            "POST",
            &format!("{BASE}/assists/{}/help", a["id"].as_str().unwrap()),
            Some(&w.buyer_with_phone("h1", &phone(1))),
            &json!({"link": "eyJ9.00"}),
        )
        .await;
    assert_eq!(r.problem(422, "validation-error").as_deref(), Some("link"));
    // one phone assists an offer once, whichever account it signs in with
    assert_eq!(help(&w, &a, "h1", 1).await.status, 200);
    let b = start(&w, "starter-2", 9, "three-friends").await;
    assert_eq!(
        help(&w, &b, "h1-other-account", 1)
            .await
            .problem(409, "already-assisted"),
        None
    );
    let view = w
        .get(
            &format!("{BASE}/assists/{}", a["id"].as_str().unwrap()),
            Some(&w.buyer("starter")),
        )
        .await;
    assert_eq!(view.body["helped"], 1);
}

#[tokio::test]
async fn a_phones_fourth_assist_of_the_day_is_refused_and_the_next_day_counts_anew() {
    // given four offers, a starter's assist of each
    let w = World::seeded().await;
    let offers = ["three-friends", "rush-two", "noon-two", "night-two"];
    let mut assists = Vec::new();
    for (i, offer) in offers.iter().enumerate() {
        assists.push(start(&w, &format!("s{i}"), 10 + i, offer).await);
    }
    // when one phone assists three of them, the fourth the same day is refused
    for a in &assists[..3] {
        assert_eq!(help(&w, a, "busy", 50).await.status, 200);
    }
    let r = help(&w, &assists[3], "busy", 50).await;
    assert_eq!(r.problem(409, "daily-cap-reached"), None, "{}", r.body);
    // then from another account on the same phone too
    assert_eq!(
        help(&w, &assists[3], "busy-alt", 50)
            .await
            .problem(409, "daily-cap-reached"),
        None
    );
    // and the next day in Shanghai (16:00 UTC is midnight there) it counts anew
    let now = clearance::clock::Clock::now(w.clock.as_ref());
    let midnight = (now + Duration::hours(8))
        .date_naive()
        .succ_opt()
        .unwrap()
        .and_hms_opt(0, 5, 0)
        .unwrap()
        .and_utc()
        - Duration::hours(8);
    w.clock.advance(midnight - now);
    assert_eq!(
        help(&w, &assists[3], "busy", 50).await.status,
        200,
        "a new day"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_completions_against_a_budget_of_fifty_grant_exactly_fifty_packs() {
    // given 200 assists of the 50-pack offer, each one helper short
    let w = World::seeded().await;
    let mut assists = Vec::new();
    for i in 0..200 {
        let a = start(&w, &format!("s{i}"), 1000 + i, "rush-two").await;
        assert_eq!(
            help(&w, &a, &format!("first{i}"), 2000 + i).await.status,
            200
        );
        assists.push(a);
    }
    // when their last helpers all come at once
    let tasks: Vec<_> = assists
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let app = w.app.clone();
            let req = clearance_tests::request(
                "POST",
                &format!("{BASE}/assists/{}/help", a["id"].as_str().unwrap()),
                Some(&w.buyer_with_phone(&format!("last{i}"), &phone(3000 + i))),
                Some(json!({"link": a["link"]}).to_string()),
            );
            tokio::spawn(async move {
                let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
                let status = res.status().as_u16();
                let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .unwrap();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    // then exactly 50 completed with their pack, 150 were told the budget is spent
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let spent = answers
        .iter()
        .filter(|(s, b)| {
            *s == 409
                && b["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("/budget-spent"))
        })
        .count();
    assert_eq!(
        (ok, spent),
        (50, 150),
        "{:?}",
        answers.iter().find(|(s, _)| *s != 200 && *s != 409)
    );
    let t = Tenant::parse("demo", "south-china").unwrap();
    let mut completed = 0;
    let mut packs = 0;
    for (i, a) in assists.iter().enumerate() {
        let id = AssistId::parse(a["id"].as_str().unwrap()).unwrap();
        let rec = w.state.db.assist(&t, &id).await.unwrap();
        let held = coupons(&w, &format!("s{i}")).await;
        match rec.status {
            clearance::domain::assist::AssistStatus::Completed => {
                completed += 1;
                assert_eq!(held.len(), 2);
                packs += 1;
            }
            _ => {
                assert!(held.is_empty());
                assert!(
                    rec.budget_spent_at.is_some(),
                    "an assist left open says why"
                );
            }
        }
    }
    assert_eq!((completed, packs), (50, 50));
    let mut left = 0;
    for shard in 0..clearance::domain::assist::BUDGET_SHARDS {
        let k = clearance::db::assists::budget_key(
            &t,
            &clearance::domain::ids::CampaignId::parse(C).unwrap(),
            &clearance::domain::ids::AssistOfferId::parse("rush-two").unwrap(),
            shard,
        );
        let item = w.state.db.table().get(&k, true).await.unwrap().unwrap();
        let v: Value = serde_dynamo::from_item(item).unwrap();
        let n = v["remaining"].as_i64().unwrap();
        assert!(n >= 0, "shard {shard} at {n}");
        left += n;
    }
    assert_eq!(left, 0, "the budget's counters are empty, never below");
}

#[tokio::test]
async fn repeated_assists_and_expiry_messages_grant_nothing_twice_and_an_expired_assist_unlocks_nothing(
) {
    let w = World::seeded().await;
    let a = start(&w, "starter", 0, "three-friends").await;
    // the same start twice answers the same assist
    let same = start(&w, "starter", 0, "three-friends").await;
    assert_eq!(same["id"], a["id"]);
    assert_eq!(help(&w, &a, "h1", 1).await.status, 200);
    let again = help(&w, &a, "h1", 1).await;
    assert_eq!(
        (again.status.as_u16(), again.body["helped"].clone()),
        (200, json!(1)),
        "a repeat counts once"
    );
    // its time runs out: the timer (and the sweeper behind it) expire it once
    w.clock.advance(Duration::hours(25));
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    clearance_local::sweep_once(&w.state).await;
    w.drain().await;
    let view = w
        .get(
            &format!("{BASE}/assists/{}", a["id"].as_str().unwrap()),
            Some(&w.buyer("starter")),
        )
        .await;
    assert_eq!(view.body["status"], "expired", "{}", view.body);
    assert_eq!(
        help(&w, &a, "h2", 2).await.problem(409, "assist-closed"),
        None
    );
    assert!(coupons(&w, "starter").await.is_empty(), "nothing unlocked");
    // the helper's assist of the offer stays used; the starter may start again
    let b = start(&w, "starter", 0, "three-friends").await;
    assert_ne!(b["id"], a["id"]);
    assert_eq!(
        help(&w, &b, "h1", 1).await.problem(409, "already-assisted"),
        None
    );
    // my assists lists both, newest first
    let mine = w.get("/v1/me/assists", Some(&w.buyer("starter"))).await;
    let ids: Vec<&str> = mine.body["assists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b["id"].as_str().unwrap(), a["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn an_assist_started_through_a_guides_link_counts_on_the_guides_board_and_keeps_the_link() {
    // given a member who arrived with a guide's link
    let w = World::seeded().await;
    let link = w.share_token("gz-tianhe-g1", "gz-tianhe", C);
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{C}/assist-offers/three-friends/assists"),
            Some(&w.buyer_with_phone("fan", &phone(1))),
            &json!({"share_token": link}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // then the assist carries the guide and the guide's link for its helpers to buy
    // through, and the guide's board counts it (once, however often it is started)
    assert_eq!(r.body["guide"], "gz-tianhe-g1");
    assert_eq!(r.body["share_token"], link.as_str());
    let again = start(&w, "fan", 1, "three-friends").await;
    assert_eq!(again["id"], r.body["id"]);
    let board = w
        .get(
            &format!("{BASE}/guides/gz-tianhe-g1/performance?campaign={C}"),
            Some(&w.ops()),
        )
        .await;
    assert_eq!(board.body["assists_started"], 1, "{}", board.body);
    // a forged link credits nobody; the assist starts anyway
    let r = w
        .json(
            "POST",
            &format!("{BASE}/campaigns/{C}/assist-offers/rush-two/assists"),
            Some(&w.buyer_with_phone("fan", &phone(1))),
            &json!({"share_token": "eyJ9.00"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["guide"].clone()),
        (200, Value::Null)
    );
    // and the close's report says so, per offer
    w.close_now(C).await;
    w.drain().await;
    let report = w.published_report(C).await;
    let line = offer_line(&report, "three-friends");
    assert_eq!(line["started"], 1, "{line}");
    assert_eq!(
        line["by_guide"],
        json!([{"guide": "gz-tianhe-g1", "started": 1}])
    );
    assert_eq!(
        report["assists"].as_array().unwrap().len(),
        5,
        "every offer listed"
    );
}

#[tokio::test]
async fn a_recruiting_offer_takes_only_helpers_new_to_the_brand_and_counts_them() {
    // given a helper who has bought in the brand, and one who has not
    let w = World::seeded().await;
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "38", "quantity": 1}], "coupon": "none"});
    let r = w.place("regular", "k1", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        w.pay(r.body["order"]["id"].as_str().unwrap()).await.status,
        200
    );
    w.drain().await;
    let a = start(&w, "recruiter", 1, "new-friends").await;
    // when both assist the recruiting offer
    let regular = help(&w, &a, "regular", 2).await;
    let newcomer = help(&w, &a, "newcomer", 3).await;
    // then only the newcomer counts
    assert_eq!(
        regular.problem(409, "not-new-to-brand"),
        None,
        "{}",
        regular.body
    );
    assert_eq!(newcomer.status, 200, "{}", newcomer.body);
    assert_eq!(newcomer.body["helped"], 1);
    assert_eq!(
        help(&w, &a, "newcomer-2", 4).await.body["status"],
        "completed"
    );
    w.close_now(C).await;
    w.drain().await;
    let report = w.published_report(C).await;
    let line = offer_line(&report, "new-friends");
    assert_eq!(
        (line["recruited"].clone(), line["packs_granted"].clone()),
        (json!(2), json!(1)),
        "{line}"
    );
}

#[tokio::test]
async fn an_expiry_message_delivered_twice_expires_once() {
    let w = World::seeded().await;
    let a = start(&w, "starter", 0, "three-friends").await;
    let id = AssistId::parse(a["id"].as_str().unwrap()).unwrap();
    let t = Tenant::parse("demo", "south-china").unwrap();
    w.clock.advance(Duration::hours(25));
    let msg = clearance::queue::messages::MemberMessage::ExpireAssist {
        tenant: t.clone(),
        assist: id.clone(),
        due: clearance::clock::Clock::now(w.clock.as_ref()),
    };
    let q: &dyn clearance::queue::Queue = w.queue.as_ref();
    q.post(&msg, None).await.unwrap();
    q.post(&msg, None).await.unwrap();
    w.drain().await;
    let rec = w.state.db.assist(&t, &id).await.unwrap();
    assert_eq!(rec.status, clearance::domain::assist::AssistStatus::Expired);
    assert_eq!(rec.version, 2, "expired once: one write");
}
