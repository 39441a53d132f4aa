//! World builders: the stores, campaigns, listings and coupons a test needs, said in
//! the operator's words and created through the operator's own routes, so each test
//! file states what differs from a plain campaign instead of rebuilding its JSON.
//!
//! ```text
//! w.store("zh-1").city("Zhuhai").clerks(&["clerk-zh"]).put().await;
//! w.campaign("split")
//!     .stores(&["gz-tianhe", "sz-futian"])
//!     .listing("SP-1", listing(9_900).stock("gz-tianhe", "38", 1).stock("sz-futian", "38", 1))
//!     .coupon("c20", coupon(2_000))
//!     .live()
//!     .await;
//! ```

use chrono::{DateTime, Duration, Utc};
use clearance::clock::Clock;
use serde_json::{json, Map, Value};

use crate::{World, BASE};

fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_owned(), value);
}

/// A store of the demo tenant, put by ops (`PUT /stores/{s}`).
pub struct StoreBuilder<'w> {
    w: &'w World,
    id: String,
    body: Map<String, Value>,
}

impl World {
    /// A store named `id`, in Guangzhou with no clerks until told otherwise.
    pub fn store(&self, id: &str) -> StoreBuilder<'_> {
        let mut body = Map::new();
        set(&mut body, "name", json!(id));
        set(&mut body, "phone", json!("+86 20 5555 0101"));
        set(&mut body, "clerks", json!([]));
        let mut b = StoreBuilder {
            w: self,
            id: id.to_owned(),
            body,
        };
        b = b.city("Guangzhou");
        b
    }

    /// A campaign of the demo tenant over the three demo stores, selling shoes from two
    /// minutes from now for fourteen days, with no flash slots (the clearance price all
    /// day) and the default return terms.
    pub fn campaign(&self, id: &str) -> CampaignBuilder<'_> {
        let now = self.clock.now();
        let mut body = Map::new();
        set(&mut body, "id", json!(id));
        set(&mut body, "name", json!(id));
        set(&mut body, "slots", json!([]));
        set(
            &mut body,
            "categories",
            json!([{"id": "shoes", "name": "Shoes"}]),
        );
        set(&mut body, "stores", json!(crate::STORES));
        let mut b = CampaignBuilder {
            w: self,
            id: id.to_owned(),
            body,
            listings: Vec::new(),
            coupons: Vec::new(),
            offers: Vec::new(),
        };
        b = b.runs(now + Duration::minutes(2), now + Duration::days(14));
        b
    }
}

impl StoreBuilder<'_> {
    pub fn named(mut self, name: &str) -> Self {
        set(&mut self.body, "name", json!(name));
        self
    }

    /// The store's city, on a street of its own.
    pub fn city(mut self, city: &str) -> Self {
        set(
            &mut self.body,
            "address",
            json!({"province": "Guangdong", "city": city, "district": "Centre", "line": "1 Main Rd"}),
        );
        self
    }

    pub fn clerks(mut self, clerks: &[&str]) -> Self {
        set(&mut self.body, "clerks", json!(clerks));
        self
    }

    /// Any other field of the store, as the route takes it.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        set(&mut self.body, key, value);
        self
    }

    /// Puts the store; it must be accepted.
    pub async fn put(self) {
        let r = self
            .w
            .json(
                "PUT",
                &format!("{BASE}/stores/{}", self.id),
                Some(&self.w.ops()),
                &Value::Object(self.body),
            )
            .await;
        assert_eq!(r.status, 200, "store {}: {}", self.id, r.body);
    }
}

/// A campaign, its listings and coupons, created by ops.
pub struct CampaignBuilder<'w> {
    w: &'w World,
    id: String,
    body: Map<String, Value>,
    listings: Vec<(String, Value)>,
    coupons: Vec<(String, Value)>,
    offers: Vec<(String, Value)>,
}

impl CampaignBuilder<'_> {
    pub fn named(mut self, name: &str) -> Self {
        set(&mut self.body, "name", json!(name));
        self
    }

    pub fn stores(mut self, stores: &[&str]) -> Self {
        set(&mut self.body, "stores", json!(stores));
        self
    }

    /// When it sells.
    pub fn runs(mut self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        set(&mut self.body, "starts_at", json!(starts_at));
        set(&mut self.body, "ends_at", json!(ends_at));
        self
    }

    /// Flash slots, as the route takes them.
    pub fn slots(mut self, slots: Value) -> Self {
        set(&mut self.body, "slots", slots);
        self
    }

    /// Return terms, as the route takes them.
    pub fn returns(mut self, returns: Value) -> Self {
        set(&mut self.body, "returns", returns);
        self
    }

    /// The attribution rule, as the route takes it.
    pub fn attribution(mut self, attribution: Value) -> Self {
        set(&mut self.body, "attribution", attribution);
        self
    }

    /// Any other field of the campaign, as the route takes it.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        set(&mut self.body, key, value);
        self
    }

    pub fn listing(mut self, sku: &str, listing: ListingBuilder) -> Self {
        self.listings.push((sku.to_owned(), listing.body()));
        self
    }

    pub fn coupon(mut self, id: &str, coupon: CouponBuilder) -> Self {
        self.coupons.push((id.to_owned(), Value::Object(coupon.0)));
        self
    }

    /// An assist offer, as the route takes it.
    pub fn assist_offer(mut self, id: &str, offer: Value) -> Self {
        self.offers.push((id.to_owned(), offer));
        self
    }

    /// Creates the campaign with its listings and coupons, unpublished; each must be
    /// accepted.
    pub async fn draft(&self) {
        let ops = self.w.ops();
        let r = self
            .w
            .json(
                "POST",
                &format!("{BASE}/campaigns"),
                Some(&ops),
                &Value::Object(self.body.clone()),
            )
            .await;
        assert_eq!(r.status, 201, "campaign {}: {}", self.id, r.body);
        for (sku, body) in &self.listings {
            let path = format!("{BASE}/campaigns/{}/listings/{sku}", self.id);
            let r = self.w.json("PUT", &path, Some(&ops), body).await;
            assert_eq!(r.status, 200, "listing {sku}: {}", r.body);
        }
        for (id, body) in &self.coupons {
            let path = format!("{BASE}/campaigns/{}/coupons/{id}", self.id);
            let r = self.w.json("PUT", &path, Some(&ops), body).await;
            assert_eq!(r.status, 200, "coupon {id}: {}", r.body);
        }
        for (id, body) in &self.offers {
            let path = format!("{BASE}/campaigns/{}/assist-offers/{id}", self.id);
            let r = self.w.json("PUT", &path, Some(&ops), body).await;
            assert_eq!(r.status, 200, "assist offer {id}: {}", r.body);
        }
    }

    /// Creates and publishes the campaign, leaving the clock where it is.
    pub async fn published(&self) {
        self.draft().await;
        let r = self
            .w
            .json(
                "POST",
                &format!("{BASE}/campaigns/{}/publish", self.id),
                Some(&self.w.ops()),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "publishing {}: {}", self.id, r.body);
    }

    /// Creates and publishes the campaign, then moves the clock a minute past its
    /// start if it starts later.
    pub async fn live(self) {
        self.published().await;
        let starts = self
            .body
            .get("starts_at")
            .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok());
        if let Some(starts) = starts {
            if starts > self.w.clock.now() {
                self.w.clock.set(starts + Duration::minutes(1));
            }
        }
    }
}

/// A listing of shoes at a clearance price (its list price twice that), five per
/// buyer, one stock shard; its sizes are the sizes stocked unless told.
pub fn listing(clearance_price_fen: i64) -> ListingBuilder {
    let mut body = Map::new();
    set(&mut body, "name", json!("Test shoe"));
    set(&mut body, "category", json!("shoes"));
    set(&mut body, "list_price_fen", json!(2 * clearance_price_fen));
    set(&mut body, "clearance_price_fen", json!(clearance_price_fen));
    set(&mut body, "per_buyer_limit", json!(5));
    ListingBuilder {
        body,
        stock: Vec::new(),
        sizes: None,
    }
}

pub struct ListingBuilder {
    body: Map<String, Value>,
    stock: Vec<(String, String, i64)>,
    sizes: Option<Vec<String>>,
}

impl ListingBuilder {
    pub fn named(mut self, name: &str) -> Self {
        set(&mut self.body, "name", json!(name));
        self
    }

    pub fn list_price(mut self, fen: i64) -> Self {
        set(&mut self.body, "list_price_fen", json!(fen));
        self
    }

    pub fn per_buyer(mut self, units: u32) -> Self {
        set(&mut self.body, "per_buyer_limit", json!(units));
        self
    }

    /// `units` of `size` at `store`.
    pub fn stock(mut self, store: &str, size: &str, units: i64) -> Self {
        self.stock.push((store.to_owned(), size.to_owned(), units));
        self
    }

    /// Each (store, size, units).
    pub fn stocked(self, stock: &[(&str, &str, i64)]) -> Self {
        stock
            .iter()
            .fold(self, |b, (store, size, units)| b.stock(store, size, *units))
    }

    /// The sizes it comes in, stocked or not.
    pub fn sizes(mut self, sizes: &[&str]) -> Self {
        self.sizes = Some(sizes.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Sold in groups too, as the route takes the group terms.
    pub fn group(mut self, group: Value) -> Self {
        set(&mut self.body, "group_buy", group);
        self
    }

    pub fn shards(mut self, shards: u32) -> Self {
        set(&mut self.body, "shards", json!(shards));
        self
    }

    /// Any other field of the listing, as the route takes it.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        set(&mut self.body, key, value);
        self
    }

    fn body(mut self) -> Value {
        let sizes = self.sizes.take().unwrap_or_else(|| {
            let mut sizes: Vec<String> = self.stock.iter().map(|(_, z, _)| z.clone()).collect();
            sizes.sort();
            sizes.dedup();
            sizes
        });
        set(&mut self.body, "sizes", json!(sizes));
        let stock: Vec<Value> = self
            .stock
            .iter()
            .map(|(s, z, u)| json!({"store": s, "size": z, "units": u}))
            .collect();
        set(&mut self.body, "stock", json!(stock));
        Value::Object(self.body)
    }
}

/// A coupon taking `off_fen` off any spend, with a budget of 5,000 redemptions.
pub fn coupon(off_fen: i64) -> CouponBuilder {
    let mut body = Map::new();
    set(&mut body, "name", json!(format!("{} off", off_fen / 100)));
    set(&mut body, "off_fen", json!(off_fen));
    set(&mut body, "min_spend_fen", json!(0));
    set(&mut body, "budget", json!(5_000));
    CouponBuilder(body)
}

pub struct CouponBuilder(Map<String, Value>);

impl CouponBuilder {
    pub fn min_spend(mut self, fen: i64) -> Self {
        set(&mut self.0, "min_spend_fen", json!(fen));
        self
    }

    pub fn budget(mut self, redemptions: u32) -> Self {
        set(&mut self.0, "budget", json!(redemptions));
        self
    }

    pub fn per_buyer(mut self, n: u32) -> Self {
        set(&mut self.0, "per_buyer", json!(n));
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        set(&mut self.0, "name", json!(name));
        self
    }

    /// A member coupon, bought with `points` of the brand's points.
    pub fn points(mut self, points: u32) -> Self {
        set(&mut self.0, "points_price", json!(points));
        self
    }

    /// Only members of `level` and above may claim it.
    pub fn min_level(mut self, level: u8) -> Self {
        set(&mut self.0, "min_level", json!(level));
        self
    }
}
