//! The demo tenant `demo/south-china`: three stores, two guides each, a live campaign
//! `summer-clearance` with three flash slots, two categories, twelve listings and the
//! three coupon tiers. Written through the same store operations the API uses.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use clearance::db::Db;
use clearance::domain::campaign::{Campaign, Category, Slot, Stage, TimeOfDay, DEFAULT_TIME_ZONE};
use clearance::domain::catalog::{Address, GroupOffer, Guide, Listing, Phone, Store, StoreStock};
use clearance::domain::coupon::CouponTemplate;
use clearance::domain::ids::{
    CampaignId, CategoryId, CouponTemplateId, GuideId, Size, Sku, SlotId, StoreId, UserId,
};
use clearance::domain::money::{Fen, Units};
use clearance::domain::search::{Attributes, SearchTerms, Synonym};
use clearance::domain::tenancy::Tenant;
use clearance::{Error, Result};

pub const BRAND: &str = "demo";
pub const GROUP: &str = "south-china";
pub const CAMPAIGN: &str = "summer-clearance";
/// The flash listing: 9 units of each size over 4 shards, one per buyer.
pub const FLASH_SKU: &str = "FL-9001";

fn bad(field: &str, e: String) -> Error {
    clearance::domain::DomainError::invalid(field, e).into()
}

fn fen(v: i64) -> Result<Fen> {
    Fen::new(v).map_err(|e| bad("fen", e))
}

pub fn tenant() -> Result<Tenant> {
    Ok(Tenant::parse(BRAND, GROUP)?)
}

/// Writes the demo tenant. Safe to run twice: every write is a put of the same data,
/// except the campaign, which is created once.
pub async fn seed_demo(db: &Db, now: DateTime<Utc>) -> Result<()> {
    let t = tenant()?;
    // Whole seconds read better in the demo's responses.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let stores = [
        (
            "gz-tianhe",
            "广州天河店",
            "Guangdong",
            "Guangzhou",
            "Tianhe",
            "208 Tianhe Rd, Grandview Mall L2",
            "+86 20 5555 0101",
        ),
        (
            "sz-futian",
            "深圳福田店",
            "Guangdong",
            "Shenzhen",
            "Futian",
            "6 Fuhua 3rd Rd, COCO Park B1",
            "+86 755 5555 0202",
        ),
        (
            "fs-chancheng",
            "佛山禅城店",
            "Guangdong",
            "Foshan",
            "Chancheng",
            "18 Lingnan Ave, Tiandi Plaza",
            "+86 757 5555 0303",
        ),
    ];
    let mut store_ids = Vec::new();
    for (id, name, province, city, district, line, phone) in stores {
        let sid = StoreId::parse(id)?;
        db.put_store(
            &t,
            &Store {
                id: sid.clone(),
                name: name.into(),
                address: Address {
                    province: province.into(),
                    city: city.into(),
                    district: district.into(),
                    line: line.into(),
                },
                phone: Some(Phone::try_from(phone.to_string()).map_err(|e| bad("phone", e))?),
                clerks: vec![UserId::parse(&format!("clerk-{id}"))?],
                location: Some(location(id)),
                // Tianhe has a rider for addresses within 5 km.
                same_city: (id == "gz-tianhe").then_some(
                    clearance::domain::shipping::SameCityOffer {
                        fee_fen: clearance::domain::money::Fen::new(800)
                            .map_err(|e| bad("fee_fen", e))?,
                        radius_m: 5_000,
                    },
                ),
                opening: demo_opening()?,
                // 30-minute pickup slots, 5 places each
                pickup_slots: Some(clearance::domain::appointment::PickupSlots {
                    minutes: 30,
                    capacity: 5,
                }),
                updated_at: now,
            },
        )
        .await?;
        let names = match id {
            "gz-tianhe" => ["陈晓彤", "林嘉豪"],
            "sz-futian" => ["黄思琪", "周子轩"],
            _ => ["梁雅婷", "何俊杰"],
        };
        for (n, guide_name) in (1..=2).zip(names) {
            let gid = format!("{id}-g{n}");
            db.put_guide(
                &t,
                &Guide {
                    id: GuideId::parse(&gid)?,
                    name: guide_name.into(),
                    store: sid.clone(),
                    user: UserId::parse(&format!("guide-{gid}"))?,
                    updated_at: now,
                },
            )
            .await?;
        }
        store_ids.push(sid);
    }

    let slot = |id: &str, a: &str, b: &str| -> Result<Slot> {
        Ok(Slot {
            id: SlotId::parse(id)?,
            starts: TimeOfDay::parse(a).map_err(|e| bad("slot", e))?,
            ends: TimeOfDay::parse(b).map_err(|e| bad("slot", e))?,
        })
    };
    let mut campaign = Campaign {
        id: CampaignId::parse(CAMPAIGN)?,
        name: "夏季清仓 · 华南".into(),
        stage: Stage::Draft,
        starts_at: now - Duration::days(1),
        ends_at: now + Duration::days(6),
        time_zone: DEFAULT_TIME_ZONE,
        slots: vec![
            slot("morning", "10:00", "16:00")?,
            slot("evening", "16:00", "20:00")?,
            slot("night", "20:00", "10:00")?,
        ],
        categories: vec![
            Category {
                id: CategoryId::parse("sandals")?,
                name: "Sandals".into(),
            },
            Category {
                id: CategoryId::parse("pumps")?,
                name: "Pumps".into(),
            },
        ],
        stores: store_ids.clone(),
        payment_window_minutes: 15,
        coupons: Vec::new(),
        coupon_rules: Default::default(),
        returns: Default::default(),
        attribution: Default::default(),
        shard_counts: Default::default(),
        early_access: None,
        close: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    match db.create_campaign(&t, &campaign).await {
        Ok(()) => {}
        Err(Error::Domain(clearance::domain::DomainError::AlreadyExists { .. })) => return Ok(()),
        Err(e) => return Err(e),
    }

    // Names as sellers write them, with what search matches besides: tags, colour,
    // material, heel height (mm).
    type Seeded<'a> = (
        &'a str,
        &'a str,
        &'a str,
        i64,
        i64,
        &'a [&'a str],
        &'a str,
        &'a str,
        u16,
    );
    let products: [Seeded; 12] = [
        (
            "SD-1001",
            "一字带平底凉鞋",
            "sandals",
            39_900,
            19_900,
            &["休闲", "度假"],
            "黑色",
            "牛皮",
            10,
        ),
        (
            "SD-1002",
            "软木底一字拖",
            "sandals",
            45_900,
            22_900,
            &["拖鞋", "休闲"],
            "棕色",
            "软木",
            25,
        ),
        (
            "SD-1003",
            "真皮编织凉鞋",
            "sandals",
            59_900,
            29_900,
            &["真皮", "度假"],
            "棕色",
            "牛皮",
            15,
        ),
        (
            "SD-1004",
            "厚底运动凉鞋",
            "sandals",
            52_900,
            25_900,
            &["运动", "厚底"],
            "黑色",
            "织物",
            40,
        ),
        (
            "SD-1005",
            "粗跟通勤凉鞋",
            "sandals",
            69_900,
            34_900,
            &["通勤", "粗跟"],
            "米色",
            "羊皮",
            55,
        ),
        (
            "SD-1006",
            "夹趾人字拖",
            "sandals",
            19_900,
            9_900,
            &["拖鞋", "度假"],
            "白色",
            "橡胶",
            10,
        ),
        (
            "PM-2001",
            "经典尖头单鞋",
            "pumps",
            89_900,
            44_900,
            &["通勤", "尖头"],
            "黑色",
            "牛皮",
            50,
        ),
        (
            "PM-2002",
            "漆皮猫跟单鞋",
            "pumps",
            79_900,
            39_900,
            &["通勤", "猫跟"],
            "红色",
            "漆皮",
            35,
        ),
        (
            "PM-2003",
            "后空尖头单鞋",
            "pumps",
            99_900,
            49_900,
            &["通勤", "尖头"],
            "裸色",
            "羊皮",
            60,
        ),
        (
            "PM-2004",
            "绒面粗跟单鞋",
            "pumps",
            85_900,
            42_900,
            &["通勤", "粗跟"],
            "灰色",
            "绒面",
            50,
        ),
        (
            "PM-2005",
            "玛丽珍小皮鞋",
            "pumps",
            75_900,
            37_900,
            &["休闲", "小皮鞋"],
            "黑色",
            "牛皮",
            30,
        ),
        (
            "PM-2006",
            "缎面晚宴高跟鞋",
            "pumps",
            129_900,
            64_900,
            &["宴会", "约会"],
            "银色",
            "缎面",
            90,
        ),
    ];
    let sizes: Vec<Size> = ["35", "36", "37", "38", "39", "40"]
        .iter()
        .map(|s| Size::parse(s))
        .collect::<Result<_, _>>()?;
    for (i, (sku, name, cat, list, clearance, tags, colour, material, heel)) in
        products.iter().enumerate()
    {
        let mut stock = Vec::new();
        for (si, store) in store_ids.iter().enumerate() {
            for (zi, size) in sizes.iter().enumerate() {
                // A varied but fixed spread, some sizes sold out at some stores.
                let units = ((i * 7 + si * 5 + zi * 3) % 9) as i64;
                if units > 0 {
                    stock.push(StoreStock {
                        store: store.clone(),
                        size: size.clone(),
                        units: Units::new(units).map_err(|e| bad("units", e))?,
                    });
                }
            }
        }
        let mut slot_prices = BTreeMap::new();
        slot_prices.insert(SlotId::parse("morning")?, fen(clearance - 2_000)?);
        slot_prices.insert(SlotId::parse("night")?, fen(clearance - 3_000)?);
        let listing = Listing {
            sku: Sku::parse(sku)?,
            name: (*name).into(),
            category: CategoryId::parse(cat)?,
            sizes: sizes.clone(),
            list_price_fen: fen(*list)?,
            clearance_price_fen: fen(*clearance)?,
            slot_prices_fen: slot_prices,
            // Every product sells in groups of 3 for 24 hours; every third one forms
            // anyway with 2 paid, completed by the store.
            group: Some(GroupOffer {
                price_fen: fen(clearance - 4_000)?,
                size: 3,
                hours: 24,
                per_buyer: 1,
                store_completes_at: (i % 3 == 2).then_some(2),
            }),
            per_buyer_limit: 2,
            final_sale: i % 5 == 4,
            stock,
            shards: 1,
            attributes: Attributes {
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                colour: Some((*colour).into()),
                material: Some((*material).into()),
                heel_mm: Some(*heel),
            },
            image: None,
            updated_at: now,
        };
        listing.validate(&campaign)?;
        // Each listing write bumps the campaign's version: write against the current one.
        let current = db.campaign(&t, &campaign.id, true).await?;
        db.put_listing(&t, &current, &listing, now).await?;
    }

    // A flash listing for trying a rush: a few units per size, split over 4 shards.
    let flash_sizes: Vec<Size> = ["36", "37", "38", "39"]
        .iter()
        .map(|s| Size::parse(s))
        .collect::<Result<_, _>>()?;
    let mut flash_stock = Vec::new();
    for (si, store) in store_ids.iter().enumerate() {
        for size in &flash_sizes {
            let units = Units::new(2 + si as i64).map_err(|e| bad("units", e))?; // 2+3+4 = 9 per size
            flash_stock.push(StoreStock {
                store: store.clone(),
                size: size.clone(),
                units,
            });
        }
    }
    let mut flash_prices = BTreeMap::new();
    for slot in ["morning", "evening", "night"] {
        flash_prices.insert(SlotId::parse(slot)?, fen(9_900)?);
    }
    let flash = Listing {
        sku: Sku::parse(FLASH_SKU)?,
        name: "限时秒杀 帆布小白鞋".into(),
        category: CategoryId::parse("sandals")?,
        sizes: flash_sizes,
        list_price_fen: fen(39_900)?,
        clearance_price_fen: fen(19_900)?,
        slot_prices_fen: flash_prices,
        group: None,
        per_buyer_limit: 1,
        final_sale: true,
        stock: flash_stock,
        shards: 4,
        attributes: Attributes {
            tags: vec!["小白鞋".into(), "休闲".into()],
            colour: Some("白色".into()),
            material: Some("帆布".into()),
            heel_mm: Some(25),
        },
        image: None,
        updated_at: now,
    };
    flash.validate(&campaign)?;
    let current = db.campaign(&t, &campaign.id, true).await?;
    db.put_listing(&t, &current, &flash, now).await?;
    campaign = db.campaign(&t, &campaign.id, true).await?;

    let coupons = [
        ("no-threshold-20", "20 off, no minimum", 2_000, 0, 0),
        ("over-500-50", "50 off over 500", 5_000, 50_000, 0),
        ("over-888-100", "100 off over 888", 10_000, 88_800, 0),
        // a member coupon: bought with 300 of the brand's points
        ("points-30", "30 off for 300 points", 3_000, 0, 300),
        // the assist offers' packs (each offer's own)
        ("assist-20-a", "助力券 20元无门槛", 2_000, 0, 0),
        ("assist-20-b", "助力券 20元无门槛", 2_000, 0, 0),
        ("assist-20-c", "助力券 20元无门槛", 2_000, 0, 0),
        ("assist-20-d", "助力券 20元无门槛", 2_000, 0, 0),
        ("assist-20-e", "新客助力券 20元无门槛", 2_000, 0, 0),
    ];
    for (id, name, off, min, points_price) in coupons {
        let tpl = CouponTemplate {
            id: CouponTemplateId::parse(id)?,
            name: name.into(),
            off_fen: fen(off)?,
            min_spend_fen: fen(min)?,
            per_buyer: 1,
            budget: 5_000,
            points_price,
            min_level: 0,
            updated_at: now,
        };
        tpl.validate()?;
        campaign = db.put_coupon_template(&t, &campaign, &tpl, now).await?;
    }
    // Invite friends to assist: a pack of two 20-off coupons, no minimum.
    let offers = [
        (
            "three-friends",
            "3位好友助力 得40元无门槛券包",
            3,
            1_000,
            "assist-20-a",
        ),
        (
            "rush-two",
            "2人助力 抢券包 (50 packs)",
            2,
            50,
            "assist-20-b",
        ),
        ("noon-two", "午间2人助力券包", 2, 500, "assist-20-c"),
        ("night-two", "夜场2人助力券包", 2, 500, "assist-20-d"),
        (
            "new-friends",
            "邀新助力: 2位新朋友 得券包",
            2,
            500,
            "assist-20-e",
        ),
    ];
    for (id, name, helpers, budget, pack) in offers {
        let offer = clearance::domain::assist::AssistOffer {
            id: clearance::domain::ids::AssistOfferId::parse(id)?,
            name: name.into(),
            helpers,
            hours: 24,
            pack: vec![CouponTemplateId::parse(pack)?; 2],
            budget,
            daily_cap: 3,
            // the recruiting play: helpers who have not bought from the brand
            new_to_brand: id == "new-friends",
            updated_at: now,
        };
        offer.validate(&campaign.coupons)?;
        db.put_assist_offer(&t, &campaign, &offer, now).await?;
    }
    db.publish(&t, &campaign.id, now).await?;
    db.put_search_terms(&t, &search_terms()?).await?;
    Ok(())
}

/// The demo's search words: what its buyers type for its two categories.
pub fn search_terms() -> Result<SearchTerms> {
    let word = |word: &str, categories: &[&str], tags: &[&str]| -> Result<Synonym> {
        Ok(Synonym {
            word: word.into(),
            categories: categories
                .iter()
                .map(|c| CategoryId::parse(c))
                .collect::<Result<_, _>>()?,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })
    };
    let terms = SearchTerms {
        synonyms: vec![
            word("单鞋", &["pumps"], &[])?,
            word("高跟鞋", &["pumps"], &[])?,
            word("浅口鞋", &["pumps"], &[])?,
            word("凉鞋", &["sandals"], &[])?,
            word("凉拖", &["sandals"], &["拖鞋"])?,
            word("拖鞋", &["sandals"], &["拖鞋"])?,
            word("上班", &[], &["通勤"])?,
            word("办公室", &[], &["通勤"])?,
            word("海边", &[], &["度假"])?,
            word("晚宴", &[], &["宴会"])?,
        ],
    };
    terms.validate()?;
    Ok(terms)
}

/// The demo stores' places on the map (WGS-84).
pub fn location(store: &str) -> clearance::domain::geo::GeoPoint {
    let (lat, lng) = match store {
        "gz-tianhe" => (23.1291, 113.3270),
        "sz-futian" => (22.5431, 114.0579),
        _ => (23.0215, 113.1214), // fs-chancheng
    };
    clearance::domain::geo::GeoPoint { lat, lng }
}

/// Every demo store opens 10:00-22:00, every day (Asia/Shanghai).
fn demo_opening() -> Result<clearance::domain::opening::Opening> {
    let t = |s: &str| TimeOfDay::parse(s).map_err(|e| bad("opening", e));
    Ok(clearance::domain::opening::Opening::every_day(
        t("10:00")?,
        t("22:00")?,
    ))
}
