//! Stores, guides, listings and coupon templates, and the catalog view buyers see.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use utoipa::ToSchema;

use super::campaign::Campaign;
use super::ids::{CategoryId, GuideId, Size, Sku, SlotId, StoreId, UserId};
use super::money::{Fen, Units};
use super::text::validate_name;
use super::DomainError;

/// A phone number. Personal data: its `Debug` never prints it, so it cannot reach a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "+86 20 5555 0101")]
pub struct Phone(String);

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let allowed = s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !allowed || !(5..=20).contains(&digits) {
            return Err("expected a phone number of 5 to 20 digits".into());
        }
        Ok(Phone(s))
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl Phone {
    /// The number as shown to people who may not call it: never more than its last
    /// four digits, and never more than half of a short number; the rest starred
    /// ("*******1234").
    pub fn masked(&self) -> Phone {
        let digits: Vec<char> = self.0.chars().filter(char::is_ascii_digit).collect();
        let shown = 4.min(digits.len() / 2);
        let hidden = digits.len() - shown;
        let masked: String = digits
            .iter()
            .enumerate()
            .map(|(i, c)| if i >= hidden { *c } else { '*' })
            .collect();
        Phone(masked)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone(<redacted>)")
    }
}

/// A postal address. Personal data when it is a buyer's: `Debug` redacts the street.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub province: String,
    pub city: String,
    pub district: String,
    pub line: String,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("city", &self.city)
            .field("line", &"<redacted>")
            .finish()
    }
}

impl Address {
    /// The address as shown to people who do not ship to it: the city and district
    /// stay (they say which store is near), the street line does not.
    pub fn masked(&self) -> Address {
        Address {
            line: "***".into(),
            ..self.clone()
        }
    }

    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        validate_name(&format!("{field}.province"), &self.province, 40)?;
        validate_name(&format!("{field}.city"), &self.city, 40)?;
        validate_name(&format!("{field}.district"), &self.district, 40)?;
        validate_name(&format!("{field}.line"), &self.line, 200)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Store {
    pub id: StoreId,
    pub name: String,
    pub address: Address,
    pub phone: Option<Phone>,
    /// The people (JWT subjects) who work the counter of this store.
    pub clerks: Vec<UserId>,
    /// Where it is on the map (same-city delivery's radius starts here).
    #[serde(default)]
    pub location: Option<super::geo::GeoPoint>,
    /// Its same-city delivery, when it offers one.
    #[serde(default)]
    pub same_city: Option<super::shipping::SameCityOffer>,
    /// When it is open (pickup appointments and try-ons fall within it).
    #[serde(default)]
    pub opening: super::opening::Opening,
    /// Its pickup appointments, when it takes them.
    #[serde(default)]
    pub pickup_slots: Option<super::appointment::PickupSlots>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Guide {
    pub id: GuideId,
    pub name: String,
    pub store: StoreId,
    /// The guide's login (JWT subject).
    pub user: UserId,
    pub updated_at: DateTime<Utc>,
}

/// Group buying terms of a listing: a group forms when `size` buyers have paid
/// `price_fen` each within `hours` of its opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupOffer {
    pub price_fen: Fen,
    /// Seats: 2 to 10.
    pub size: u8,
    /// How long a group stays open (never past the campaign's end).
    #[serde(default = "default_group_hours")]
    pub hours: u32,
    /// How many groups one buyer may open or join on this listing.
    #[serde(default = "default_groups_per_buyer")]
    pub per_buyer: u32,
    /// At expiry, a group with at least this many paid seats forms anyway, shown as
    /// completed by the store (its seats stay empty: no invented members).
    #[serde(default)]
    pub store_completes_at: Option<u8>,
}

pub const DEFAULT_GROUP_HOURS: u32 = 24;

fn default_group_hours() -> u32 {
    DEFAULT_GROUP_HOURS
}

fn default_groups_per_buyer() -> u32 {
    1
}

/// Units of one size contributed to the campaign by one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreStock {
    pub store: StoreId,
    pub size: Size,
    pub units: Units,
}

pub use super::campaign::MAX_SHARDS;
pub const DEFAULT_GROUP_SIZE: u8 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    pub sku: Sku,
    pub name: String,
    pub category: CategoryId,
    pub sizes: Vec<Size>,
    pub list_price_fen: Fen,
    pub clearance_price_fen: Fen,
    /// Flash prices by slot; a slot without one sells at the clearance price.
    pub slot_prices_fen: BTreeMap<SlotId, Fen>,
    /// Its group-buy terms, if it sells in group buys.
    #[serde(rename = "group_buy")]
    pub group: Option<GroupOffer>,
    pub per_buyer_limit: u32,
    pub final_sale: bool,
    /// Each store's contribution, per size: what fulfillment draws from.
    pub stock: Vec<StoreStock>,
    /// How many items the sellable stock is split over (hot SKUs use several).
    pub shards: u8,
    /// Tags, colour, material, heel: what search matches besides the name.
    #[serde(default)]
    pub attributes: Attributes,
    /// Its picture: a PNG in the bucket under `images/{brand}/{store_group}/`, drawn on
    /// guides' posters.
    #[serde(default)]
    pub image: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Listing {
    /// Checks the listing against itself and the campaign it belongs to.
    pub fn validate(&self, campaign: &Campaign) -> Result<(), DomainError> {
        validate_name("name", &self.name, 120)?;
        self.attributes.validate()?;
        if !campaign.categories.iter().any(|c| c.id == self.category) {
            return Err(DomainError::invalid(
                "category",
                "not a category of this campaign",
            ));
        }
        if self.sizes.is_empty() || self.sizes.len() > 30 {
            return Err(DomainError::invalid("sizes", "between 1 and 30 sizes"));
        }
        for (i, s) in self.sizes.iter().enumerate() {
            if self.sizes[..i].contains(s) {
                return Err(DomainError::invalid(
                    format!("sizes[{i}]"),
                    "duplicate size",
                ));
            }
        }
        if self.list_price_fen == Fen::ZERO {
            return Err(DomainError::invalid(
                "list_price_fen",
                "must be more than 0",
            ));
        }
        if self.clearance_price_fen == Fen::ZERO || self.clearance_price_fen > self.list_price_fen {
            return Err(DomainError::invalid(
                "clearance_price_fen",
                "must be more than 0 and at most the list price",
            ));
        }
        for (slot, price) in &self.slot_prices_fen {
            if !campaign.slots.iter().any(|s| &s.id == slot) {
                return Err(DomainError::invalid(
                    format!("slot_prices_fen.{slot}"),
                    "not a slot of this campaign",
                ));
            }
            if *price == Fen::ZERO || *price > self.clearance_price_fen {
                return Err(DomainError::invalid(
                    format!("slot_prices_fen.{slot}"),
                    "must be more than 0 and at most the clearance price",
                ));
            }
        }
        if let Some(g) = &self.group {
            if g.price_fen == Fen::ZERO || g.price_fen > self.clearance_price_fen {
                return Err(DomainError::invalid(
                    "group.price_fen",
                    "must be more than 0 and at most the clearance price",
                ));
            }
            if !(2..=10).contains(&g.size) {
                return Err(DomainError::invalid(
                    "group.size",
                    "a group has 2 to 10 buyers",
                ));
            }
            if !(1..=168).contains(&g.hours) {
                return Err(DomainError::invalid(
                    "group.hours",
                    "a group stays open 1 to 168 hours",
                ));
            }
            if !(1..=20).contains(&g.per_buyer) {
                return Err(DomainError::invalid(
                    "group.per_buyer",
                    "must be between 1 and 20",
                ));
            }
            if g.store_completes_at.is_some_and(|m| m < 1 || m >= g.size) {
                return Err(DomainError::invalid(
                    "group.store_completes_at",
                    "at least 1 and fewer than the group's size",
                ));
            }
        }
        if !(1..=99).contains(&self.per_buyer_limit) {
            return Err(DomainError::invalid(
                "per_buyer_limit",
                "must be between 1 and 99",
            ));
        }
        if !(1..=MAX_SHARDS).contains(&self.shards) {
            return Err(DomainError::invalid(
                "shards",
                format!("must be between 1 and {MAX_SHARDS}"),
            ));
        }
        for (i, s) in self.stock.iter().enumerate() {
            if !campaign.stores.contains(&s.store) {
                return Err(DomainError::invalid(
                    format!("stock[{i}].store"),
                    "not a store of this campaign",
                ));
            }
            if !self.sizes.contains(&s.size) {
                return Err(DomainError::invalid(
                    format!("stock[{i}].size"),
                    "not one of the listing's sizes",
                ));
            }
            if self.stock[..i]
                .iter()
                .any(|o| o.store == s.store && o.size == s.size)
            {
                return Err(DomainError::invalid(
                    format!("stock[{i}]"),
                    "duplicate store and size",
                ));
            }
        }
        Ok(())
    }

    /// Units per size over all stores.
    pub fn total_units(&self) -> BTreeMap<Size, u32> {
        let mut total: BTreeMap<Size, u32> = self.sizes.iter().map(|s| (s.clone(), 0)).collect();
        for s in &self.stock {
            *total.entry(s.size.clone()).or_default() += s.units.get();
        }
        total
    }

    /// The sellable stock split over `shards` items: each size's units spread evenly,
    /// the remainder going to the first shards, so the shards always sum to the total.
    pub fn shard_units(&self) -> Vec<BTreeMap<Size, u32>> {
        let n = u32::from(self.shards.max(1));
        let mut shards = vec![BTreeMap::new(); n as usize];
        for (size, units) in self.total_units() {
            for (i, shard) in shards.iter_mut().enumerate() {
                let extra = u32::from((i as u32) < units % n);
                shard.insert(size.clone(), units / n + extra);
            }
        }
        shards
    }

    /// The unit price at `now`: the open slot's flash price, else the clearance price.
    pub fn price_at(&self, campaign: &Campaign, now: DateTime<Utc>) -> (Fen, Option<SlotId>) {
        match campaign.open_slot_at(now) {
            Some(slot) => match self.slot_prices_fen.get(&slot.id) {
                Some(p) => (*p, Some(slot.id.clone())),
                None => (self.clearance_price_fen, Some(slot.id.clone())),
            },
            None => (self.clearance_price_fen, None),
        }
    }
}

/// What a buyer is told about a size's stock: never the exact count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    InStock,
    Low,
    SoldOut,
}

/// At or below this many units a size shows as "low".
pub const LOW_STOCK: u32 = 5;

pub fn stock_state(units: u32) -> StockState {
    match units {
        0 => StockState::SoldOut,
        n if n <= LOW_STOCK => StockState::Low,
        _ => StockState::InStock,
    }
}

/// What a listing is beyond its name and category: what search matches besides words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Words buyers search by (`通勤`, `真皮`, `小白鞋`): at most 10, 1-12 characters each.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub colour: Option<String>,
    #[serde(default)]
    pub material: Option<String>,
    /// Heel height in millimetres.
    #[serde(default)]
    pub heel_mm: Option<u16>,
}

impl Attributes {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.tags.len() > 10 {
            return Err(DomainError::invalid("attributes.tags", "at most 10 tags"));
        }
        for (i, t) in self.tags.iter().enumerate() {
            validate_tag(&format!("attributes.tags[{i}]"), t)?;
            if self.tags[..i].contains(t) {
                return Err(DomainError::invalid(
                    format!("attributes.tags[{i}]"),
                    "listed twice",
                ));
            }
        }
        for (field, v) in [("colour", &self.colour), ("material", &self.material)] {
            if let Some(v) = v {
                validate_tag(&format!("attributes.{field}"), v)?;
            }
        }
        if self.heel_mm.is_some_and(|h| h > 200) {
            return Err(DomainError::invalid(
                "attributes.heel_mm",
                "at most 200 (millimetres)",
            ));
        }
        Ok(())
    }
}

/// A tag, colour or material: 1-12 printable characters, no separators inside.
pub fn validate_tag(field: &str, tag: &str) -> Result<(), DomainError> {
    let n = tag.chars().count();
    if n == 0 || n > 12 || tag.trim() != tag {
        return Err(DomainError::invalid(
            field,
            "1-12 characters, no spaces around",
        ));
    }
    if tag
        .chars()
        .any(|c| c.is_control() || ",，、;；/|".contains(c))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters or separators",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::{Category, Slot, Stage, TimeOfDay, DEFAULT_TIME_ZONE};
    use crate::domain::ids::CampaignId;
    use chrono::Duration;

    fn campaign(now: DateTime<Utc>) -> Campaign {
        Campaign {
            id: CampaignId::parse("c").unwrap(),
            name: "c".into(),
            stage: Stage::Published,
            starts_at: now - Duration::days(1),
            ends_at: now + Duration::days(1),
            time_zone: DEFAULT_TIME_ZONE,
            slots: vec![Slot {
                id: SlotId::parse("all-day").unwrap(),
                starts: TimeOfDay::parse("10:00").unwrap(),
                ends: TimeOfDay::parse("16:00").unwrap(),
            }],
            categories: vec![Category {
                id: CategoryId::parse("sandals").unwrap(),
                name: "Sandals".into(),
            }],
            stores: vec![StoreId::parse("s1").unwrap(), StoreId::parse("s2").unwrap()],
            payment_window_minutes: 15,
            coupons: vec![],
            coupon_rules: Default::default(),
            returns: Default::default(),
            attribution: Default::default(),
            shard_counts: Default::default(),
            early_access: None,
            close: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn listing(now: DateTime<Utc>) -> Listing {
        let size = |s: &str| Size::parse(s).unwrap();
        Listing {
            sku: Sku::parse("SD-1").unwrap(),
            name: "Strappy sandal".into(),
            category: CategoryId::parse("sandals").unwrap(),
            sizes: vec![size("37"), size("38")],
            list_price_fen: Fen::new(59_900).unwrap(),
            clearance_price_fen: Fen::new(29_900).unwrap(),
            slot_prices_fen: BTreeMap::new(),
            group: Some(GroupOffer {
                price_fen: Fen::new(24_900).unwrap(),
                size: 3,
                hours: 24,
                per_buyer: 1,
                store_completes_at: None,
            }),
            per_buyer_limit: 2,
            final_sale: false,
            stock: vec![
                StoreStock {
                    store: StoreId::parse("s1").unwrap(),
                    size: size("37"),
                    units: Units::new(7).unwrap(),
                },
                StoreStock {
                    store: StoreId::parse("s2").unwrap(),
                    size: size("37"),
                    units: Units::new(4).unwrap(),
                },
                StoreStock {
                    store: StoreId::parse("s2").unwrap(),
                    size: size("38"),
                    units: Units::new(2).unwrap(),
                },
            ],
            shards: 4,
            attributes: Default::default(),
            image: None,
            updated_at: now,
        }
    }

    #[test]
    fn shards_always_sum_to_the_stores_total() {
        let now = Utc::now();
        let l = listing(now);
        let shards = l.shard_units();
        assert_eq!(shards.len(), 4);
        let s37 = Size::parse("37").unwrap();
        let s38 = Size::parse("38").unwrap();
        assert_eq!(shards.iter().map(|s| s[&s37]).sum::<u32>(), 11);
        assert_eq!(shards.iter().map(|s| s[&s38]).sum::<u32>(), 2);
        assert_eq!(
            shards.iter().map(|s| s[&s37]).collect::<Vec<_>>(),
            vec![3, 3, 3, 2]
        );
    }

    #[test]
    fn a_listing_must_fit_its_campaign() {
        let now = Utc::now();
        let c = campaign(now);
        assert!(listing(now).validate(&c).is_ok());
        let mut l = listing(now);
        l.stock[0].store = StoreId::parse("elsewhere").unwrap();
        assert!(
            matches!(l.validate(&c), Err(DomainError::Invalid { field, .. }) if field == "stock[0].store")
        );
        let mut l = listing(now);
        l.clearance_price_fen = Fen::new(70_000).unwrap();
        assert!(
            matches!(l.validate(&c), Err(DomainError::Invalid { field, .. }) if field == "clearance_price_fen")
        );
        let mut l = listing(now);
        l.slot_prices_fen
            .insert(SlotId::parse("nope").unwrap(), Fen::new(100).unwrap());
        assert!(l.validate(&c).is_err());
        let mut l = listing(now);
        l.category = CategoryId::parse("boots").unwrap();
        assert!(
            matches!(l.validate(&c), Err(DomainError::Invalid { field, .. }) if field == "category")
        );
    }

    #[test]
    fn the_open_slot_sets_the_price() {
        // 11:00 in Shanghai: inside the 10:00-16:00 slot.
        let now = DateTime::parse_from_rfc3339("2026-11-23T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = campaign(now);
        let mut l = listing(now);
        assert_eq!(l.price_at(&c, now).0, l.clearance_price_fen);
        l.slot_prices_fen
            .insert(SlotId::parse("all-day").unwrap(), Fen::new(19_900).unwrap());
        assert_eq!(l.price_at(&c, now).0, Fen::new(19_900).unwrap());
        // Outside the window: no slot, clearance price.
        assert_eq!(
            l.price_at(&c, now + Duration::days(2)).0,
            l.clearance_price_fen
        );
    }

    #[test]
    fn stock_state_never_reveals_counts() {
        assert_eq!(stock_state(0), StockState::SoldOut);
        assert_eq!(stock_state(5), StockState::Low);
        assert_eq!(stock_state(6), StockState::InStock);
    }

    #[test]
    fn masked_phones_and_addresses_keep_only_what_locates_them() {
        let p = Phone::try_from("+86 138 0013 1234".to_string()).unwrap();
        assert_eq!(String::from(p.masked()), "*********1234");
        let local = Phone::try_from("5551234".to_string()).unwrap();
        assert_eq!(String::from(local.masked()), "****234");
        let short = Phone::try_from("13800".to_string()).unwrap();
        assert_eq!(String::from(short.masked()), "***00");
        let a = Address {
            province: "GD".into(),
            city: "Guangzhou".into(),
            district: "Tianhe".into(),
            line: "1 Secret Rd".into(),
        };
        assert_eq!(a.masked().line, "***");
        assert_eq!(a.masked().city, "Guangzhou");
    }

    #[test]
    fn phones_and_addresses_are_redacted_in_debug() {
        let p = Phone::try_from("+86 138 0000 1234".to_string()).unwrap();
        assert!(!format!("{p:?}").contains("1234"));
        let a = Address {
            province: "GD".into(),
            city: "Guangzhou".into(),
            district: "Tianhe".into(),
            line: "1 Secret Rd".into(),
        };
        assert!(!format!("{a:?}").contains("Secret"));
    }
}
