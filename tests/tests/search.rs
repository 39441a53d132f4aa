//! Plain-language search over the demo catalogue (Chinese names, tags, the demo's
//! search words), through the HTTP routes: filters as chips, ranking, words not
//! understood, misses counted into the report, ops' search words, and "my size" from
//! what a member kept.

use clearance_tests::{World, BASE};
use serde_json::{json, Value};

const C: &str = "summer-clearance";

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(w: &World, q: &str, token: Option<&str>) -> Value {
    let path = if token.is_some() {
        "search/mine"
    } else {
        "search"
    };
    let r = w
        .get(
            &format!("{BASE}/campaigns/{C}/{path}?q={}", encode(q)),
            token,
        )
        .await;
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.body
}

fn skus(page: &Value) -> Vec<String> {
    page["products"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
        .collect()
}

fn chip_kinds(page: &Value) -> Vec<String> {
    page["chips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["kind"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_plain_query_finds_pumps_in_budget_and_size_best_match_first() {
    // given the demo at 11:00 (the morning slot: 20 yuan off every pump)
    let w = World::seeded().await;
    // when a buyer asks for commuting pumps under 400 yuan in 38
    let page = search(&w, "400元内通勤单鞋 38码", None).await;
    // then each part is a chip with the words it came from
    assert_eq!(
        chip_kinds(&page),
        ["price", "tag", "category", "size"],
        "{page}"
    );
    assert_eq!(page["chips"][0]["text"], "400元内");
    assert_eq!(page["chips"][0]["value"], "≤¥400");
    // and only pumps within budget with 38 in stock come back, the tagged one first
    assert_eq!(skus(&page), ["PM-2002", "PM-2005"], "{page}");
    for p in page["products"].as_array().into_iter().flatten() {
        assert_eq!(p["category"], "pumps");
        assert!(p["price_fen"].as_i64().unwrap_or(i64::MAX) <= 40_000, "{p}");
        let s38 = p["sizes"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["size"] == "38"))
            .cloned()
            .unwrap_or_default();
        assert_ne!(s38["stock"], "sold_out", "{p}");
    }
    assert_eq!(page["products"][0]["attributes"]["tags"][0], "通勤");
    assert_eq!(page["ignored"], json!([]));
    assert_eq!(page["total"], 2);
}

#[tokio::test]
async fn full_width_digits_typos_and_chinese_numerals_mean_the_same() {
    let w = World::seeded().await;
    let plain = skus(&search(&w, "400元以内单鞋38码", None).await);
    assert!(!plain.is_empty());
    for q in [
        "４００元以内单鞋３８码",
        "四百块以内单鞋 38吗",
        "不超过400 单鞋 EU38",
    ] {
        assert_eq!(skus(&search(&w, q, None).await), plain, "{q}");
    }
}

#[tokio::test]
async fn misses_are_counted_and_listed_in_the_report_and_unknown_words_reported() {
    let w = World::seeded().await;
    // words the catalogue does not know find nothing, and say so
    let miss = search(&w, "靴子", None).await;
    assert_eq!(miss["total"], 0, "{miss}");
    assert_eq!(miss["ignored"], json!(["靴子"]));
    search(&w, "靴子 ", None).await;
    search(&w, "雪地靴", None).await;
    // a word not understood next to one that is: the rest still searches
    let mixed = search(&w, "防水凉鞋", None).await;
    assert_eq!(mixed["ignored"], json!(["防水"]), "{mixed}");
    let products = mixed["products"].as_array().cloned().unwrap_or_default();
    assert!(
        products.iter().all(|p| p["category"] == "sandals"),
        "{mixed}"
    );
    assert!(!skus(&mixed).is_empty());
    // a later page of a search is not counted again
    let r = w
        .get(
            &format!(
                "{BASE}/campaigns/{C}/search?q={}&cursor=YXQ6MA",
                encode("靴子")
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // when the campaign closes, its report lists what buyers did not find
    w.close_now(C).await;
    w.drain().await;
    let report = w.published_report(C).await;
    assert_eq!(
        report["missed_searches"],
        json!([{"query": "靴子", "count": 2}, {"query": "雪地靴", "count": 1}]),
        "{report}"
    );
}

#[tokio::test]
async fn ops_teach_search_a_word_and_bad_words_are_refused_by_field() {
    let w = World::seeded().await;
    assert_eq!(search(&w, "浅口", None).await["total"], 0);
    let terms = w.get(&format!("{BASE}/search-terms"), Some(&w.ops())).await;
    assert_eq!(terms.status, 200);
    let mut synonyms = terms.body["synonyms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    synonyms.push(json!({"word": "浅口", "categories": ["pumps"]}));
    let put = w
        .json(
            "PUT",
            &format!("{BASE}/search-terms"),
            Some(&w.ops()),
            &json!({"synonyms": synonyms}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    // the catalogue snapshot is a second old at most
    w.clock.advance(chrono::Duration::seconds(2));
    let page = search(&w, "浅口", None).await;
    assert!(
        skus(&page).iter().all(|s| s.starts_with("PM-")) && page["total"].as_u64() > Some(0),
        "{page}"
    );

    let bad = w
        .json(
            "PUT",
            &format!("{BASE}/search-terms"),
            Some(&w.ops()),
            &json!({"synonyms": [{"word": "", "tags": ["x"]}]}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.text.contains("synonyms[0].word"), "{}", bad.text);
    let buyer = w
        .json(
            "PUT",
            &format!("{BASE}/search-terms"),
            Some(&w.buyer("b1")),
            &json!({"synonyms": []}),
        )
        .await;
    assert_eq!(buyer.status, 403);
    // a query too long is refused naming `q`
    let long = w
        .get(
            &format!("{BASE}/campaigns/{C}/search?q={}", "a".repeat(101)),
            None,
        )
        .await;
    assert_eq!(long.status, 400, "{}", long.body);
    assert!(long.text.contains("\"q\""), "{}", long.text);
}

async fn bought(w: &World, buyer: &str, key: &str, sku: &str, size: &str) -> String {
    let body = json!({"campaign": C, "lines": [{"sku": sku, "size": size, "quantity": 1}], "coupon": "none"});
    w.picked_up_order(&w.buyer(buyer), key, &body).await
}

#[tokio::test]
async fn my_size_is_the_size_kept_moved_by_what_was_sent_back() {
    let w = World::seeded().await;
    // given a member who kept a 38 pump and sent a 37 back as too small
    bought(&w, "b1", "k1", "PM-2001", "38").await;
    let small = bought(&w, "b1", "k2", "PM-2003", "37").await;
    let r = w
        .post_keyed(
            &format!("{BASE}/orders/{small}/refunds"),
            &w.buyer("b1"),
            "r1",
            &json!({"lines": [{"sku": "PM-2003", "size": "37", "quantity": 1}], "reason": "too_small",
                    "condition": {"unworn": true, "tags_on": true, "original_box": true}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // when they search "my size" signed in
    let page = search(&w, "我的尺码 单鞋", Some(&w.buyer("b1"))).await;
    // then their size is 38, said why, and every product found has 38 in stock
    assert_eq!(page["my_size"]["size"], "38", "{page}");
    assert_eq!(page["my_size"]["based_on"], 2, "{page}");
    assert!(
        page["my_size"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("kept 38 in Pumps"),
        "{page}"
    );
    assert!(!skus(&page).is_empty());
    // and a product shows the same advice
    let r = w
        .get(
            &format!("{BASE}/campaigns/{C}/products/PM-2005/size-advice"),
            Some(&w.buyer("b1")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["advice"]["size"], "38");
    // a buyer with no orders gets no advice, and the public search asks to sign in
    let r = w
        .get(
            &format!("{BASE}/campaigns/{C}/products/PM-2005/size-advice"),
            Some(&w.buyer("b2")),
        )
        .await;
    assert_eq!(r.body["advice"], Value::Null);
    let public = search(&w, "我的尺码 单鞋", None).await;
    assert_eq!(public["my_size_needs_sign_in"], true);
    assert_eq!(public["my_size"], Value::Null);
}

#[tokio::test]
async fn search_pages_through_everything_once() {
    let w = World::seeded().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{BASE}/campaigns/{C}/search?q=&limit=5&cursor={c}"),
            None => format!("{BASE}/campaigns/{C}/search?q=&limit=5"),
        };
        let r = w.get(&path, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(skus(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "a product on two pages");
    assert_eq!(total, 13, "{seen:?}");
    let bad = w
        .get(&format!("{BASE}/campaigns/{C}/search?cursor=nope"), None)
        .await;
    assert_eq!(bad.status, 400);
}
