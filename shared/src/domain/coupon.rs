//! Coupons: the templates operators offer (so much off over a threshold, a budget, a
//! per-buyer allowance) and the coupons buyers claim from them. Pricing applies them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{CampaignId, CouponTemplateId, OrderId};
use super::money::Fen;
use super::tenancy::Tenant;
use super::text::validate_name;
use super::DomainError;

/// A coupon template: `off_fen` off an order of at least `min_spend_fen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponTemplate {
    pub id: CouponTemplateId,
    pub name: String,
    pub off_fen: Fen,
    /// 0 for a no-threshold coupon.
    pub min_spend_fen: Fen,
    /// How many one buyer may claim.
    pub per_buyer: u32,
    /// How many may be claimed in all.
    pub budget: u32,
    /// A member coupon's price in the brand's points (0: free).
    #[serde(default)]
    pub points_price: u32,
    /// The member level it asks (0: anyone).
    #[serde(default)]
    pub min_level: u8,
    pub updated_at: DateTime<Utc>,
}

impl CouponTemplate {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_name("name", &self.name, 60)?;
        if self.off_fen == Fen::ZERO {
            return Err(DomainError::invalid("off_fen", "must be more than 0"));
        }
        if self.min_spend_fen != Fen::ZERO && self.off_fen >= self.min_spend_fen {
            return Err(DomainError::invalid(
                "off_fen",
                "must be less than min_spend_fen",
            ));
        }
        if self.points_price > 1_000_000 {
            return Err(DomainError::invalid(
                "points_price",
                "at most 1,000,000 points",
            ));
        }
        if self.min_level > 9 {
            return Err(DomainError::invalid("min_level", "must be 0 to 9"));
        }
        if !(1..=100).contains(&self.per_buyer) {
            return Err(DomainError::invalid(
                "per_buyer",
                "must be between 1 and 100",
            ));
        }
        if !(1..=10_000_000).contains(&self.budget) {
            return Err(DomainError::invalid(
                "budget",
                "must be between 1 and 10000000",
            ));
        }
        Ok(())
    }
}

/// A buyer's claimed coupon as stored: `{template}.{n}` is what the buyer names in an
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BuyerCoupon {
    pub id: String,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub template: CouponTemplateId,
    pub name: String,
    pub off_fen: Fen,
    pub min_spend_fen: Fen,
    pub status: CouponStatus,
    pub order: Option<OrderId>,
    pub claimed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    Available,
    Redeemed,
}

/// A buyer's coupon id, `{template}.{n}` (n from 1), split into its parts.
pub fn parse_coupon_id(id: &str) -> Option<(CouponTemplateId, u32)> {
    let (tpl, n) = id.rsplit_once('.')?;
    Some((
        CouponTemplateId::parse(tpl).ok()?,
        n.parse().ok().filter(|n| *n >= 1)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupon_templates_need_a_real_threshold() {
        let t = CouponTemplate {
            id: CouponTemplateId::parse("c50").unwrap(),
            name: "50 off over 500".into(),
            off_fen: Fen::new(5_000).unwrap(),
            min_spend_fen: Fen::new(50_000).unwrap(),
            per_buyer: 1,
            budget: 1000,
            points_price: 0,
            min_level: 0,
            updated_at: Utc::now(),
        };
        assert!(t.validate().is_ok());
        let bad = CouponTemplate {
            off_fen: Fen::new(60_000).unwrap(),
            ..t.clone()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn coupon_ids_name_their_template_and_number() {
        assert_eq!(
            parse_coupon_id("over-500-50.2"),
            Some((CouponTemplateId::parse("over-500-50").unwrap(), 2))
        );
        assert_eq!(parse_coupon_id("c20.0"), None);
        assert_eq!(parse_coupon_id("c20"), None);
        assert_eq!(parse_coupon_id("C#20.1"), None);
    }
}
