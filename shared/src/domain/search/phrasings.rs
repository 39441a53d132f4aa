//! Real phrasings and what each means: the parser's table test. Each line is a query
//! and its chips (`kind:value`, in the order found), then `| words:` the words left over.

use super::query::parse;
use super::vocabulary::{Synonym, Vocabulary};
use crate::domain::campaign::Category;
use crate::domain::catalog::Listing;
use crate::domain::ids::CategoryId;
use crate::domain::search::Attributes;

fn vocabulary() -> Vocabulary {
    let cat = |id: &str, name: &str| Category {
        id: CategoryId::parse(id).unwrap(),
        name: name.into(),
    };
    let syn = |word: &str, cats: &[&str], tags: &[&str]| Synonym {
        word: word.into(),
        categories: cats.iter().map(|c| CategoryId::parse(c).unwrap()).collect(),
        tags: tags.iter().map(|t| (*t).into()).collect(),
    };
    let synonyms = vec![
        syn("单鞋", &["pumps", "flats"], &[]),
        syn("凉拖", &["sandals"], &["拖鞋"]),
        syn("上班", &[], &["通勤"]),
        syn("高跟鞋", &["pumps"], &[]),
        syn("小白鞋", &["sneakers"], &["小白鞋"]),
    ];
    let categories = vec![
        cat("sandals", "凉鞋"),
        cat("pumps", "Pumps"),
        cat("flats", "平底鞋"),
        cat("sneakers", "Sneakers"),
    ];
    let listing = |tags: &[&str], colour: &str, material: &str| {
        let mut l: Listing = serde_json::from_value(serde_json::json!({
            "sku": "X-1", "name": "x", "category": "pumps", "sizes": ["38"],
            "list_price_fen": 100, "clearance_price_fen": 100, "slot_prices_fen": {},
            "group_buy": null, "per_buyer_limit": 1, "final_sale": false, "stock": [],
            "shards": 1, "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        l.attributes = Attributes {
            tags: tags.iter().map(|t| (*t).into()).collect(),
            colour: Some(colour.into()),
            material: Some(material.into()),
            heel_mm: None,
        };
        l
    };
    let listings = [
        listing(&["通勤", "尖头"], "黑色", "牛皮"),
        listing(&["休闲", "真皮"], "白色", "帆布"),
        listing(&["拖鞋"], "红", "牛皮"),
    ];
    Vocabulary::new(&synonyms, &categories, listings.iter())
}

fn summary(q: &str, v: &Vocabulary) -> String {
    let p = parse(q, v);
    let mut parts: Vec<String> = p
        .chips
        .iter()
        .map(|c| {
            let kind = serde_json::to_value(c.kind).unwrap();
            format!("{}:{}", kind.as_str().unwrap(), c.value)
        })
        .collect();
    if !p.words.is_empty() {
        parts.push(format!("| words:{}", p.words.join(",")));
    }
    parts.join(" ")
}

const PHRASINGS: &[(&str, &str)] = &[
    // prices
    ("300元内", "price:≤¥300"),
    ("300以内", "price:≤¥300"),
    ("300以下", "price:≤¥300"),
    ("300元以下的", "price:≤¥300"),
    ("不超过300", "price:≤¥300"),
    ("不超过300块", "price:≤¥300"),
    ("最多200元", "price:≤¥200"),
    ("低于500", "price:≤¥500"),
    ("300-500元", "price:¥300-500"),
    ("300~500", "price:¥300-500"),
    ("300到500块", "price:¥300-500"),
    ("三百块以内", "price:≤¥300"),
    ("两百到三百", "price:¥200-300"),
    ("两百五以内", "price:≤¥250"),
    ("一千以下", "price:≤¥1000"),
    ("500左右", "price:¥450-550"),
    ("五百左右", "price:¥450-550"),
    ("500元上下", "price:¥450-550"),
    ("200以上", "price:≥¥200"),
    ("超过400", "price:≥¥400"),
    ("¥300以内", "price:≤¥300"),
    ("３００元以内", "price:≤¥300"),
    ("３００-５００元", "price:¥300-500"),
    ("300块钱以内", "price:≤¥300"),
    ("under 300", "price:≤¥300"),
    // sizes
    ("38码", "size:38"),
    ("38号", "size:38"),
    ("38吗", "size:38"),
    ("EU38", "size:38"),
    ("eu 38", "size:38"),
    ("ＥＵ３８", "size:38"),
    ("欧码39", "size:39"),
    ("38", "size:38"),
    ("37.5码", "size:37.5"),
    ("240", "size:38"),
    ("24码", "size:38"),
    ("23.5码", "size:37"),
    ("235mm", "size:37"),
    ("24cm", "size:38"),
    ("三十八码", "size:38"),
    ("36-38码", "size:36-38"),
    ("尺码37", "size:37"),
    ("穿39", "size:39"),
    ("我的尺码", "my_size:mine"),
    ("我的码", "my_size:mine"),
    // categories, tags, synonyms
    ("单鞋", "category:flats,pumps"),
    ("凉拖", "category:sandals tag:拖鞋"),
    ("凉鞋", "category:sandals"),
    ("pumps", "category:pumps"),
    ("通勤", "tag:通勤"),
    ("上班穿的", "tag:通勤"),
    ("高跟鞋", "category:pumps"),
    ("小白鞋", "category:sneakers tag:小白鞋"),
    ("真皮休闲", "tag:真皮 tag:休闲"),
    ("黑色", "colour:黑"),
    ("黑", "colour:黑"),
    ("红色的", "colour:红"),
    ("牛皮", "material:牛皮"),
    ("平底", "heel:0-10mm"),
    ("中跟", "heel:35-65mm"),
    ("含售罄", "stock:sold out too"),
    // mixtures
    (
        "300元内通勤单鞋 38码",
        "price:≤¥300 tag:通勤 category:flats,pumps size:38",
    ),
    (
        "300元内通勤单鞋38码",
        "price:≤¥300 tag:通勤 category:flats,pumps size:38",
    ),
    (
        "我想要一双300以内的黑色单鞋",
        "price:≤¥300 colour:黑 category:flats,pumps",
    ),
    (
        "两百到三百的凉拖 37码",
        "price:¥200-300 category:sandals tag:拖鞋 size:37",
    ),
    ("38码通勤", "size:38 tag:通勤"),
    ("通勤 38", "tag:通勤 size:38"),
    (
        "单鞋 我的尺码 500以内",
        "category:flats,pumps my_size:mine price:≤¥500",
    ),
    (
        "黑色牛皮中跟单鞋 EU37",
        "colour:黑 material:牛皮 heel:35-65mm category:flats,pumps size:37",
    ),
    (
        "小白鞋 240 200左右",
        "category:sneakers tag:小白鞋 size:38 price:¥180-220",
    ),
    (
        "三百块以内的凉鞋含售罄",
        "price:≤¥300 category:sandals stock:sold out too",
    ),
    ("通勤单鞋38吗", "tag:通勤 category:flats,pumps size:38"),
    ("有货的单鞋", "category:flats,pumps"),
    // words left over
    ("舒服的单鞋", "category:flats,pumps | words:舒服"),
    ("防水 凉鞋", "category:sandals | words:防水"),
    ("nike 38", "size:38 | words:nike"),
    ("shred", "| words:shred"),
    ("2003", "| words:2003"),
    ("", ""),
    ("，，，", ""),
];

#[test]
fn every_phrasing_parses_to_its_filters() {
    assert!(PHRASINGS.len() >= 60, "{} phrasings", PHRASINGS.len());
    let v = vocabulary();
    let mut wrong = Vec::new();
    for (q, want) in PHRASINGS {
        let got = summary(q, &v);
        if got != *want {
            wrong.push(format!("{q:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn each_chip_names_the_text_it_came_from() {
    let v = vocabulary();
    let p = parse("300元内通勤单鞋 38码", &v);
    let texts: Vec<&str> = p.chips.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["300元内", "通勤", "单鞋", "38码"]);
}

#[test]
fn no_query_panics_or_runs_long() {
    let v = vocabulary();
    for q in [
        "9999999999999999999元以内",
        "¥",
        "到到到",
        "-38码",
        "38-",
        "三百五十万万万以内",
        &"单".repeat(10_000),
        "\u{0}\u{1}",
        "38.",
        ".5码",
    ] {
        let p = parse(q, &v);
        assert!(p.chips.len() + p.words.len() <= super::query::MAX_QUERY_CHARS);
    }
}
