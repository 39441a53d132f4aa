//! A guide's share poster, as facts: what it shows (product, prices, the campaign's
//! dates, the guide and their store, a line of copy, the link its QR code carries), the
//! brand's copy template that picks the line, and the key a poster is kept under. The
//! key is a hash of everything the poster shows, so a price change makes a new poster
//! and an unchanged one is served as it was drawn. (Drawing it: [`crate::poster`].)

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::campaign::Campaign;
use super::catalog::{GroupOffer, Listing};
use super::money::Fen;
use super::DomainError;

/// The layout's version: drawn differently, every poster is drawn again.
pub const LAYOUT_VERSION: u32 = 1;
pub const WIDTH: u32 = 750;
pub const HEIGHT: u32 = 1334;

/// The brand's lines of copy, tried in order: the first whose every placeholder has a
/// value for this listing and offer is the poster's line. Placeholders: `{group_size}`,
/// `{group_price}`, `{seats_left}`, `{slot}`, `{slot_price}`, `{price}`, `{list_price}`,
/// `{discount}` (as 折, `3.5`), `{tier}` (`满500减50`), `{tag}`, `{colour}`, `{material}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CopyTemplate {
    pub lines: Vec<String>,
    /// Bumped by each change: posters drawn from an older version are drawn again.
    pub version: u32,
    pub updated_at: Option<DateTime<Utc>>,
}

const PLACEHOLDERS: [&str; 12] = [
    "group_size",
    "group_price",
    "seats_left",
    "slot",
    "slot_price",
    "price",
    "list_price",
    "discount",
    "tier",
    "tag",
    "colour",
    "material",
];

/// A line of copy fits the poster's pill at this many characters.
pub const MAX_LINE_CHARS: usize = 18;
pub const MAX_LINES: usize = 8;

impl Default for CopyTemplate {
    /// What a brand that wrote none gets.
    fn default() -> Self {
        CopyTemplate {
            lines: [
                "还差{seats_left}人 ¥{group_price}成团",
                "{group_size}人成团 ¥{group_price}",
                "{slot} 限时 ¥{slot_price}",
                "{tier} · {discount}折",
                "{tier}",
                "{discount}折 {tag}",
                "清仓价 ¥{price}",
            ]
            .map(String::from)
            .to_vec(),
            version: 0,
            updated_at: None,
        }
    }
}

impl CopyTemplate {
    /// Checks lines an operator sent: 1 to 8, each naming only known placeholders and
    /// short enough for the poster, and at least one that always has its values.
    pub fn parse_lines(lines: Vec<String>) -> Result<Vec<String>, DomainError> {
        if lines.is_empty() || lines.len() > MAX_LINES {
            return Err(DomainError::invalid("lines", "between 1 and 8 lines"));
        }
        for (i, line) in lines.iter().enumerate() {
            let field = format!("lines[{i}]");
            let names = placeholders(line)
                .ok_or_else(|| DomainError::invalid(&field, "a `{` without its `}`"))?;
            if let Some(bad) = names.iter().find(|n| !PLACEHOLDERS.contains(n)) {
                return Err(DomainError::invalid(
                    &field,
                    format!("unknown placeholder {{{bad}}}"),
                ));
            }
            let shown: usize = strip(line).chars().count() + names.len() * 4;
            if line.trim().is_empty() || shown > MAX_LINE_CHARS {
                return Err(DomainError::invalid(
                    &field,
                    format!("1 to {MAX_LINE_CHARS} characters as shown (a value counts 4)"),
                ));
            }
            if line.chars().any(char::is_control) {
                return Err(DomainError::invalid(&field, "no control characters"));
            }
        }
        let always = ["price", "list_price"];
        if !lines
            .iter()
            .any(|l| placeholders(l).is_some_and(|names| names.iter().all(|n| always.contains(n))))
        {
            return Err(DomainError::invalid(
                "lines",
                "one line must use only {price} and {list_price} (or none), so every product has a line",
            ));
        }
        Ok(lines)
    }

    /// The poster's line: the first whose placeholders all have values.
    pub fn pick(&self, values: &CopyValues) -> String {
        self.lines
            .iter()
            .find_map(|line| fill(line, values))
            .unwrap_or_else(|| format!("¥{}", values.price))
    }
}

fn placeholders(line: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        out.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    (!rest.contains('}')).then_some(out)
}

fn strip(line: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in line.chars() {
        match c {
            '{' => inside = true,
            '}' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn fill(line: &str, v: &CopyValues) -> Option<String> {
    let mut out = line.to_owned();
    for name in placeholders(line)? {
        let value = v.get(name)?;
        out = out.replacen(&format!("{{{name}}}"), &value, 1);
    }
    Some(out)
}

/// The values a line of copy may use, each present only when the offer has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyValues {
    pub price: String,
    pub list_price: String,
    pub discount: Option<String>,
    pub group_size: Option<String>,
    pub group_price: Option<String>,
    pub seats_left: Option<String>,
    pub slot: Option<String>,
    pub slot_price: Option<String>,
    pub tier: Option<String>,
    pub tag: Option<String>,
    pub colour: Option<String>,
    pub material: Option<String>,
}

impl CopyValues {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            "price" => Some(self.price.clone()),
            "list_price" => Some(self.list_price.clone()),
            "discount" => self.discount.clone(),
            "group_size" => self.group_size.clone(),
            "group_price" => self.group_price.clone(),
            "seats_left" => self.seats_left.clone(),
            "slot" => self.slot.clone(),
            "slot_price" => self.slot_price.clone(),
            "tier" => self.tier.clone(),
            "tag" => self.tag.clone(),
            "colour" => self.colour.clone(),
            "material" => self.material.clone(),
            _ => None,
        }
    }
}

/// A price as a poster shows it: `429`, or `429.5` when it has fen.
pub fn yuan(f: Fen) -> String {
    let (y, fen) = (f.get() / 100, f.get() % 100);
    match fen {
        0 => y.to_string(),
        f if f % 10 == 0 => format!("{y}.{}", f / 10),
        f => format!("{y}.{f:02}"),
    }
}

/// A price against the list price in 折 (`3.5`), as Chinese shops write a discount.
fn discount(price: Fen, list: Fen) -> Option<String> {
    let (p, l) = (price.get(), list.get());
    if l <= 0 || p >= l {
        return None;
    }
    // tenths of the list price, rounded down to one decimal: never a deeper discount
    // than the real one
    let tenths = (p * 100 / l).max(1);
    Some(if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    })
}

/// A flash slot's price, when the poster is drawn within the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlotPrice {
    /// `10:00–16:00`, in the campaign's time zone.
    pub label: String,
    pub price_fen: Fen,
}

/// A group buy the poster invites to (a listing's terms, or one group's seats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupFacts {
    pub size: u8,
    pub price_fen: Fen,
    /// For one group's poster: the seats still free.
    pub seats_left: Option<u8>,
}

/// Everything a poster shows: two posters with equal facts are the same picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PosterFacts {
    pub campaign_name: String,
    /// `12月6日 – 12月12日`, in the campaign's time zone.
    pub dates: String,
    pub product: String,
    pub sku: String,
    pub list_price_fen: Fen,
    /// The clearance price.
    pub price_fen: Fen,
    pub slot: Option<SlotPrice>,
    pub group: Option<GroupFacts>,
    pub copy: String,
    pub guide_name: String,
    pub store_name: String,
    /// The guide's signed share link, as its QR code carries it.
    pub link: String,
    /// The listing's picture, a key in the bucket.
    pub image: Option<String>,
    /// The listing as it stood (its last change).
    pub listing_version: DateTime<Utc>,
    pub template_version: u32,
}

impl PosterFacts {
    /// The poster's name in the bucket: a hash of the layout and every fact it shows.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(LAYOUT_VERSION.to_be_bytes());
        h.update(serde_json::to_vec(self).unwrap_or_default());
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The price the poster leads with: the slot's, else the group's, else clearance.
    pub fn headline_fen(&self) -> Fen {
        self.slot
            .as_ref()
            .map(|s| s.price_fen)
            .or(self.group.as_ref().map(|g| g.price_fen))
            .unwrap_or(self.price_fen)
    }
}

/// The people and link a poster carries besides the listing.
pub struct PosterWho<'a> {
    pub guide_name: &'a str,
    pub store_name: &'a str,
    pub link: &'a str,
}

/// Decides what a poster of `listing` shows at `now`: the slot price if a slot is open
/// and the listing has a price for it, the group's terms (or one group's seats), the
/// campaign's most reachable threshold coupon as its tier, and the brand's copy line.
pub fn facts(
    campaign: &Campaign,
    listing: &Listing,
    group: Option<(&GroupOffer, Option<u8>)>,
    who: PosterWho<'_>,
    template: &CopyTemplate,
    now: DateTime<Utc>,
) -> PosterFacts {
    let tz = campaign.time_zone;
    let slot = campaign.open_slot_at(now).and_then(|s| {
        listing.slot_prices_fen.get(&s.id).map(|p| SlotPrice {
            label: format!("{}–{}", s.starts, s.ends),
            price_fen: *p,
        })
    });
    let group = group.map(|(offer, seats_left)| GroupFacts {
        size: offer.size,
        price_fen: offer.price_fen,
        seats_left,
    });
    let tier = campaign
        .coupons
        .iter()
        .filter(|c| c.min_spend_fen > Fen::ZERO && c.points_price == 0 && c.min_level == 0)
        .min_by_key(|c| (c.min_spend_fen, std::cmp::Reverse(c.off_fen)))
        .map(|c| format!("满{}减{}", yuan(c.min_spend_fen), yuan(c.off_fen)));
    let a = &listing.attributes;
    let values = CopyValues {
        price: yuan(listing.clearance_price_fen),
        list_price: yuan(listing.list_price_fen),
        discount: discount(
            slot.as_ref()
                .map_or(listing.clearance_price_fen, |s| s.price_fen),
            listing.list_price_fen,
        ),
        group_size: group.as_ref().map(|g| g.size.to_string()),
        group_price: group.as_ref().map(|g| yuan(g.price_fen)),
        seats_left: group
            .as_ref()
            .and_then(|g| g.seats_left)
            .map(|s| s.to_string()),
        slot: slot.as_ref().map(|s| s.label.clone()),
        slot_price: slot.as_ref().map(|s| yuan(s.price_fen)),
        tier,
        tag: a.tags.first().cloned(),
        colour: a.colour.clone(),
        material: a.material.clone(),
    };
    PosterFacts {
        campaign_name: campaign.name.clone(),
        dates: format!(
            "{} – {}",
            month_day(campaign.starts_at, tz),
            month_day(campaign.ends_at, tz)
        ),
        product: listing.name.clone(),
        sku: listing.sku.to_string(),
        list_price_fen: listing.list_price_fen,
        price_fen: listing.clearance_price_fen,
        slot,
        group,
        copy: template.pick(&values),
        guide_name: who.guide_name.to_owned(),
        store_name: who.store_name.to_owned(),
        link: who.link.to_owned(),
        image: listing.image.clone(),
        listing_version: listing.updated_at,
        template_version: template.version,
    }
}

fn month_day(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!("{}月{}日", local.month(), local.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> CopyValues {
        CopyValues {
            price: "429".into(),
            list_price: "899".into(),
            ..CopyValues::default()
        }
    }

    #[test]
    fn the_first_line_with_all_its_values_is_the_copy() {
        let t = CopyTemplate::default();
        assert_eq!(t.pick(&values()), "清仓价 ¥429");
        let group = CopyValues {
            group_size: Some("3".into()),
            group_price: Some("399".into()),
            ..values()
        };
        assert_eq!(t.pick(&group), "3人成团 ¥399");
        let tier = CopyValues {
            tier: Some("满500减50".into()),
            ..values()
        };
        assert_eq!(t.pick(&tier), "满500减50");
    }

    #[test]
    fn a_template_naming_an_unknown_placeholder_or_without_a_line_for_every_product_is_refused() {
        let bad = CopyTemplate::parse_lines(vec!["{prize} only".into(), "¥{price}".into()]);
        assert!(matches!(bad, Err(DomainError::Invalid { ref field, .. }) if field == "lines[0]"));
        let unclosed = CopyTemplate::parse_lines(vec!["¥{price".into()]);
        assert!(unclosed.is_err());
        let no_fallback = CopyTemplate::parse_lines(vec!["{tier}".into()]);
        assert!(
            matches!(no_fallback, Err(DomainError::Invalid { ref field, .. }) if field == "lines")
        );
        let long =
            CopyTemplate::parse_lines(vec!["清仓清仓清仓清仓清仓清仓清仓清仓清仓清仓".into()]);
        assert!(long.is_err());
        assert!(CopyTemplate::parse_lines(vec!["{tier}".into(), "特价 ¥{price}".into()]).is_ok());
    }

    #[test]
    fn prices_read_as_a_shop_writes_them() {
        let f = |n| Fen::new(n).unwrap_or_default();
        assert_eq!(yuan(f(42900)), "429");
        assert_eq!(yuan(f(42950)), "429.5");
        assert_eq!(yuan(f(42905)), "429.05");
        assert_eq!(discount(f(42900), f(89900)), Some("4.7".into()));
        assert_eq!(discount(f(45000), f(90000)), Some("5".into()));
        assert_eq!(discount(f(90000), f(90000)), None);
    }
}
