//! Search, measured: parsing a query against the demo's vocabulary, and a search over
//! 2,000 listings (the size of a large campaign's catalogue), with its p50 and p99 over
//! 20,000 runs printed after criterion's means.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use clearance::domain::campaign::Category;
use clearance::domain::catalog::Listing;
use clearance::domain::ids::{CategoryId, Size};
use clearance::domain::search::{parse, rank, Attributes, Item, Synonym, Vocabulary};
use criterion::Criterion;

const CATEGORIES: [&str; 5] = ["pumps", "flats", "sandals", "sneakers", "boots"];
const TAGS: [&str; 10] = [
    "通勤",
    "休闲",
    "真皮",
    "小白鞋",
    "拖鞋",
    "度假",
    "尖头",
    "粗跟",
    "运动",
    "约会",
];
const COLOURS: [&str; 6] = ["黑色", "白色", "红色", "棕色", "米色", "银色"];

fn listings(n: usize) -> Vec<(Listing, BTreeMap<Size, u32>)> {
    (0..n)
        .map(|i| {
            let mut l: Listing = serde_json::from_value(serde_json::json!({
                "sku": format!("SKU-{i:05}"), "name": format!("{}款 清仓 {i}", TAGS[i % 10]),
                "category": CATEGORIES[i % 5], "sizes": ["35", "36", "37", "38", "39", "40"],
                "list_price_fen": 99_900, "clearance_price_fen": 9_900 + (i as i64 * 7_919) % 90_000,
                "slot_prices_fen": {}, "group_buy": null, "per_buyer_limit": 2, "final_sale": false,
                "stock": [], "shards": 1, "updated_at": "2026-01-01T00:00:00Z"
            }))
            .expect("a listing");
            l.attributes = Attributes {
                tags: vec![TAGS[i % 10].into(), TAGS[(i / 10) % 10].into()],
                colour: Some(COLOURS[i % 6].into()),
                material: Some("牛皮".into()),
                heel_mm: Some((i % 90) as u16),
            };
            let units = l
                .sizes
                .iter()
                .enumerate()
                .map(|(z, s)| (s.clone(), ((i * 7 + z * 3) % 5) as u32))
                .collect();
            (l, units)
        })
        .collect()
}

fn vocabulary(items: &[(Listing, BTreeMap<Size, u32>)]) -> Vocabulary {
    let synonyms = vec![
        Synonym {
            word: "单鞋".into(),
            categories: vec![
                CategoryId::parse("pumps").unwrap(),
                CategoryId::parse("flats").unwrap(),
            ],
            tags: vec![],
        },
        Synonym {
            word: "凉拖".into(),
            categories: vec![CategoryId::parse("sandals").unwrap()],
            tags: vec!["拖鞋".into()],
        },
        Synonym {
            word: "上班".into(),
            categories: vec![],
            tags: vec!["通勤".into()],
        },
    ];
    let categories: Vec<Category> = CATEGORIES
        .iter()
        .map(|c| Category {
            id: CategoryId::parse(c).unwrap(),
            name: (*c).into(),
        })
        .collect();
    Vocabulary::new(&synonyms, &categories, items.iter().map(|(l, _)| l))
}

fn percentiles(mut f: impl FnMut(), runs: usize) -> (f64, f64) {
    let mut ns: Vec<u128> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let at = |p: usize| ns[(runs * p / 100).min(runs - 1)] as f64 / 1000.0;
    (at(50), at(99))
}

fn main() {
    let catalogue = listings(2_000);
    let v = vocabulary(&catalogue);
    // what the catalogue snapshot keeps per listing, once
    let keys: Vec<(String, String)> = catalogue.iter().map(|(l, _)| Item::keys(l)).collect();
    let items: Vec<Item<'_>> = catalogue
        .iter()
        .zip(&keys)
        .map(|((l, u), (name, colour))| Item {
            listing: l,
            units: u,
            price_fen: l.clearance_price_fen.get(),
            name,
            colour,
        })
        .collect();
    let query = "300元内通勤单鞋 38码";
    let broad = "黑色 休闲";
    let parsed = parse(query, &v);
    let wide = parse(broad, &v);

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("parse: 300元内通勤单鞋 38码", |b| {
        b.iter(|| parse(black_box(query), &v))
    });
    c.bench_function("search 2,000 listings: 300元内通勤单鞋 38码", |b| {
        b.iter(|| rank(black_box(&parsed), &parsed.sizes, &items))
    });
    c.bench_function("search 2,000 listings: 黑色 休闲 (broad)", |b| {
        b.iter(|| rank(black_box(&wide), &wide.sizes, &items))
    });
    c.final_summary();

    let (p50, p99) = percentiles(
        || {
            black_box(parse(black_box(query), &v));
        },
        20_000,
    );
    println!("parse: p50 {p50:.1} µs, p99 {p99:.1} µs");
    let (p50, p99) = percentiles(
        || {
            let q = parse(black_box(query), &v);
            black_box(rank(&q, &q.sizes, &items));
        },
        20_000,
    );
    println!("parse + search of 2,000 listings: p50 {p50:.1} µs, p99 {p99:.1} µs");
    let (p50, p99) = percentiles(
        || {
            let q = parse(black_box(broad), &v);
            black_box(rank(&q, &q.sizes, &items));
        },
        20_000,
    );
    println!("parse + broad search of 2,000 listings: p50 {p50:.1} µs, p99 {p99:.1} µs");
}
