//! A guide's poster, measured: drawn from its facts (the campaign band, the product's
//! name large, prices, the brand's copy, the guide and store in Chinese, a QR code of a
//! signed link, PNG encoding), warm (the font already read), with its p50 and p99 over
//! 300 draws and the PNG's size printed after criterion's mean.

use std::hint::black_box;
use std::time::Instant;

use clearance::domain::money::Fen;
use clearance::domain::poster::{PosterFacts, SlotPrice};
use criterion::Criterion;

fn facts() -> PosterFacts {
    let fen = |n| Fen::new(n).unwrap_or_default();
    PosterFacts {
        campaign_name: "夏季清仓 · 华南".into(),
        dates: "11月22日 – 11月29日".into(),
        product: "一字带平底凉鞋 真皮软底 通勤百搭".into(),
        sku: "SD-1001".into(),
        list_price_fen: fen(39_900),
        price_fen: fen(19_900),
        slot: Some(SlotPrice {
            label: "10:00–16:00".into(),
            price_fen: fen(17_900),
        }),
        group: None,
        copy: "3人成团 ¥159".into(),
        guide_name: "陈晓彤".into(),
        store_name: "广州天河店".into(),
        // as long as a real signed link: its claims in base64 and a full HMAC tag
        link: format!(
            "https://m.clearance.example/demo/south-china/c/summer-clearance/p/SD-1001?share={}.{}",
            "e".repeat(300),
            "a".repeat(64)
        ),
        image: None,
        listing_version: chrono::DateTime::UNIX_EPOCH,
        template_version: 0,
    }
}

fn main() {
    let font_bytes = include_bytes!("../../../assets/fonts/poster-sc.ttf").to_vec();
    let font = clearance::poster::font_from(font_bytes).expect("the poster font");
    let f = facts();
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("poster: draw and encode (warm)", |b| {
        b.iter(|| clearance::poster::render(black_box(&f), &font, None).expect("drawn"))
    });
    c.final_summary();

    let mut times: Vec<f64> = (0..300)
        .map(|_| {
            let t = Instant::now();
            black_box(clearance::poster::render(&f, &font, None).expect("drawn"));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let png = clearance::poster::render(&f, &font, None)
        .expect("drawn")
        .png;
    let t = Instant::now();
    let cold_font = clearance::poster::font_from(
        include_bytes!("../../../assets/fonts/poster-sc.ttf").to_vec(),
    )
    .expect("the poster font");
    let parse = t.elapsed().as_secs_f64() * 1e3;
    black_box(cold_font);
    println!(
        "poster: p50 {:.2} ms, p99 {:.2} ms over 300 draws; PNG {} bytes ({}x{}); font parse {:.2} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        png.len(),
        clearance::domain::poster::WIDTH,
        clearance::domain::poster::HEIGHT,
        parse
    );
}
