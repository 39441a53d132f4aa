//! Guides' share posters: the QR code scans back to the guide's link and that link
//! credits the order; a poster is kept by what it shows (the same poster is served
//! without drawing, a changed price or copy draws a new one); Chinese text renders as
//! the reference; only the guide, their store's staff and ops may draw one.

use chrono::Duration;
use clearance::domain::auth::Role;
use clearance::domain::poster::{PosterFacts, SlotPrice};
use clearance_tests::{qr_text, World, BASE};
use serde_json::{json, Value};

const C: &str = "summer-clearance";

fn guide(w: &World, id: &str) -> String {
    w.tokens
        .mint(&format!("guide-{id}"), Role::Guide, &["demo/south-china"])
        .unwrap_or_else(|p| panic!("mint failed: {p:?}"))
}

async fn poster(w: &World, token: &str, guide_id: &str, body: &Value) -> clearance_tests::Resp {
    w.json(
        "POST",
        &format!("{BASE}/guides/{guide_id}/posters"),
        Some(token),
        body,
    )
    .await
}

/// Guide gz-tianhe-g1's poster of SD-1001, drawn now (201).
async fn first_sd1001_poster(w: &World) -> clearance_tests::Resp {
    let me = guide(w, "gz-tianhe-g1");
    let r = poster(
        w,
        &me,
        "gz-tianhe-g1",
        &json!({"campaign": C, "sku": "SD-1001"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r
}

async fn png(w: &World, key: &str) -> Vec<u8> {
    use clearance::blobs::Blobs;
    w.blobs
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no poster at {key}"))
}

#[tokio::test]
async fn a_posters_qr_code_scans_to_the_guides_link_which_credits_the_order() {
    // given a guide of Tianhe and a product of the campaign
    let w = World::seeded().await;
    // when the guide asks for the product's poster
    let r = first_sd1001_poster(&w).await;
    assert_eq!(r.body["cached"], false);
    assert_eq!(
        (r.body["width"].as_u64(), r.body["height"].as_u64()),
        (Some(750), Some(1334))
    );
    // then the PNG's QR code reads back as the guide's share link
    let key = r.body["key"].as_str().unwrap_or_default();
    assert!(
        key.starts_with("posters/demo/south-china/summer-clearance/"),
        "{key}"
    );
    let bytes = png(&w, key).await;
    assert_eq!(r.body["bytes"].as_u64(), Some(bytes.len() as u64));
    let scanned = qr_text(&bytes).unwrap_or_else(|| panic!("no QR code read from {key}"));
    assert_eq!(scanned, r.body["link"]["url"].as_str().unwrap_or_default());
    assert!(
        scanned.contains("/c/summer-clearance/p/SD-1001?share="),
        "{scanned}"
    );
    // and the poster is served by its presigned link
    let url = r.body["url"].as_str().unwrap_or_default();
    let served = w.get(url, None).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.content_type, "image/png");
    // and an order through the scanned link is credited to the guide
    let token = scanned.split("share=").nth(1).unwrap_or_default();
    let body = json!({"campaign": C, "lines": [{"sku": "SD-1001", "size": "37", "quantity": 1}],
        "coupon": "none", "share_token": token});
    let placed = w.place("buyer-poster", "poster-order", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["order"]["attribution"]["guide"], "gz-tianhe-g1");
    assert_eq!(placed.body["order"]["attribution"]["store"], "gz-tianhe");
}

#[tokio::test]
async fn the_same_poster_is_served_without_drawing_and_a_change_in_what_it_shows_draws_a_new_one() {
    // given a poster drawn at 11:00 in Shanghai, within the morning slot
    let w = World::seeded().await;
    let me = guide(&w, "gz-tianhe-g1");
    let ask = json!({"campaign": C, "sku": "SD-1002"});
    let first = poster(&w, &me, "gz-tianhe-g1", &ask).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(
        first.body["facts"]["slot"]["label"].is_string(),
        "{}",
        first.body
    );
    // when it is asked again (by the guide's store manager, too)
    let again = poster(&w, &w.clerk("clerk-gz-tianhe"), "gz-tianhe-g1", &ask).await;
    // then it is the same poster, served without drawing
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["cached"], true);
    assert_eq!(again.body["key"], first.body["key"]);
    assert_eq!(again.body["bytes"], Value::Null);
    // when the slot ends (the price shown changes), a new poster is drawn
    w.clock.advance(Duration::hours(5));
    let evening = poster(&w, &me, "gz-tianhe-g1", &ask).await;
    assert_eq!(evening.status, 201, "{}", evening.body);
    assert_ne!(evening.body["key"], first.body["key"]);
    assert_eq!(evening.body["facts"]["slot"], Value::Null);
    // and when the brand changes its copy, a new poster is drawn with the new line
    let copy = w
        .json(
            "PUT",
            &format!("{BASE}/poster-copy"),
            Some(&w.ops()),
            &json!({"lines": ["{tier}", "夏日特惠 ¥{price}"], "version": 0}),
        )
        .await;
    assert_eq!(copy.status, 200, "{}", copy.body);
    assert_eq!(copy.body["version"], 1);
    let recopied = poster(&w, &me, "gz-tianhe-g1", &ask).await;
    assert_eq!(recopied.status, 201, "{}", recopied.body);
    assert_ne!(recopied.body["key"], evening.body["key"]);
    // the demo's threshold coupon is the first line's tier
    let line = recopied.body["facts"]["copy"].as_str().unwrap_or_default();
    assert!(line.starts_with('满') && line.contains('减'), "{line}");
    // and a change made from a stale version is refused
    let stale = w
        .json(
            "PUT",
            &format!("{BASE}/poster-copy"),
            Some(&w.ops()),
            &json!({"lines": ["¥{price}"], "version": 0}),
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
}

#[tokio::test]
async fn a_group_buys_poster_counts_its_free_seats_and_links_to_the_group() {
    // given an open group with one seat taken
    let w = World::seeded().await;
    let seat = json!({"campaign": C, "lines": [{"sku": "SD-1003", "size": "38", "quantity": 1}], "coupon": "none"});
    let opened = w
        .post_keyed(
            &format!("{BASE}/campaigns/{C}/group-buys"),
            &w.buyer("buyer-g1"),
            "g-open",
            &seat,
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let group = opened.body["order"]["group_buy"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // when a guide draws its poster
    let me = guide(&w, "sz-futian-g2");
    let r = poster(
        &w,
        &me,
        "sz-futian-g2",
        &json!({"campaign": C, "group_buy": group}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // then it counts the seats still free and its code scans to the group's link
    assert_eq!(r.body["facts"]["group"]["seats_left"], 2);
    assert_eq!(
        r.body["facts"]["copy"]
            .as_str()
            .map(|c| c.starts_with("还差2人")),
        Some(true)
    );
    let scanned = qr_text(&png(&w, r.body["key"].as_str().unwrap_or_default()).await);
    assert!(scanned.is_some_and(|s| s.contains(&format!("/g/{group}?share="))));
    // and once the group has expired, its poster is refused
    w.clock.advance(Duration::hours(25));
    let late = poster(
        &w,
        &me,
        "sz-futian-g2",
        &json!({"campaign": C, "group_buy": group}),
    )
    .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(
        late.body["type"]
            .as_str()
            .map(|t| t.ends_with("group-not-open")),
        Some(true)
    );
}

#[tokio::test]
async fn only_the_guide_their_stores_staff_and_ops_draw_a_guides_poster() {
    let w = World::seeded().await;
    let ask = json!({"campaign": C, "sku": "SD-1001"});
    let path_guide = "gz-tianhe-g1";
    // another guide, and another store's manager, are refused
    let other_guide = poster(&w, &guide(&w, "gz-tianhe-g2"), path_guide, &ask).await;
    assert_eq!(other_guide.status, 403, "{}", other_guide.body);
    let other_store = poster(&w, &w.clerk("clerk-sz-futian"), path_guide, &ask).await;
    assert_eq!(other_store.status, 403, "{}", other_store.body);
    // a buyer is refused before anything is read
    let buyer = poster(&w, &w.buyer("buyer-1"), path_guide, &ask).await;
    assert_eq!(buyer.status, 403, "{}", buyer.body);
    // ops may
    let ops = poster(&w, &w.ops(), path_guide, &ask).await;
    assert_eq!(ops.status, 201, "{}", ops.body);
}

#[tokio::test]
async fn a_poster_asked_of_nothing_or_of_both_names_the_field_and_draws_nothing() {
    let w = World::seeded().await;
    let me = guide(&w, "gz-tianhe-g1");
    for body in [
        json!({"campaign": C}),
        json!({"campaign": C, "sku": "SD-1001", "group_buy": "01JGROUP0000000000000000000"}),
    ] {
        let r = poster(&w, &me, "gz-tianhe-g1", &body).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert!(r.body.to_string().contains("sku"), "{}", r.body);
    }
    let unknown = poster(
        &w,
        &me,
        "gz-tianhe-g1",
        &json!({"campaign": C, "sku": "NO-SUCH"}),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

fn facts(guide_name: &str) -> PosterFacts {
    let fen = |n| clearance::domain::money::Fen::new(n).unwrap_or_default();
    PosterFacts {
        campaign_name: "夏季清仓 · 华南".into(),
        dates: "11月22日 – 11月29日".into(),
        product: "软底通勤乐福鞋".into(),
        sku: "SD-1001".into(),
        list_price_fen: fen(59_900),
        price_fen: fen(29_900),
        slot: Some(SlotPrice {
            label: "10:00–16:00".into(),
            price_fen: fen(27_900),
        }),
        group: None,
        copy: "满500减50".into(),
        guide_name: guide_name.into(),
        store_name: "广州天河店".into(),
        link: "https://m.clearance.example/demo/south-china/c/summer-clearance/p/SD-1001?share=x"
            .into(),
        image: None,
        listing_version: chrono::DateTime::UNIX_EPOCH,
        template_version: 0,
    }
}

/// The guide's name and store as drawn: the region of the poster that holds them, as
/// RGB triples.
fn guide_region(png: &[u8]) -> Vec<[u8; 3]> {
    let p = tiny_skia::Pixmap::decode_png(png).unwrap_or_else(|e| panic!("{e}"));
    let (x0, y0, w, h) = clearance::poster::GUIDE_REGION;
    let mut out = Vec::new();
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let c = p.pixel(x, y).map(|c| c.demultiply());
            out.push(c.map_or([0, 0, 0], |c| [c.red(), c.green(), c.blue()]));
        }
    }
    out
}

/// How far two regions are apart: the share of pixels whose colour differs by more
/// than a quarter in any channel.
fn differs(a: &[[u8; 3]], b: &[[u8; 3]]) -> f64 {
    let far = a
        .iter()
        .zip(b)
        .filter(|(p, q)| (0..3).any(|i| p[i].abs_diff(q[i]) > 64))
        .count();
    far as f64 / a.len().max(1) as f64
}

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/poster-guide-zh.png");

#[test]
fn a_chinese_guide_name_renders_as_its_reference_image() {
    // given the poster font as the bucket holds it
    let font = clearance::poster::font_from(clearance_local::POSTER_FONT.to_vec())
        .unwrap_or_else(|e| panic!("{e}"));
    // when a poster with a Chinese guide and store name is drawn
    let drawn =
        clearance::poster::render(&facts("陈晓彤"), &font, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        drawn.missing.is_empty(),
        "the font lacks {:?}",
        drawn.missing
    );
    let region = guide_region(&drawn.png);
    if std::env::var_os("UPDATE_REFERENCE").is_some() {
        let (x0, y0, w, h) = clearance::poster::GUIDE_REGION;
        let mut crop = tiny_skia::Pixmap::new(w, h).unwrap_or_else(|| panic!("no pixmap"));
        for (i, px) in region.iter().enumerate() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            if let Some(r) = tiny_skia::Rect::from_xywh(x as f32, y as f32, 1.0, 1.0) {
                let mut paint = tiny_skia::Paint::default();
                paint.set_color_rgba8(px[0], px[1], px[2], 255);
                crop.fill_rect(r, &paint, tiny_skia::Transform::identity(), None);
            }
        }
        let _ = (x0, y0);
        crop.save_png(REFERENCE).unwrap_or_else(|e| panic!("{e}"));
    }
    // then its text region matches the reference within a tolerance (anti-aliasing may
    // differ by a shade; a wrong or missing glyph moves whole strokes)
    let reference = tiny_skia::Pixmap::load_png(REFERENCE)
        .unwrap_or_else(|e| panic!("{REFERENCE}: {e} (UPDATE_REFERENCE=1 writes it)"));
    let expected: Vec<[u8; 3]> = reference
        .pixels()
        .iter()
        .map(|c| {
            let c = c.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect();
    assert!(
        differs(&region, &expected) < 0.005,
        "differs by {}",
        differs(&region, &expected)
    );
    // and the comparison would see another name: it is not blind
    let other =
        clearance::poster::render(&facts("李四"), &font, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(differs(&guide_region(&other.png), &expected) > 0.02);
    // and the text has ink: not tofu boxes, not blank
    let inked = region.iter().filter(|p| p[0] < 128).count();
    assert!(
        inked > 800,
        "only {inked} dark pixels in the guide's region"
    );
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/poster-demo.png");

/// The README shows the demo's poster: it is the one the product draws today (pixel
/// for pixel), so a change of layout shows up there too. `UPDATE_DOCS=1` redraws it.
#[tokio::test]
async fn demo_poster_in_the_docs_is_the_one_the_demo_draws() {
    let w = World::seeded().await;
    let r = first_sd1001_poster(&w).await;
    let drawn = png(&w, r.body["key"].as_str().unwrap_or_default()).await;
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(DEMO, &drawn).unwrap_or_else(|e| panic!("{DEMO}: {e}"));
    }
    let pixels = |png: &[u8]| {
        tiny_skia::Pixmap::decode_png(png)
            .map(|p| p.data().to_vec())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let docs =
        std::fs::read(DEMO).unwrap_or_else(|e| panic!("{DEMO}: {e} (UPDATE_DOCS=1 draws it)"));
    assert!(
        pixels(&docs) == pixels(&drawn),
        "docs/poster-demo.png is not today's poster: UPDATE_DOCS=1 redraws it"
    );
}
