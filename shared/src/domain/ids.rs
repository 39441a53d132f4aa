//! Identifier newtypes. Each is parsed once at the edge (`parse` / serde's `try_from`),
//! and none can hold `#`, so a value can never forge a key of the single table.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::DomainError;

/// Which characters an identifier may use.
#[derive(Clone, Copy)]
enum Charset {
    /// lower-case letters, digits, '-': brands, groups, campaigns, stores, guides...
    Slug,
    /// letters, digits, '-', '_': SKUs as printed on the tag.
    Sku,
    /// an identity provider's subject: letters, digits and `-_.:@|`.
    Subject,
    /// shoe and apparel sizes: letters, digits and '.' ("38.5", "XL").
    Size,
}

fn check(value: &str, max: usize, charset: Charset) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let ok = value.chars().all(|c| match charset {
        Charset::Slug => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        Charset::Sku => c.is_ascii_alphanumeric() || c == '-' || c == '_',
        Charset::Subject => c.is_ascii_alphanumeric() || "-_.:@|".contains(c),
        Charset::Size => c.is_ascii_alphanumeric() || c == '.',
    });
    if !ok {
        return Err(match charset {
            Charset::Slug => "may contain only a-z, 0-9 and '-'".into(),
            Charset::Sku => "may contain only letters, digits, '-' and '_'".into(),
            Charset::Subject => "may contain only letters, digits and -_.:@|".into(),
            Charset::Size => "may contain only letters, digits and '.'".into(),
        });
    }
    if matches!(charset, Charset::Slug) && value.starts_with('-') {
        return Err("must not start with '-'".into());
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:expr, $charset:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The field name used in errors when this id is at fault.
            pub const FIELD: &'static str = $field;

            pub fn parse(value: &str) -> Result<Self, DomainError> {
                check(value, $max, $charset)
                    .map(|()| Self(value.to_owned()))
                    .map_err(|reason| DomainError::invalid($field, reason))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                check(&value, $max, $charset).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .max_length(Some($max))
                    .min_length(Some(1))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

id_type!(/// A brand of the group, e.g. `demo`.
    BrandId, "brand", 40, Charset::Slug);
id_type!(/// A regional store group of a brand, e.g. `south-china`.
    StoreGroupId, "group", 40, Charset::Slug);
id_type!(/// A campaign, chosen by the operator, e.g. `summer-clearance`.
    CampaignId, "campaign", 64, Charset::Slug);
id_type!(/// A store of the tenant.
    StoreId, "store", 40, Charset::Slug);
id_type!(/// A shop guide of the tenant.
    GuideId, "guide", 40, Charset::Slug);
id_type!(/// A category (zone) of a campaign, e.g. `sandals`.
    CategoryId, "category", 40, Charset::Slug);
id_type!(/// A flash-sale slot of a campaign, e.g. `morning`.
    SlotId, "slot", 40, Charset::Slug);
id_type!(/// A coupon template of a campaign.
    CouponTemplateId, "template", 40, Charset::Slug);
id_type!(/// A stock-keeping unit (one model and colour; sizes are separate).
    Sku, "sku", 40, Charset::Sku);
id_type!(/// A person, as the identity provider names them (JWT `sub`).
    UserId, "sub", 128, Charset::Subject);
id_type!(/// A size label: "38", "38.5", "XL".
    Size, "size", 8, Charset::Size);
id_type!(/// An order: a ULID, so ids sort by creation time.
    OrderId, "order", 40, Charset::Sku);
id_type!(/// A refund: `{order}-R{nn}` for the order's n-th refund request, `{order}-P{hash}`
    /// for a payment that could not be applied. Deterministic, so a retry names the same
    /// refund, and used as the provider's refund number (it refunds once per number).
    RefundId, "refund", 64, Charset::Sku);
id_type!(/// The payment provider's reference for one payment (e.g. a WeChat Pay transaction id).
    PaymentRef, "payment_ref", 64, Charset::Sku);
id_type!(/// A group buy: `G` and a ULID.
    GroupBuyId, "group_buy", 40, Charset::Sku);
id_type!(/// The client's `Idempotency-Key` for one logical request.
    IdempotencyKey, "Idempotency-Key", 64, Charset::Sku);
id_type!(/// An assist offer of a campaign, chosen by ops, e.g. `three-friends`.
    AssistOfferId, "offer", 40, Charset::Slug);
id_type!(/// A member's assist: `A` and a ULID.
    AssistId, "assist", 40, Charset::Sku);
id_type!(/// A try-on visit: `V`, its store's local date and slot (`V202611231030`), and a ULID,
    /// so the id alone finds the store's day it is listed under.
    VisitId, "visit", 48, Charset::Sku);
id_type!(/// A carrier, as the tracking aggregator codes it: `sf`, `zto`, `yto`, `ems`, `jd`, or
    /// `same-city` for a store's own same-city rider.
    CarrierId, "carrier", 24, Charset::Slug);
id_type!(/// A carrier's waybill number (运单号), unique per carrier.
    Waybill, "waybill", 40, Charset::Sku);

impl OrderId {
    /// A new order id that sorts after every id this process made before, so a buyer's
    /// orders list newest first even within one millisecond.
    pub fn generate(now: chrono::DateTime<chrono::Utc>) -> Self {
        static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
        let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
        let generator = guard.get_or_insert_with(ulid::Generator::new);
        let at: std::time::SystemTime = now.into();
        let id = generator
            .generate_from_datetime(at)
            .unwrap_or_else(|_| ulid::Ulid::from_datetime(at));
        OrderId(id.to_string())
    }
}

impl AssistId {
    pub fn generate(now: chrono::DateTime<chrono::Utc>) -> Self {
        let at: std::time::SystemTime = now.into();
        AssistId(format!("A{}", ulid::Ulid::from_datetime(at)))
    }
}

impl VisitId {
    pub fn generate(
        date: chrono::NaiveDate,
        slot: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let at: std::time::SystemTime = now.into();
        VisitId(format!(
            "V{}{slot}{}",
            date.format("%Y%m%d"),
            ulid::Ulid::from_datetime(at)
        ))
    }
}

impl GroupBuyId {
    pub fn generate(now: chrono::DateTime<chrono::Utc>) -> Self {
        let at: std::time::SystemTime = now.into();
        GroupBuyId(format!("G{}", ulid::Ulid::from_datetime(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_the_key_separator_and_empty_values() {
        assert!(CampaignId::parse("summer-clearance").is_ok());
        assert!(CampaignId::parse("a#b").is_err());
        assert!(CampaignId::parse("").is_err());
        assert!(CampaignId::parse("-x").is_err());
        assert!(CampaignId::parse("Upper").is_err());
        assert!(Sku::parse("SD-1001_B").is_ok());
        assert!(Sku::parse("SD#1").is_err());
        assert!(Size::parse("38.5").is_ok());
        assert!(Size::parse("38 5").is_err());
        assert!(UserId::parse("u-1@x|y").is_ok());
        assert!(UserId::parse("a#b").is_err());
    }

    #[test]
    fn id_errors_name_their_field() {
        let err = StoreId::parse("BAD").unwrap_err();
        assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "store"));
    }
}
