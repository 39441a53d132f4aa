//! `browse-catalog` over HTTP: what buyers see, what it costs in DynamoDB calls, and
//! that no tenant sees another's products.

use clearance::domain::auth::Role;
use clearance_tests::World;
use serde_json::json;

const BASE: &str = "/v1/demo/south-china";

#[tokio::test]
async fn buyers_see_live_campaigns_with_the_open_and_next_slot() {
    let w = World::seeded().await;
    let r = w.get(&format!("{BASE}/campaigns"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.body["campaigns"][0];
    assert_eq!(c["id"], "summer-clearance");
    assert_eq!(c["status"], "live");
    assert_eq!(c["open_slot"]["id"], "morning");
    assert_eq!(c["open_slot"]["ends_at"], "2026-11-23T08:00:00Z");
    assert_eq!(c["next_slot"]["id"], "evening");
    assert_eq!(c["next_slot"]["starts_at"], "2026-11-23T08:00:00Z");
}

#[tokio::test]
async fn the_price_is_the_price_of_the_slot_open_now_in_the_campaign_time_zone() {
    let w = World::seeded().await;
    let sku = format!("{BASE}/campaigns/summer-clearance/products/SD-1003");
    // 11:00 Shanghai: morning slot, clearance 299.00 less 20
    let r = w.get(&sku, None).await;
    assert_eq!(r.body["product"]["price_fen"], 27_900, "{}", r.body);
    assert_eq!(r.body["product"]["slot"], "morning");
    // 17:00 Shanghai: evening slot has no flash price, so the clearance price
    w.clock.advance(chrono::Duration::hours(6));
    let r = w.get(&sku, None).await;
    assert_eq!(r.body["product"]["price_fen"], 29_900);
    assert_eq!(r.body["product"]["slot"], "evening");
    // 02:00 Shanghai next day: the night slot that crossed midnight, clearance less 30
    w.clock.advance(chrono::Duration::hours(9));
    let r = w.get(&sku, None).await;
    assert_eq!(r.body["product"]["price_fen"], 26_900);
    assert_eq!(r.body["product"]["slot"], "night");
    assert_eq!(r.body["product"]["group_buy"]["price_fen"], 25_900);
    assert_eq!(r.body["product"]["list_price_fen"], 59_900);
}

#[tokio::test]
async fn a_products_page_is_one_query_and_pages_cover_every_listing_once() {
    let w = World::seeded().await;
    let first_url = format!("{BASE}/campaigns/summer-clearance/products?limit=5");
    // warm the campaign cache, then count a page: within the second it is served
    // rendered, after it one Query renders it again
    w.get(&first_url, None).await;
    let before = w.counts.snapshot();
    w.get(&first_url, None).await;
    assert_eq!(w.counts.since(before).total(), 0);
    w.clock.advance(chrono::Duration::seconds(1));
    let before = w.counts.snapshot();
    let page = w.get(&first_url, None).await;
    let calls = w.counts.since(before);
    assert_eq!((calls.query, calls.total()), (1, 1), "{calls:?}");
    // follow the cursor to the end
    let mut skus: Vec<String> = Vec::new();
    let mut body = page.body;
    loop {
        for p in body["products"].as_array().unwrap() {
            skus.push(p["sku"].as_str().unwrap().to_owned());
            assert!(p["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| ["in_stock", "low", "sold_out"].contains(&s["stock"].as_str().unwrap())));
        }
        match body["next_cursor"].as_str() {
            Some(c) => body = w.get(&format!("{first_url}&cursor={c}"), None).await.body,
            None => break,
        }
    }
    let mut unique = skus.clone();
    unique.dedup();
    assert_eq!(skus.len(), 13, "twelve listings and the flash one");
    assert_eq!(unique.len(), 13);
}

#[tokio::test]
async fn a_category_lists_only_its_products() {
    let w = World::seeded().await;
    let r = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance/products?category=pumps"),
            None,
        )
        .await;
    let products = r.body["products"].as_array().unwrap();
    assert_eq!(products.len(), 6);
    assert!(products.iter().all(|p| p["category"] == "pumps"));
    let r = w
        .get(
            &format!("{BASE}/campaigns/summer-clearance/products?category=boots"),
            None,
        )
        .await;
    assert_eq!(
        r.problem(400, "invalid-parameter").as_deref(),
        Some("category")
    );
}

#[tokio::test]
async fn sizes_with_no_stock_show_sold_out() {
    let w = World::seeded().await;
    let ops = w.ops();
    // a new draft campaign whose single listing has one size with stock
    let c = json!({"id": "tiny", "name": "Tiny", "starts_at": "2026-11-22T00:00:00Z", "ends_at": "2026-11-25T00:00:00Z",
                   "categories": [{"id": "sandals", "name": "Sandals"}], "stores": ["gz-tianhe"]});
    assert_eq!(
        w.json("POST", &format!("{BASE}/campaigns"), Some(&ops), &c)
            .await
            .status,
        201
    );
    let l = json!({"name": "Slide", "category": "sandals", "sizes": ["37", "38"], "list_price_fen": 10000, "clearance_price_fen": 5000,
                   "stock": [{"store": "gz-tianhe", "size": "38", "units": 9}]});
    assert_eq!(
        w.json(
            "PUT",
            &format!("{BASE}/campaigns/tiny/listings/SL-1"),
            Some(&ops),
            &l
        )
        .await
        .status,
        200
    );
    // drafts are invisible to buyers
    w.get(&format!("{BASE}/campaigns/tiny/products"), None)
        .await
        .problem(404, "not-found");
    assert_eq!(
        w.json(
            "POST",
            &format!("{BASE}/campaigns/tiny/publish"),
            Some(&ops),
            &json!({})
        )
        .await
        .status,
        200
    );
    let r = w
        .get(&format!("{BASE}/campaigns/tiny/products/SL-1"), None)
        .await;
    assert_eq!(
        r.body["product"]["sizes"],
        json!([{"size": "37", "stock": "sold_out"}, {"size": "38", "stock": "in_stock"}])
    );
    assert_eq!(r.body["product"]["sold_out"], false);
    assert_eq!(
        r.body["product"]["price_fen"], 5000,
        "no slots: the clearance price"
    );
}

#[tokio::test]
async fn another_tenants_products_are_not_found_not_leaked() {
    // given the demo tenant, and a second brand with its own campaign of the same id
    let w = World::seeded().await;
    let hq = w.token(Role::Hq, &["*"]);
    let acme = "/v1/acme/south-china";
    let store = json!({"name": "Acme GZ", "address": {"province": "Guangdong", "city": "Guangzhou", "district": "Yuexiu", "line": "9 Beijing Rd"}});
    assert_eq!(
        w.json("PUT", &format!("{acme}/stores/acme-gz"), Some(&hq), &store)
            .await
            .status,
        200
    );
    // when a buyer asks acme for demo's campaign and product
    let r = w
        .get(
            &format!("{acme}/campaigns/summer-clearance/products/SD-1001"),
            None,
        )
        .await;
    // then it is a 404, and acme's lists show nothing of demo's
    r.problem(404, "not-found");
    w.get(&format!("{acme}/campaigns/summer-clearance/products"), None)
        .await
        .problem(404, "not-found");
    let live = w.get(&format!("{acme}/campaigns"), None).await;
    assert_eq!(live.body["campaigns"], json!([]));
    // and demo's ops cannot read acme's stores
    w.get(&format!("{acme}/stores"), Some(&w.ops()))
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn bad_browse_parameters_get_problems() {
    let w = World::seeded().await;
    let p = format!("{BASE}/campaigns/summer-clearance/products");
    assert_eq!(
        w.get(&format!("{p}?limit=abc"), None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("limit")
    );
    assert_eq!(
        w.get(&format!("{p}?limit=500"), None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("limit")
    );
    assert_eq!(
        w.get(&format!("{p}?cursor=!!!"), None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("cursor")
    );
    assert_eq!(
        w.get(&format!("{p}?sort=price"), None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("sort")
    );
    assert_eq!(
        w.get(&format!("{p}?limit=1&limit=2"), None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("limit")
    );
    assert_eq!(
        w.get("/v1/DEMO/south-china/campaigns", None)
            .await
            .problem(400, "invalid-parameter")
            .as_deref(),
        Some("brand")
    );
    w.get(
        &format!("{BASE}/campaigns/summer-clearance/products/NOPE-1"),
        None,
    )
    .await
    .problem(404, "not-found");
    w.get(&format!("{BASE}/campaigns/nope/products"), None)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn a_page_showing_stock_just_sold_out_never_sells_it_and_revalidates_to_304() {
    let w = World::seeded().await;
    let url = format!("{BASE}/campaigns/summer-clearance/products/FL-9001");
    let size_36 = |r: &clearance_tests::Resp| r.body["product"]["sizes"][0]["stock"].clone();
    // given a buyer's page showing size 36 on sale, sent with a tag and a short max-age
    let page = w.get(&url, None).await;
    assert_ne!(size_36(&page), "sold_out", "{}", page.body);
    assert_eq!(page.headers["cache-control"], "public, max-age=2");
    let etag = page.headers["etag"].clone();
    // when the nine units of size 36 sell in the same second
    let body = json!({"campaign": "summer-clearance", "lines": [{"sku": "FL-9001", "size": "36", "quantity": 1}], "coupon": "none"});
    for b in 0..9 {
        let r = w.place(&format!("rush-{b}"), &format!("k{b}"), &body).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // then the page may still show it on sale (at most 1 s here, 2 s more in a cache) ...
    let stale = w.get(&url, None).await;
    assert_eq!(stale.headers["etag"], etag);
    assert_ne!(size_36(&stale), "sold_out");
    // ... but an order for it is refused: the order re-reads the stock
    w.place("rush-late", "late", &body)
        .await
        .problem(409, "sold-out");
    // and a client revalidating its copy gets 304 while it is current
    let mut req = clearance_tests::request("GET", &url, None, None);
    req.headers_mut().insert("if-none-match", etag.clone());
    let not_modified = w.send(req).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.text.is_empty());
    // after the second the page shows it sold out, under a new tag
    w.clock.advance(chrono::Duration::seconds(1));
    let fresh = w.get(&url, None).await;
    assert_eq!(size_36(&fresh), "sold_out");
    assert_ne!(fresh.headers["etag"], etag);
    let mut req = clearance_tests::request("GET", &url, None, None);
    req.headers_mut().insert("if-none-match", etag);
    assert_eq!(w.send(req).await.status, 200);
}
