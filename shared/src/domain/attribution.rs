//! Guide attribution: signed share links, the rule that credits a sale to a guide and
//! their store (fixed on the order when it is placed), and the commission each sale
//! earns as it is paid, refunded and confirmed.
//!
//! A share link's token is its claims (tenant, guide, store, campaign, optional listing
//! or group, issue and expiry times) with the full HMAC-SHA256 tag over them. A forged,
//! truncated, expired, other-tenant or other-campaign token credits nobody, and the
//! order says why; the sale itself goes ahead.
//!
//! Rules, per campaign: **last touch** (the link the buyer arrived with, within its
//! validity) or **binding** (the first guide who brought a buyer keeps them for a
//! protection period, whatever link they come back with).
//!
//! Commission is a pure function of the facts of a sale ([`Sale`]): what was paid per
//! line, what was refunded (by refund id), and whether its return window had closed
//! (confirmation). Events carry facts; applying one twice, or in any order, ends the
//! same, so a refund that arrives before its payment counts exactly as if it came
//! after. Pending commission becomes confirmed when the window closes; a refund after
//! that is a clawback (a negative entry), never silently forgiven.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

use super::ids::{CampaignId, GroupBuyId, GuideId, OrderId, Sku, StoreId};
use super::money::Fen;
use super::signing::{hex, mac, unhex};
use super::tenancy::Tenant;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    #[default]
    LastTouch,
    Binding,
    /// Not a campaign's rule: a sale after a try-on visit, credited to the guide who
    /// checked the visitor in (whatever the campaign's rule, unless a binding holds).
    InStoreTrial,
}

/// A campaign's attribution terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributionPolicy {
    pub rule: Rule,
    /// Days a binding protects a guide's buyer (binding rule).
    pub protection_days: u32,
    /// Days a share link stays valid.
    pub link_days: u32,
    /// Commission on what the buyer paid, in basis points (300 = 3 %).
    pub commission_bp: u32,
}

impl Default for AttributionPolicy {
    fn default() -> Self {
        AttributionPolicy {
            rule: Rule::LastTouch,
            protection_days: 15,
            link_days: 7,
            commission_bp: 300,
        }
    }
}

impl AttributionPolicy {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.rule == Rule::InStoreTrial {
            return Err(DomainError::invalid(
                "attribution.rule",
                "last_touch or binding (in_store_trial follows a try-on visit by itself)",
            ));
        }
        if !(1..=90).contains(&self.protection_days) {
            return Err(DomainError::invalid(
                "attribution.protection_days",
                "between 1 and 90",
            ));
        }
        if !(1..=31).contains(&self.link_days) {
            return Err(DomainError::invalid(
                "attribution.link_days",
                "between 1 and 31",
            ));
        }
        if self.commission_bp > 3_000 {
            return Err(DomainError::invalid(
                "attribution.commission_bp",
                "at most 3000 (30 %)",
            ));
        }
        Ok(())
    }
}

/// What a share link points at, beyond its campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareTarget {
    Listing(Sku),
    #[serde(rename = "group_buy")]
    Group(GroupBuyId),
}

/// What a share link says, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareClaims {
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub guide: GuideId,
    pub store: StoreId,
    pub campaign: CampaignId,
    pub target: Option<ShareTarget>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A signed share link, as a guide shares it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLink {
    /// What the buyer's order carries as `share_token`.
    pub token: String,
    /// The link to share.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub claims: ShareClaims,
}

impl ShareLink {
    /// Signs `claims` into the link buyers open under `base` (the mini program's web
    /// entry): the campaign, the product or the group it points to, and its token.
    pub fn sign(secret: &[u8], base: &str, claims: ShareClaims) -> ShareLink {
        let token = sign_share(secret, &claims);
        let t = &claims.tenant;
        let base = format!("{base}/{}/{}/c/{}", t.brand, t.group, claims.campaign);
        let url = match &claims.target {
            Some(ShareTarget::Listing(sku)) => format!("{base}/p/{sku}?share={token}"),
            Some(ShareTarget::Group(g)) => format!("{base}/g/{g}?share={token}"),
            None => format!("{base}?share={token}"),
        };
        ShareLink {
            token,
            url,
            expires_at: claims.expires_at,
            claims,
        }
    }
}

/// Why a share link credits nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkRejection {
    Malformed,
    /// The signature does not verify (or is not the whole tag).
    Forged,
    Expired,
    OtherTenant,
    OtherCampaign,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A share token: base64url of the claims, a dot, the full HMAC-SHA256 tag in hex.
pub fn sign_share(secret: &[u8], claims: &ShareClaims) -> String {
    use base64::Engine;
    use hmac::Mac;
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let tag = mac(secret, format!("share2|{payload}").as_bytes())
        .finalize()
        .into_bytes();
    format!("{payload}.{}", hex(&tag))
}

/// The claims of a token we signed, for this tenant and campaign, still valid at `now`.
pub fn verify_share(
    secret: &[u8],
    token: &str,
    tenant: &Tenant,
    campaign: &CampaignId,
    now: DateTime<Utc>,
) -> Result<ShareClaims, LinkRejection> {
    use base64::Engine;
    use hmac::Mac;
    if secret.is_empty() {
        return Err(LinkRejection::Forged);
    }
    let (payload, tag) = token.rsplit_once('.').ok_or(LinkRejection::Malformed)?;
    let tag = unhex(tag).ok_or(LinkRejection::Malformed)?;
    // The whole tag, never a prefix: a one-byte tag would fall to 256 guesses.
    mac(secret, format!("share2|{payload}").as_bytes())
        .verify_slice(&tag)
        .map_err(|_| LinkRejection::Forged)?;
    let bytes = B64.decode(payload).map_err(|_| LinkRejection::Malformed)?;
    let claims: ShareClaims =
        serde_json::from_slice(&bytes).map_err(|_| LinkRejection::Malformed)?;
    if &claims.tenant != tenant {
        return Err(LinkRejection::OtherTenant);
    }
    if &claims.campaign != campaign {
        return Err(LinkRejection::OtherCampaign);
    }
    if now >= claims.expires_at || now < claims.issued_at - Duration::minutes(5) {
        return Err(LinkRejection::Expired);
    }
    Ok(claims)
}

/// Why a sale is (or is not) credited to a guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The link the buyer arrived with.
    Link,
    /// The guide the buyer is bound to (binding rule).
    Bound,
    NoLink,
    LinkMalformed,
    LinkForged,
    LinkExpired,
    LinkOtherTenant,
    LinkOtherCampaign,
    /// The link's guide is no longer a guide of this tenant.
    GuideGone,
    /// The link's guide works at a store that does not take part in the campaign.
    GuideNotInCampaign,
    /// The buyer is the link's guide: nobody earns on their own purchase.
    SelfReferral,
    /// Placed during a try-on visit the guide checked the buyer in to, for a SKU tried.
    TriedInStore,
}

impl From<LinkRejection> for Reason {
    fn from(r: LinkRejection) -> Self {
        match r {
            LinkRejection::Malformed => Reason::LinkMalformed,
            LinkRejection::Forged => Reason::LinkForged,
            LinkRejection::Expired => Reason::LinkExpired,
            LinkRejection::OtherTenant => Reason::LinkOtherTenant,
            LinkRejection::OtherCampaign => Reason::LinkOtherCampaign,
        }
    }
}

/// Who a sale is credited to, fixed on the order when it is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attribution {
    pub guide: Option<GuideId>,
    pub store: Option<StoreId>,
    pub rule: Rule,
    pub reason: Reason,
    /// The commission rate, fixed with the sale.
    pub commission_bp: u32,
    /// The try-on visit it followed (rule `in_store_trial`), else null.
    #[serde(default)]
    pub visit: Option<super::ids::VisitId>,
    /// Binding rule, a sale through a link: once paid, it binds the buyer to the guide
    /// for this many days (unless a binding already holds them). 0: it binds nobody.
    #[serde(default)]
    pub binds_days: u32,
}

/// A buyer kept by the guide who first brought them (binding rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub guide: GuideId,
    pub store: StoreId,
    pub until: DateTime<Utc>,
}

/// The guide of a verified share link, as the sale's decision needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkGuide {
    /// Their store now (links carry the store at signing; the guide may have moved).
    pub store: StoreId,
    /// Their login: a guide buying through their own link earns nothing.
    pub user: super::ids::UserId,
}

/// The guide who checked the buyer in to a try-on visit, as a sale during it is
/// credited (see `domain::visit::trial_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialGuide {
    pub visit: super::ids::VisitId,
    pub guide: GuideId,
    /// The visit's store (a campaign store: visits are booked only there).
    pub store: StoreId,
    pub user: super::ids::UserId,
}

/// Decides who a sale is credited to. `link` is the verified share link (or why it
/// was refused); `guide` the link's guide as they are now, if they are still a guide
/// here; `campaign_stores` the stores taking part; `binding` the buyer's binding, if
/// any; `trial` the guide of a try-on visit the sale follows. A paid sale through a
/// link under the binding rule binds the buyer ([`Attribution::binds_days`]); nothing
/// binds before it is paid.
///
/// Precedence: a live binding (binding rule) first, since it protects the guide who
/// brought the buyer; then a try-on visit (rule `in_store_trial`: the latest touch,
/// in person, and it binds nobody); then the link; else nobody.
#[allow(clippy::too_many_arguments)]
pub fn attribute(
    policy: &AttributionPolicy,
    link: Option<Result<ShareClaims, LinkRejection>>,
    guide: Option<&LinkGuide>,
    buyer: &super::ids::UserId,
    campaign_stores: &[StoreId],
    binding: Option<&Binding>,
    trial: Option<&TrialGuide>,
    now: DateTime<Utc>,
) -> Attribution {
    let base = |guide, store, reason| Attribution {
        guide,
        store,
        rule: policy.rule,
        reason,
        commission_bp: policy.commission_bp,
        visit: None,
        binds_days: 0,
    };
    if policy.rule == Rule::Binding {
        if let Some(b) = binding.filter(|b| now < b.until) {
            return base(Some(b.guide.clone()), Some(b.store.clone()), Reason::Bound);
        }
    }
    if let Some(v) = trial.filter(|v| &v.user != buyer) {
        return Attribution {
            rule: Rule::InStoreTrial,
            visit: Some(v.visit.clone()),
            ..base(
                Some(v.guide.clone()),
                Some(v.store.clone()),
                Reason::TriedInStore,
            )
        };
    }
    match (link, guide) {
        (None, _) => base(None, None, Reason::NoLink),
        (Some(Err(why)), _) => base(None, None, why.into()),
        (Some(Ok(_)), None) => base(None, None, Reason::GuideGone),
        (Some(Ok(_)), Some(g)) if &g.user == buyer => base(None, None, Reason::SelfReferral),
        (Some(Ok(_)), Some(g)) if !campaign_stores.contains(&g.store) => {
            base(None, None, Reason::GuideNotInCampaign)
        }
        (Some(Ok(claims)), Some(g)) => Attribution {
            binds_days: if policy.rule == Rule::Binding {
                policy.protection_days
            } else {
                0
            },
            ..base(Some(claims.guide), Some(g.store.clone()), Reason::Link)
        },
    }
}

/// The binding a paid sale creates, if it binds and `current` (the buyer's binding
/// as read) does not still hold them.
pub fn binding_on_payment(
    a: &Attribution,
    current: Option<&Binding>,
    now: DateTime<Utc>,
) -> Option<Binding> {
    if a.binds_days == 0 || a.reason != Reason::Link || current.is_some_and(|b| now < b.until) {
        return None;
    }
    Some(Binding {
        guide: a.guide.clone()?,
        store: a.store.clone()?,
        until: now + Duration::days(i64::from(a.binds_days)),
    })
}

/// What one order event says about a sale (see `queue::messages::OrderEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaleFact {
    /// Paid: per line, units and the amount paid; whether it was the buyer's first
    /// paid order in the tenant.
    Paid {
        lines: Vec<(u32, Fen)>,
        new_buyer: bool,
    },
    /// Refunded: per line index, units and amount.
    Refunded {
        refund: String,
        lines: Vec<(usize, u32, Fen)>,
    },
    /// The lines' return window closed at this time.
    Confirmed { at: DateTime<Utc> },
}

/// A sale as attribution knows it: the facts so far, and which events brought them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Sale {
    pub order: Option<OrderId>,
    /// Per line: units and amount paid (empty until the payment event).
    pub paid: Vec<(u32, Fen)>,
    /// The buyer's first paid order in the tenant: its guide brought a new buyer.
    #[serde(default)]
    pub new_buyer: bool,
    /// Per refund id: per line index, units and amount.
    pub refunds: BTreeMap<String, Vec<(usize, u32, Fen)>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Refunds that were in when the sale was confirmed: the rest are clawbacks.
    pub refunds_before_confirmation: BTreeSet<String>,
    /// Every event applied (duplicates change nothing).
    pub events: BTreeSet<String>,
}

/// One guide's or store's figures, or the change one event makes to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub orders: i64,
    pub units: i64,
    pub gmv_fen: i64,
    pub refunded_fen: i64,
    pub commission_pending_fen: i64,
    pub commission_confirmed_fen: i64,
    /// Clawbacks of confirmed commission (refunds after the window closed).
    pub commission_reversed_fen: i64,
    pub new_buyers: i64,
    /// Members whose first sale credited in the brand was theirs (once per member per
    /// brand): counted by the member worker.
    #[serde(default)]
    pub new_members: i64,
}

impl Totals {
    pub fn net_gmv_fen(&self) -> i64 {
        self.gmv_fen - self.refunded_fen
    }

    pub fn minus(&self, o: &Totals) -> Totals {
        Totals {
            orders: self.orders - o.orders,
            units: self.units - o.units,
            gmv_fen: self.gmv_fen - o.gmv_fen,
            refunded_fen: self.refunded_fen - o.refunded_fen,
            commission_pending_fen: self.commission_pending_fen - o.commission_pending_fen,
            commission_confirmed_fen: self.commission_confirmed_fen - o.commission_confirmed_fen,
            commission_reversed_fen: self.commission_reversed_fen - o.commission_reversed_fen,
            new_buyers: self.new_buyers - o.new_buyers,
            new_members: self.new_members - o.new_members,
        }
    }

    pub fn plus(&self, o: &Totals) -> Totals {
        Totals {
            orders: self.orders + o.orders,
            units: self.units + o.units,
            gmv_fen: self.gmv_fen + o.gmv_fen,
            refunded_fen: self.refunded_fen + o.refunded_fen,
            commission_pending_fen: self.commission_pending_fen + o.commission_pending_fen,
            commission_confirmed_fen: self.commission_confirmed_fen + o.commission_confirmed_fen,
            commission_reversed_fen: self.commission_reversed_fen + o.commission_reversed_fen,
            new_buyers: self.new_buyers + o.new_buyers,
            new_members: self.new_members + o.new_members,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Totals::default()
    }
}

/// Commission on `amount` at `bp` basis points, rounded down to the fen.
pub fn commission(amount: i64, bp: u32) -> i64 {
    amount * i64::from(bp) / 10_000
}

impl Sale {
    /// Applies an event; false when it was applied before.
    pub fn apply(&mut self, event: &str, fact: &SaleFact) -> bool {
        if !self.events.insert(event.to_owned()) {
            return false;
        }
        match fact {
            SaleFact::Paid { lines, new_buyer } => {
                if self.paid.is_empty() {
                    self.paid = lines.clone();
                    self.new_buyer = *new_buyer;
                }
            }
            SaleFact::Refunded { refund, lines } => {
                self.refunds
                    .entry(refund.clone())
                    .or_insert_with(|| lines.clone());
            }
            SaleFact::Confirmed { at } => {
                if self.confirmed_at.is_none() {
                    self.confirmed_at = Some(*at);
                    self.refunds_before_confirmation = self.refunds.keys().cloned().collect();
                }
            }
        }
        true
    }

    /// Refunded amount per line, over the refunds in `which`.
    fn refunded_by_line(&self, which: impl Fn(&str) -> bool) -> Vec<i64> {
        let mut by_line = vec![0i64; self.paid.len()];
        for (id, lines) in &self.refunds {
            if !which(id) {
                continue;
            }
            for (line, _, amount) in lines {
                if let Some(r) = by_line.get_mut(*line) {
                    *r += amount.get();
                }
            }
        }
        by_line
    }

    /// Commission given back on refunds in `which`: per line, in proportion to the
    /// refunded share of what was paid, so a line refunded in full gives back exactly
    /// its commission.
    fn commission_refunded(&self, bp: u32, which: impl Fn(&str) -> bool) -> i64 {
        self.refunded_by_line(which)
            .iter()
            .zip(&self.paid)
            .map(|(refunded, (_, paid))| {
                let paid = paid.get();
                if paid == 0 {
                    return 0;
                }
                let refunded = (*refunded).min(paid);
                commission(paid, bp) * refunded / paid
            })
            .sum()
    }

    /// The sale's figures at `bp` (nothing until it is paid).
    pub fn totals(&self, bp: u32) -> Totals {
        if self.paid.is_empty() {
            return Totals::default();
        }
        let gross: i64 = self.paid.iter().map(|(_, a)| commission(a.get(), bp)).sum();
        let all_refunds = self.commission_refunded(bp, |_| true);
        let refunded_fen: i64 = self.refunded_by_line(|_| true).iter().sum();
        let gmv_fen: i64 = self.paid.iter().map(|(_, a)| a.get()).sum();
        let mut t = Totals {
            orders: 1,
            units: self.paid.iter().map(|(u, _)| i64::from(*u)).sum(),
            gmv_fen,
            refunded_fen: refunded_fen.min(gmv_fen),
            new_buyers: i64::from(self.new_buyer),
            ..Totals::default()
        };
        match self.confirmed_at {
            None => t.commission_pending_fen = gross - all_refunds,
            Some(_) => {
                let before = self
                    .commission_refunded(bp, |id| self.refunds_before_confirmation.contains(id));
                t.commission_confirmed_fen = gross - before;
                t.commission_reversed_fen = all_refunds - before;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_try_on_visit_comes_after_a_live_binding_and_before_the_link_and_no_campaign_takes_it_as_its_rule(
    ) {
        let now = t("2026-11-23T03:00:00Z");
        let buyer = super::super::ids::UserId::parse("buyer").unwrap();
        let trial = TrialGuide {
            visit: super::super::ids::VisitId::parse("V202611231100X").unwrap(),
            guide: GuideId::parse("g2").unwrap(),
            store: StoreId::parse("s2").unwrap(),
            user: super::super::ids::UserId::parse("g2-user").unwrap(),
        };
        let link_guide = LinkGuide {
            store: StoreId::parse("s1").unwrap(),
            user: super::super::ids::UserId::parse("g1-user").unwrap(),
        };
        let stores = [StoreId::parse("s1").unwrap(), StoreId::parse("s2").unwrap()];
        let policy = AttributionPolicy::default();
        let link = || Some(Ok(claims(now)));
        // the visit over the link
        let a = attribute(
            &policy,
            link(),
            Some(&link_guide),
            &buyer,
            &stores,
            None,
            Some(&trial),
            now,
        );
        assert_eq!(
            (a.rule, a.reason, a.guide),
            (
                Rule::InStoreTrial,
                Reason::TriedInStore,
                Some(trial.guide.clone())
            )
        );
        assert_eq!((a.visit.as_ref(), a.binds_days), (Some(&trial.visit), 0));
        // a live binding over the visit
        let binding = Binding {
            guide: GuideId::parse("g9").unwrap(),
            store: StoreId::parse("s1").unwrap(),
            until: now + Duration::days(1),
        };
        let bound = AttributionPolicy {
            rule: Rule::Binding,
            ..AttributionPolicy::default()
        };
        let a = attribute(
            &bound,
            link(),
            Some(&link_guide),
            &buyer,
            &stores,
            Some(&binding),
            Some(&trial),
            now,
        );
        assert_eq!((a.reason, a.visit), (Reason::Bound, None));
        // a guide checking in their own visit earns nothing by it: the link decides
        let own = TrialGuide {
            user: buyer.clone(),
            ..trial
        };
        let a = attribute(
            &policy,
            link(),
            Some(&link_guide),
            &buyer,
            &stores,
            None,
            Some(&own),
            now,
        );
        assert_eq!(a.reason, Reason::Link);
        // and no campaign takes in_store_trial as its rule
        let as_rule = AttributionPolicy {
            rule: Rule::InStoreTrial,
            ..AttributionPolicy::default()
        };
        assert!(as_rule.validate().is_err());
    }

    fn claims(now: DateTime<Utc>) -> ShareClaims {
        ShareClaims {
            tenant: Tenant::parse("demo", "x").unwrap(),
            guide: GuideId::parse("g1").unwrap(),
            store: StoreId::parse("s1").unwrap(),
            campaign: CampaignId::parse("c").unwrap(),
            target: None,
            issued_at: now,
            expires_at: now + Duration::days(7),
        }
    }

    #[test]
    fn a_share_link_verifies_only_whole_unexpired_and_for_its_tenant_and_campaign() {
        let now = t("2026-11-23T03:00:00Z");
        let c = claims(now);
        let token = sign_share(b"k", &c);
        let (tenant, campaign) = (c.tenant.clone(), c.campaign.clone());
        assert_eq!(
            verify_share(b"k", &token, &tenant, &campaign, now),
            Ok(c.clone())
        );
        let (payload, tag) = token.rsplit_once('.').unwrap();
        for bytes in 1..32 {
            let cut = format!("{payload}.{}", &tag[..bytes * 2]);
            assert_eq!(
                verify_share(b"k", &cut, &tenant, &campaign, now),
                Err(LinkRejection::Forged),
                "{bytes}"
            );
        }
        assert_eq!(
            verify_share(b"other", &token, &tenant, &campaign, now),
            Err(LinkRejection::Forged)
        );
        let expired = now + Duration::days(7);
        assert_eq!(
            verify_share(b"k", &token, &tenant, &campaign, expired),
            Err(LinkRejection::Expired)
        );
        let elsewhere = Tenant::parse("demo", "y").unwrap();
        assert_eq!(
            verify_share(b"k", &token, &elsewhere, &campaign, now),
            Err(LinkRejection::OtherTenant)
        );
        let other = CampaignId::parse("d").unwrap();
        assert_eq!(
            verify_share(b"k", &token, &tenant, &other, now),
            Err(LinkRejection::OtherCampaign)
        );
        // claims edited after signing: the tag no longer matches
        let mut forged = c.clone();
        forged.guide = GuideId::parse("g2").unwrap();
        let edited = format!(
            "{}.{tag}",
            sign_share(b"k", &forged).rsplit_once('.').unwrap().0
        );
        assert_eq!(
            verify_share(b"k", &edited, &tenant, &campaign, now),
            Err(LinkRejection::Forged)
        );
        assert_eq!(
            verify_share(b"k", "junk", &tenant, &campaign, now),
            Err(LinkRejection::Malformed)
        );
    }

    #[test]
    fn the_rule_credits_the_link_or_the_binding_and_says_why_not() {
        let now = t("2026-11-23T03:00:00Z");
        let store = StoreId::parse("s1").unwrap();
        let stores = [store.clone()];
        let buyer = crate::domain::ids::UserId::parse("b1").unwrap();
        let guide = LinkGuide {
            store: store.clone(),
            user: crate::domain::ids::UserId::parse("g1-user").unwrap(),
        };
        let last = AttributionPolicy::default();
        let credit = |policy: &AttributionPolicy,
                      link: Option<Result<ShareClaims, LinkRejection>>,
                      guide: Option<&LinkGuide>,
                      buyer: &crate::domain::ids::UserId,
                      binding: Option<&Binding>,
                      at: DateTime<Utc>| {
            attribute(policy, link, guide, buyer, &stores, binding, None, at)
        };
        let a = credit(
            &last,
            Some(Ok(claims(now))),
            Some(&guide),
            &buyer,
            None,
            now,
        );
        assert_eq!(
            (a.guide.as_ref().map(|g| g.as_str()), a.reason, a.binds_days),
            (Some("g1"), Reason::Link, 0)
        );
        let a = credit(
            &last,
            Some(Err(LinkRejection::Forged)),
            Some(&guide),
            &buyer,
            None,
            now,
        );
        assert_eq!((a.guide, a.reason), (None, Reason::LinkForged));
        let a = credit(&last, None, None, &buyer, None, now);
        assert_eq!(a.reason, Reason::NoLink);
        let a = credit(&last, Some(Ok(claims(now))), None, &buyer, None, now);
        assert_eq!(a.reason, Reason::GuideGone);
        // the guide's own purchase, and a guide whose store is not in the campaign
        let a = credit(
            &last,
            Some(Ok(claims(now))),
            Some(&guide),
            &guide.user,
            None,
            now,
        );
        assert_eq!((a.guide, a.reason), (None, Reason::SelfReferral));
        let elsewhere = LinkGuide {
            store: StoreId::parse("s9").unwrap(),
            ..guide.clone()
        };
        let a = credit(
            &last,
            Some(Ok(claims(now))),
            Some(&elsewhere),
            &buyer,
            None,
            now,
        );
        assert_eq!((a.guide, a.reason), (None, Reason::GuideNotInCampaign));
        // binding: a paid sale through a link binds for the protection period
        let binding = AttributionPolicy {
            rule: Rule::Binding,
            ..last
        };
        let a = credit(
            &binding,
            Some(Ok(claims(now))),
            Some(&guide),
            &buyer,
            None,
            now,
        );
        assert_eq!((a.reason, a.binds_days), (Reason::Link, 15));
        let bind = binding_on_payment(&a, None, now).unwrap();
        assert_eq!(bind.until, now + Duration::days(15));
        let kept = Binding {
            guide: GuideId::parse("g0").unwrap(),
            store: StoreId::parse("s0").unwrap(),
            until: now + Duration::days(1),
        };
        assert_eq!(
            binding_on_payment(&a, Some(&kept), now),
            None,
            "a binding that still holds is kept"
        );
        assert!(binding_on_payment(&a, Some(&kept), now + Duration::days(2)).is_some());
        let a = credit(
            &binding,
            Some(Ok(claims(now))),
            Some(&guide),
            &buyer,
            Some(&kept),
            now,
        );
        assert_eq!(
            (a.guide.unwrap().as_str(), a.reason, a.binds_days),
            ("g0", Reason::Bound, 0)
        );
        let a = credit(
            &binding,
            None,
            None,
            &buyer,
            Some(&kept),
            now + Duration::days(2),
        );
        assert_eq!(a.reason, Reason::NoLink, "the protection ran out");
    }

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    #[test]
    fn commission_is_pending_then_confirmed_and_later_refunds_are_clawed_back() {
        let mut s = Sale::default();
        let paid = SaleFact::Paid {
            lines: vec![(2, fen(20_000)), (1, fen(5_000))],
            new_buyer: true,
        };
        assert!(s.apply("paid", &paid));
        assert!(!s.apply("paid", &paid), "a duplicate changes nothing");
        assert_eq!(s.totals(300).commission_pending_fen, 600 + 150);
        // half of line 0 refunded before the window closed: pending shrinks in proportion
        s.apply(
            "r1",
            &SaleFact::Refunded {
                refund: "r1".into(),
                lines: vec![(0, 1, fen(10_000))],
            },
        );
        let before = s.totals(300);
        assert_eq!(
            (before.commission_pending_fen, before.refunded_fen),
            (450, 10_000)
        );
        s.apply(
            "c",
            &SaleFact::Confirmed {
                at: t("2026-12-01T00:00:00Z"),
            },
        );
        let confirmed = s.totals(300);
        assert_eq!(
            (
                confirmed.commission_pending_fen,
                confirmed.commission_confirmed_fen
            ),
            (0, 450)
        );
        // a refund after confirmation is a clawback, not forgiven
        s.apply(
            "r2",
            &SaleFact::Refunded {
                refund: "r2".into(),
                lines: vec![(1, 1, fen(5_000))],
            },
        );
        let after = s.totals(300);
        assert_eq!(
            (
                after.commission_confirmed_fen,
                after.commission_reversed_fen
            ),
            (450, 150)
        );
        assert_eq!(after.net_gmv_fen(), 10_000);
    }

    #[test]
    fn events_in_any_order_end_the_same() {
        let paid = SaleFact::Paid {
            lines: vec![(3, fen(29_970))],
            new_buyer: false,
        };
        let r1 = SaleFact::Refunded {
            refund: "r1".into(),
            lines: vec![(0, 1, fen(9_990))],
        };
        let r2 = SaleFact::Refunded {
            refund: "r2".into(),
            lines: vec![(0, 2, fen(19_980))],
        };
        let events = [("p", &paid), ("r1", &r1), ("r2", &r2)];
        let orders = [
            [0, 1, 2],
            [1, 0, 2],
            [2, 1, 0],
            [1, 2, 0],
            [0, 2, 1],
            [2, 0, 1],
        ];
        let mut seen = None;
        for order in orders {
            let mut s = Sale::default();
            for i in order {
                s.apply(events[i].0, events[i].1);
                s.apply(events[i].0, events[i].1);
            }
            let totals = s.totals(300);
            assert_eq!(
                totals.commission_pending_fen, 0,
                "fully refunded: nothing owed"
            );
            assert_eq!(*seen.get_or_insert(totals), totals);
        }
    }
}
