//! Money is an integer number of fen (1 yuan = 100 fen). No floats anywhere: every sum,
//! discount and refund is exact.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount any single price, total or discount may be: 100 million yuan.
/// Anything above is a typo or an attack, not a shoe.
pub const MAX_FEN: i64 = 10_000_000_000;

/// A non-negative amount of money in fen.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn new(fen: i64) -> Result<Self, String> {
        if fen < 0 {
            Err("must not be negative".into())
        } else if fen > MAX_FEN {
            Err(format!("must be at most {MAX_FEN} fen"))
        } else {
            Ok(Fen(fen))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).and_then(|v| Fen::new(v).ok())
    }

    /// Subtraction that stops at zero: a discount never makes a price negative.
    pub fn saturating_sub(self, other: Fen) -> Fen {
        Fen((self.0 - other.0).max(0))
    }

    pub fn checked_mul(self, n: u32) -> Option<Fen> {
        self.0
            .checked_mul(i64::from(n))
            .and_then(|v| Fen::new(v).ok())
    }
}

impl TryFrom<i64> for Fen {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        Fen::new(v)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl utoipa::PartialSchema for Fen {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(0))
            .maximum(Some(MAX_FEN))
            .description(Some("integer fen (1 CNY = 100 fen)"))
            .into()
    }
}
impl utoipa::ToSchema for Fen {}

/// A count of units: stock held by a store, or units in a cart line.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "u32")]
pub struct Units(u32);

impl Units {
    /// No single store contributes more than this of one size; larger is a typo.
    pub const MAX: u32 = 100_000;

    pub fn new(n: i64) -> Result<Self, String> {
        if n < 0 {
            Err("must not be negative".into())
        } else if n > i64::from(Self::MAX) {
            Err(format!("must be at most {}", Self::MAX))
        } else {
            Ok(Units(n as u32))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Units {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        Units::new(v)
    }
}

impl From<Units> for u32 {
    fn from(u: Units) -> u32 {
        u.0
    }
}

impl utoipa::PartialSchema for Units {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .maximum(Some(Units::MAX))
            .into()
    }
}
impl utoipa::ToSchema for Units {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_refuses_negative_and_absurd_amounts() {
        assert!(Fen::new(-1).is_err());
        assert!(Fen::new(MAX_FEN + 1).is_err());
        assert_eq!(Fen::new(12_900).map(Fen::get), Ok(12_900));
        assert_eq!(
            Fen::new(12_905).map(|f| f.to_string()),
            Ok("¥129.05".into())
        );
    }

    #[test]
    fn fen_arithmetic_is_exact_and_never_negative() {
        let a = Fen(500);
        assert_eq!(a.saturating_sub(Fen(700)), Fen::ZERO);
        assert_eq!(a.checked_add(Fen(1)), Some(Fen(501)));
        assert_eq!(Fen(MAX_FEN).checked_add(Fen(1)), None);
        assert_eq!(a.checked_mul(3), Some(Fen(1500)));
    }

    #[test]
    fn units_are_bounded() {
        assert!(Units::new(-3).is_err());
        assert!(Units::new(100_001).is_err());
        assert_eq!(Units::new(7).map(Units::get), Ok(7));
    }
}
