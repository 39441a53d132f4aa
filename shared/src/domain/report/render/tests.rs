//! The page and the CSV, rendered and read back.

use super::csv::*;
use super::format::*;
use super::html::*;

use chrono::{DateTime, Utc};

use super::super::{
    basis_points, BoardLine, Edition, Figures, GroupFigures, RefundFigures, Report, StockFigures,
};
use super::super::{
    AttentionLine, CouponLine, ListingLine, OpenWork, ReasonLine, SizeLine, StoreFigures,
    StoreStockLine,
};
use crate::domain::attribution::Totals;
use crate::domain::ids::{CampaignId, OrderId};
use chrono::TimeZone;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, day, hour, 0, 0).unwrap()
}

fn stock(stock: u64, sold: u64) -> StockFigures {
    StockFigures {
        stock_units: stock,
        sold_units: sold,
        leftover_units: stock - sold,
        sell_through_bp: basis_points(sold, stock),
    }
}

fn store(id: &str, net: i64, stock_units: u64, sold: u64) -> StoreFigures {
    StoreFigures {
        store: id.into(),
        figures: Figures {
            orders: 3,
            units: sold,
            buyers: 3,
            new_buyers: 1,
            gross_gmv_fen: net + 1_000,
            refunded_fen: 1_000,
            net_gmv_fen: net,
        },
        stock_units,
        sold_units: sold,
        leftover_units: stock_units - sold,
        sell_through_bp: basis_points(sold, stock_units),
    }
}

fn listing(sku: &str, name: &str, sizes: &[(&str, u64, u64)]) -> ListingLine {
    let (st, so) = sizes.iter().fold((0, 0), |(a, b), s| (a + s.1, b + s.2));
    ListingLine {
        sku: sku.into(),
        name: name.into(),
        units: so,
        gross_gmv_fen: so as i64 * 9_900,
        stock: stock(st, so),
        sizes: sizes
            .iter()
            .map(|(size, st, so)| SizeLine {
                size: (*size).into(),
                stock: stock(*st, *so),
            })
            .collect(),
        // The whole size at the first store, for simplicity.
        cells: sizes
            .iter()
            .map(|(size, st, so)| StoreStockLine {
                store: "sz-01".into(),
                size: (*size).into(),
                stock: stock(*st, *so),
            })
            .collect(),
    }
}

fn board(id: &str, name: Option<&str>, store: Option<&str>, net: i64) -> BoardLine {
    BoardLine {
        id: id.into(),
        name: name.map(Into::into),
        store: store.map(Into::into),
        net_gmv_fen: net,
        totals: Totals {
            orders: 2,
            units: 3,
            gmv_fen: net + 500,
            refunded_fen: 500,
            commission_pending_fen: net * 3 / 100,
            commission_confirmed_fen: 0,
            commission_reversed_fen: 0,
            new_buyers: 1,
            new_members: 1,
        },
    }
}

/// 2 stores, 2 listings (4 sizes in all, one size shared), a coupon, groups,
/// refunds with 2 reasons, 3 guides, 2 boarded stores, 1 attention line.
fn sample() -> Report {
    Report {
        tenant: "demo/south-china".into(),
        brand: "demo".into(),
        campaign: CampaignId::parse("summer-clearance").unwrap(),
        name: r#"Summer <script>alert(1)</script> & "friends""#.into(),
        starts_at: at(1, 2),
        ends_at: at(8, 2),
        closed_at: None,
        edition: Edition::Interim,
        generated_at: at(9, 3),
        orders_placed: 9,
        orders_unpaid_cancelled: 2,
        totals: Figures {
            orders: 7,
            units: 15,
            buyers: 6,
            new_buyers: 2,
            gross_gmv_fen: 12_345_678,
            refunded_fen: 45_600,
            net_gmv_fen: 12_300_078,
        },
        stock: stock(29, 15),
        stores: vec![
            store("sz-01", 8_000_000, 20, 10),
            store("gz-02", 4_300_078, 9, 5),
        ],
        listings: vec![
            listing("RUN-1", "Runner, white", &[("38", 10, 4), ("39", 10, 6)]),
            listing("SANDAL-2", "Sandal", &[("38", 5, 5), ("40", 4, 0)]),
        ],
        coupons: vec![CouponLine {
            template: "welcome-20".into(),
            name: "Welcome ¥20".into(),
            redemptions: 4,
            cost_fen: 8_000,
        }],
        groups: GroupFigures {
            opened: 5,
            formed: 3,
            failed: 1,
            store_completed: 1,
            open: 0,
            formed_cost_fen: 6_000,
            store_completed_cost_fen: 1_500,
        },
        refunds: RefundFigures {
            requested: 3,
            approved_by_rule: 2,
            approved_by_person: 0,
            rejected: 1,
            pending_review: 0,
            automatic_approval_bp: 6_666,
            decision_p50_seconds: Some(90),
            decision_p95_seconds: None,
            paid_back_fen: 30_000,
            by_reason: vec![
                ReasonLine {
                    reason: "wrong_size".into(),
                    count: 2,
                    amount_fen: 30_000,
                },
                ReasonLine {
                    reason: "cancellation".into(),
                    count: 1,
                    amount_fen: 15_600,
                },
            ],
        },
        guides: vec![
            board("li-na", Some("Li Na"), Some("sz-01"), 300_000),
            board("wang-wei", Some("Wang 'Wei'"), Some("gz-02"), 512_345),
            board("zhao-yu", None, Some("sz-01"), 0),
        ],
        store_board: vec![
            board("sz-01", None, None, 300_000),
            board("gz-02", None, None, 512_345),
        ],
        attention: vec![AttentionLine {
            order: OrderId::parse("01JXAMPLE0000000000000000A").unwrap(),
            reason: r#"held, "manual" check"#.into(),
            open: true,
        }],
        open: OpenWork {
            undelivered_orders: 1,
            returns_in_transit: 1,
            commission_pending_fen: 24_370,
            last_window_closes_at: Some(at(16, 2)),
            ..OpenWork::default()
        },
        missed_searches: vec![crate::domain::search::MissedSearch {
            query: "<b>防水</b>".into(),
            count: 3,
        }],
        shipping: vec![crate::domain::report::ShippingLine {
            store: "gz-tianhe".into(),
            parcels: 5,
            handover_p50_seconds: Some(5_400),
            handover_p95_seconds: Some(172_800),
            delivery_p50_seconds: Some(108_000),
            delivery_p95_seconds: None,
            delivered: 3,
            needed_attention: 1,
            lost: 1,
            returned_unclaimed: 0,
            same_city: 2,
            same_city_fees_fen: 1_600,
        }],
        assists: vec![crate::domain::report::AssistLine {
            offer: "three-friends".into(),
            name: "<i>3 friends</i>".into(),
            started: 10,
            completed: 4,
            expired: 5,
            open: 1,
            packs_granted: 4,
            budget: 50,
            recruited: 7,
            pack_coupons_redeemed: 3,
            pack_coupons_cost_fen: 6_000,
            by_guide: vec![crate::domain::report::GuideAssists {
                guide: "gz-tianhe-g1".into(),
                started: 2,
            }],
        }],
        visits: vec![crate::domain::report::VisitLine {
            store: "gz-tianhe".into(),
            pickup_bookings: 6,
            pickup_no_shows: 1,
            visits: 9,
            visits_cancelled: 1,
            visit_no_shows: 2,
            check_ins: 6,
            converted: 4,
            conversion_bp: 6_666,
        }],
    }
}

/// The `<svg>` element with this id.
fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<svg id="{id}""#))
        .expect("chart present");
    let end = html[start..].find("</svg>").expect("chart closed");
    &html[start..start + end]
}

#[test]
fn money_and_rates_read_like_money_and_rates() {
    assert_eq!(yuan(-1234), "-¥12.34");
    assert_eq!(yuan(123_456_789), "¥1,234,567.89");
    assert_eq!(yuan(0), "¥0.00");
    assert_eq!(yuan(5), "¥0.05");
    assert_eq!(yuan(-5), "-¥0.05");
    assert_eq!(yuan(100_000), "¥1,000.00");
    assert_eq!(yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    assert_eq!(pct(4523), "45.23%");
    assert_eq!(pct(5), "0.05%");
    assert_eq!(pct(10_000), "100.00%");
    assert_eq!(duration(90), "1 min 30 s");
    assert_eq!(duration(2 * 86_400 + 3_600), "2 d 1 h");
    assert_eq!(
        escape(r#"<a href='x'>"&"</a>"#),
        "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
    );
}

#[test]
fn sizes_sort_as_on_a_shelf() {
    let mut v = vec!["XL", "38.5", "M", "100", "38", "S", "one", "2XL"];
    v.sort_by(|a, b| size_cmp(a, b));
    assert_eq!(v, ["38", "38.5", "100", "S", "M", "XL", "2XL", "one"]);
}

#[test]
fn the_page_carries_its_charts_and_exact_figures() {
    let html = to_html(&sample());
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in [
        "chart-sell-through",
        "chart-gmv-by-store",
        "chart-leaderboard",
    ] {
        let svg = chart(&html, id);
        assert!(svg.contains(r#"role="img""#), "{id}");
        assert!(svg.contains("aria-label="), "{id}");
        assert!(svg.contains("<title>"), "{id}");
    }

    // Size 38 over both listings: (4 + 5) sold of (10 + 5) = 60%.
    let sizes = chart(&html, "chart-sell-through");
    assert!(sizes.contains(r#"data-label="38" data-value="6000""#));
    assert!(sizes.contains(">60.00%<"));
    assert!(sizes.contains(r#"data-label="40" data-value="0""#));
    let order: Vec<usize> = ["\"38\"", "\"39\"", "\"40\""]
        .iter()
        .map(|s| sizes.find(s).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "sizes in order");

    let stores = chart(&html, "chart-gmv-by-store");
    assert!(stores.contains(r#"data-label="gz-02" data-value="4300078""#));
    assert!(stores.contains(">¥43,000.78<"));
    // The largest bar takes the whole width, the other its share.
    assert!(stores.contains(r#"width="240" height="18" data-label="sz-01""#));

    let guides = chart(&html, "chart-leaderboard");
    assert!(guides.contains(r#"data-label="wang-wei" data-value="512345""#));
    assert!(guides.contains("Wang &#39;Wei&#39;"));
    assert!(guides.find("wang-wei").unwrap() < guides.find("li-na").unwrap());

    assert!(html.contains(r#"data-figure="gross_gmv_fen" data-value="12345678">¥123,456.78<"#));
    for f in [
        "gross_gmv_fen",
        "net_gmv_fen",
        "orders",
        "units",
        "buyers",
        "new_buyers",
        "refunded_fen",
        "sell_through_bp",
        "automatic_approval_bp",
    ] {
        assert!(
            html.contains(&format!(r#"data-figure="{f}" data-value=""#)),
            "{f}"
        );
    }
    assert!(html.contains(r#"data-figure="automatic_approval_bp" data-value="6666">66.66%<"#));

    assert!(html.contains("Summer &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(
        html.contains(r#"id="open""#),
        "interim shows what is still open"
    );
    assert!(html.contains("Interim report"));
    assert_eq!(html, to_html(&sample()));
}

#[test]
fn an_empty_final_report_renders_without_data() {
    let mut r = sample();
    r.edition = Edition::Final;
    r.stores.clear();
    r.listings.clear();
    r.coupons.clear();
    r.groups = GroupFigures::default();
    r.refunds = RefundFigures::default();
    r.guides.clear();
    r.store_board.clear();
    r.attention.clear();
    r.stock = StockFigures::default();
    let html = to_html(&r);
    assert_eq!(html.matches(">No data</text>").count(), 3);
    assert!(html.contains("No group buys."));
    assert!(html.contains("No refunds requested."));
    assert!(html.contains("Final report"));
    assert!(!html.contains(r#"id="open""#));

    // Rates of nothing and bars of zero: no division by zero.
    let mut r = sample();
    for s in &mut r.stores {
        s.figures.net_gmv_fen = 0;
    }
    for l in &mut r.listings {
        for s in &mut l.sizes {
            s.stock = StockFigures::default();
        }
    }
    let html = to_html(&r);
    assert!(chart(&html, "chart-gmv-by-store").contains(r#"width="0""#));
    assert!(chart(&html, "chart-sell-through").contains(r#"data-label="38" data-value="0""#));
}

#[test]
fn the_csv_has_one_quoted_row_per_figure() {
    let csv = to_csv(&sample());
    assert!(csv.starts_with("section,key,subkey,metric,value\r\n"));
    assert!(csv.contains("totals,summer-clearance,,gross_gmv_fen,12345678\r\n"));
    assert!(csv.contains("store,gz-02,,net_gmv_fen,4300078\r\n"));
    assert!(csv.contains("listing_size,RUN-1,39,sell_through_bp,6000\r\n"));
    assert!(csv.contains("listing_store_size,SANDAL-2,sz-01/40,stock_units,4\r\n"));
    assert!(csv.contains("refunds,,,decision_p95_seconds,\r\n"));
    assert!(csv.contains("guide,wang-wei,gz-02,net_gmv_fen,512345\r\n"));
    // A field with a comma and quotes is quoted, its quotes doubled.
    assert!(
        csv.contains("attention,01JXAMPLE0000000000000000A,,\"held, \"\"manual\"\" check\",1\r\n")
    );
    let mut f = String::new();
    csv_field(&mut f, "a,\"b\"");
    assert_eq!(f, "\"a,\"\"b\"\"\"");

    let expected = 1 // header
        + 3 + 7 + 4 // totals
        + 2 * 11 // stores
        + 2 * 6 // listings
        + 4 * 4 // listing sizes
        + 4 * 4 // listing cells
        + 2 // coupon
        + 7 // groups
        + 2 * 2 // refund reasons
        + 9 // refunds
        + 3 * 9 // guides
        + 2 * 9 // store board
        + 1 // attention
        + 11 // shipping: one store, 7 counts and 4 times
        + 8 // visits: one store, 8 figures
        + 10 // assists: one offer, 9 figures and one guide
        + 8; // open
    assert_eq!(csv.lines().count(), expected);
    assert!(csv.lines().all(|l| !l.ends_with('\r')));
    assert_eq!(csv, to_csv(&sample()));
}

#[test]
fn searches_that_found_nothing_are_listed_escaped() {
    let html = to_html(&sample());
    let section = &html[html.find(r#"<section id="searches">"#).expect("section")..];
    assert!(section.contains("&lt;b&gt;防水&lt;/b&gt;"), "{section}");
    assert!(!section.contains("<b>防水"));
    let mut none = sample();
    none.missed_searches.clear();
    assert!(to_html(&none).contains("Every search found something."));
}

#[test]
fn the_shipping_section_gives_each_stores_times_in_hours_and_its_troubles() {
    let r = sample();
    let html = to_html(&r);
    let start = html.find(r#"id="shipping""#).expect("a shipping section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(section.contains("gz-tianhe"), "{section}");
    assert!(
        section.contains("1.5 h") && section.contains("48.0 h") && section.contains("30.0 h"),
        "{section}"
    );
    assert!(section.contains("¥16.00"), "{section}");
    let csv = to_csv(&r);
    assert!(csv.contains("shipping,gz-tianhe,,lost,1"), "{csv}");
    assert!(
        csv.contains("shipping,gz-tianhe,,delivery_p95_seconds,\r\n"),
        "{csv}"
    );
    let mut none = sample();
    none.shipping.clear();
    assert!(to_html(&none).contains("No parcel was shipped."));
}

#[test]
fn the_visits_section_gives_each_stores_bookings_visits_and_conversion() {
    let r = sample();
    let html = to_html(&r);
    let start = html.find(r#"id="visits""#).expect("a visits section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(section.contains("gz-tianhe"), "{section}");
    assert!(section.contains("66.66%"), "{section}");
    let csv = to_csv(&r);
    assert!(csv.contains("visits,gz-tianhe,,converted,4\r\n"), "{csv}");
    assert!(
        csv.contains("visits,gz-tianhe,,pickup_no_shows,1\r\n"),
        "{csv}"
    );
    let mut none = sample();
    none.visits.clear();
    assert!(to_html(&none).contains("No pickup appointment or try-on visit."));
}

#[test]
fn the_assists_section_lists_each_offer_escaped_with_its_packs_cost() {
    let html = to_html(&sample());
    let start = html.find(r#"id="assists""#).expect("an assists section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(
        section.contains("&lt;i&gt;3 friends&lt;/i&gt;") && !section.contains("<i>3"),
        "{section}"
    );
    assert!(
        section.contains("¥60.00") && section.contains("gz-tianhe-g1 2"),
        "{section}"
    );
    let csv = to_csv(&sample());
    assert!(
        csv.contains("assists,three-friends,,packs_granted,4"),
        "{csv}"
    );
    assert!(
        csv.contains("assists,three-friends,gz-tianhe-g1,started_through_guide,2"),
        "{csv}"
    );
}
