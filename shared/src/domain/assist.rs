//! Invite friends to assist (助力): a member starts an assist for a campaign's offer and
//! shares its signed link; when `helpers` distinct people with verified phones have
//! assisted within `hours`, the starter is granted the offer's coupon pack once, in the
//! transaction that takes one pack from the offer's budget.
//!
//! What keeps it hard to farm: a helper is known by their phone's keyed hash, not their
//! account, so a second account on the starter's phone is the starter (`assist-self`),
//! and one phone assists an offer once (`already-assisted`) and at most `daily_cap`
//! times a day across every starter (`daily-cap-reached`, by the group's day in
//! Asia/Shanghai); the offer may ask helpers to be new to the brand (no paid order
//! there). The budget is spread over [`BUDGET_SHARDS`] counters, each taken on
//! condition it has a pack left, so a rush never grants more than the budget; a
//! completion that finds the budget spent is refused (`budget-spent`) and the assist
//! records when, so no assist is left completed without its pack or a reason.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::coupon::CouponTemplate;
use super::ids::{AssistId, AssistOfferId, CampaignId, CouponTemplateId, GuideId, UserId};
use super::tenancy::Tenant;
use super::text::validate_name;
use super::DomainError;

/// Counters an offer's budget is spread over (a hot offer is not capped by one item).
pub const BUDGET_SHARDS: u8 = 4;
/// A pack's coupons are numbered from here (`{template}.{n}`), clear of the 1..=100 a
/// buyer may claim of a template.
pub const PACK_COUPON_FROM: u32 = 101;
/// A template appears at most this often in a pack (the places checkout reads).
pub const PACK_PLACES: u32 = 2;

/// An assist play of a campaign, set by ops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssistOffer {
    pub id: AssistOfferId,
    pub name: String,
    /// Distinct helpers that unlock the pack: 2 to 10.
    pub helpers: u8,
    /// How long an assist stays open (never past the campaign's end): 1 to 72.
    pub hours: u32,
    /// The coupon templates granted together (no-threshold coupons of the campaign).
    pub pack: Vec<CouponTemplateId>,
    /// Packs in all.
    pub budget: u32,
    /// Assists one phone may give a day, across every starter.
    pub daily_cap: u8,
    /// Helpers must have no paid order in the brand (what makes it recruit).
    pub new_to_brand: bool,
    pub updated_at: DateTime<Utc>,
}

impl AssistOffer {
    /// Checks the offer against the campaign's coupon templates.
    pub fn validate(&self, templates: &[CouponTemplate]) -> Result<(), DomainError> {
        validate_name("name", &self.name, 60)?;
        if !(2..=10).contains(&self.helpers) {
            return Err(DomainError::invalid("helpers", "between 2 and 10"));
        }
        if !(1..=72).contains(&self.hours) {
            return Err(DomainError::invalid("hours", "between 1 and 72"));
        }
        if !(1..=1_000_000).contains(&self.budget) {
            return Err(DomainError::invalid("budget", "between 1 and 1000000"));
        }
        if !(1..=20).contains(&self.daily_cap) {
            return Err(DomainError::invalid("daily_cap", "between 1 and 20"));
        }
        if self.pack.is_empty() || self.pack.len() > 5 {
            return Err(DomainError::invalid("pack", "1 to 5 coupon templates"));
        }
        for (i, id) in self.pack.iter().enumerate() {
            if self.pack.iter().filter(|p| *p == id).count() > PACK_PLACES as usize {
                return Err(DomainError::invalid(
                    format!("pack[{i}]"),
                    format!("a template at most {PACK_PLACES} times in a pack"),
                ));
            }
            let tpl = templates.iter().find(|t| &t.id == id).ok_or_else(|| {
                DomainError::invalid(
                    format!("pack[{i}]"),
                    "not a coupon template of the campaign",
                )
            })?;
            if tpl.min_spend_fen.get() != 0 {
                return Err(DomainError::invalid(
                    format!("pack[{i}]"),
                    "a pack holds no-threshold coupons (min_spend_fen 0)",
                ));
            }
        }
        Ok(())
    }

    /// The packs shard `shard` holds: the budget spread evenly, the rest to the first.
    pub fn shard_budget(&self, shard: u8) -> i64 {
        let n = u32::from(BUDGET_SHARDS);
        let base = i64::from(self.budget / n);
        let extra = i64::from(u32::from(shard) < self.budget % n);
        base + extra
    }
}

/// One assist given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Helper {
    pub member: UserId,
    pub at: DateTime<Utc>,
    /// New to the brand when they assisted (a member the play recruited).
    pub new_to_brand: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssistStatus {
    Open,
    /// Enough helpers came: the pack was granted.
    Completed,
    /// Its time ran out first: nothing unlocked, and helpers' quota stays used.
    Expired,
}

/// A member's assist of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assist {
    pub id: AssistId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub offer: AssistOfferId,
    pub starter: UserId,
    /// The starter's phone, as its keyed hash (never shown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub starter_phone: String,
    /// The guide whose link the starter came through (credited as usual when a helper
    /// buys through it: the link travels with the assist's).
    pub guide: Option<GuideId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub guide_link: Option<String>,
    pub needed: u8,
    pub helpers: Vec<Helper>,
    pub status: AssistStatus,
    /// The coupons granted (`{template}.{n}`), once completed.
    pub pack: Vec<String>,
    /// When a completion found the offer's budget spent (the reason it stayed open).
    pub budget_spent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What a helper's assist does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpStep {
    /// Counted; more are needed.
    Counted,
    /// The last one needed: the pack is granted in the same transaction.
    Completes,
}

/// What is known of a helper when they assist.
#[derive(Debug, Clone)]
pub struct HelperFacts<'a> {
    pub member: &'a UserId,
    /// Their verified phone's keyed hash.
    pub phone: &'a str,
    /// This phone's assist of this offer, if it gave one (and to which assist).
    pub assisted: Option<&'a AssistId>,
    /// Assists this phone gave today.
    pub today: u32,
    pub new_to_brand: bool,
}

impl Assist {
    /// A new assist of `offer` by `starter`, open for the offer's hours (never past
    /// `campaign_ends`).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        t: &Tenant,
        campaign: &CampaignId,
        campaign_ends: DateTime<Utc>,
        offer: &AssistOffer,
        starter: &UserId,
        starter_phone: String,
        guide: Option<(GuideId, String)>,
        now: DateTime<Utc>,
    ) -> Result<Assist, DomainError> {
        if now >= campaign_ends {
            return Err(DomainError::conflict(
                "campaign-not-live",
                "the campaign has ended",
            ));
        }
        let (guide, guide_link) = match guide {
            Some((g, link)) => (Some(g), Some(link)),
            None => (None, None),
        };
        Ok(Assist {
            id: AssistId::generate(now),
            tenant: t.clone(),
            campaign: campaign.clone(),
            offer: offer.id.clone(),
            starter: starter.clone(),
            starter_phone,
            guide,
            guide_link,
            needed: offer.helpers,
            helpers: Vec::new(),
            status: AssistStatus::Open,
            pack: Vec::new(),
            budget_spent_at: None,
            created_at: now,
            expires_at: (now + Duration::hours(i64::from(offer.hours))).min(campaign_ends),
            completed_at: None,
            version: 1,
        })
    }

    /// What its share link says.
    pub fn claims(&self) -> AssistClaims {
        AssistClaims {
            tenant: self.tenant.clone(),
            campaign: self.campaign.clone(),
            offer: self.offer.clone(),
            assist: self.id.clone(),
            starter: self.starter.clone(),
            expires_at: self.expires_at,
        }
    }

    /// Whether `member` already counts among its helpers.
    pub fn helped_by(&self, member: &UserId) -> bool {
        self.helpers.iter().any(|h| &h.member == member)
    }

    /// Decides a helper's assist, every refusal its own problem type; `packs_left` is
    /// what the budget's counters hold as read.
    pub fn decide_help(
        &self,
        offer: &AssistOffer,
        h: &HelperFacts<'_>,
        packs_left: i64,
        now: DateTime<Utc>,
    ) -> Result<HelpStep, DomainError> {
        if h.member == &self.starter || h.phone == self.starter_phone {
            return Err(DomainError::conflict(
                "assist-self",
                "the starter cannot assist their own assist, from any account on their phone",
            ));
        }
        if self.status != AssistStatus::Open || now >= self.expires_at {
            return Err(DomainError::conflict(
                "assist-closed",
                match self.status {
                    AssistStatus::Completed => "this assist is complete",
                    _ => "this assist has expired",
                },
            ));
        }
        if h.assisted.is_some() {
            return Err(DomainError::conflict(
                "already-assisted",
                "this phone has already assisted this offer",
            ));
        }
        if h.today >= u32::from(offer.daily_cap) {
            return Err(DomainError::conflict(
                "daily-cap-reached",
                format!("a phone assists at most {} times a day", offer.daily_cap),
            ));
        }
        if offer.new_to_brand && !h.new_to_brand {
            return Err(DomainError::conflict(
                "not-new-to-brand",
                "this offer's helpers are people who have not bought from the brand yet",
            ));
        }
        let completes = self.helpers.len() + 1 >= usize::from(self.needed);
        if completes && packs_left <= 0 {
            return Err(DomainError::conflict(
                "budget-spent",
                "every pack of this offer has been given",
            ));
        }
        Ok(if completes {
            HelpStep::Completes
        } else {
            HelpStep::Counted
        })
    }

    /// Counts the helper (and, completing, grants `pack`).
    pub fn help(
        &mut self,
        h: &HelperFacts<'_>,
        step: HelpStep,
        pack: Vec<String>,
        now: DateTime<Utc>,
    ) {
        self.helpers.push(Helper {
            member: h.member.clone(),
            at: now,
            new_to_brand: h.new_to_brand,
        });
        if step == HelpStep::Completes {
            self.status = AssistStatus::Completed;
            self.completed_at = Some(now);
            self.pack = pack;
        }
        self.version += 1;
    }

    /// Expires it at `now` if its time is up; whether it did.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        if self.status != AssistStatus::Open || now < self.expires_at {
            return false;
        }
        self.status = AssistStatus::Expired;
        self.version += 1;
        true
    }

    /// The coupon ids its pack grants the starter: each template once, numbered from
    /// [`PACK_COUPON_FROM`] (a template twice in a pack takes the next number).
    pub fn pack_ids(offer: &AssistOffer) -> Vec<(CouponTemplateId, u32)> {
        let mut out: Vec<(CouponTemplateId, u32)> = Vec::new();
        for tpl in &offer.pack {
            let n = PACK_COUPON_FROM + out.iter().filter(|(t, _)| t == tpl).count() as u32;
            out.push((tpl.clone(), n));
        }
        out
    }
}

/// The group's day (Asia/Shanghai, UTC+8) `now` falls in: the daily cap's day.
pub fn day_of(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(8)).date_naive()
}

/// What an assist's share link says, signed like guides' links (the full tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssistClaims {
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub offer: AssistOfferId,
    pub assist: AssistId,
    pub starter: UserId,
    pub expires_at: DateTime<Utc>,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// An assist link's token: base64url of the claims, a dot, the HMAC-SHA256 tag (domain
/// separated from guides' links, so one never passes for the other).
pub fn sign_link(secret: &[u8], claims: &AssistClaims) -> String {
    use base64::Engine;
    use hmac::Mac;
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let tag = super::signing::mac(secret, format!("assist1|{payload}").as_bytes())
        .finalize()
        .into_bytes();
    format!("{payload}.{}", super::signing::hex(&tag))
}

/// The claims of an assist link we signed, for this tenant and assist, unexpired.
pub fn verify_link(
    secret: &[u8],
    token: &str,
    tenant: &Tenant,
    assist: &AssistId,
    now: DateTime<Utc>,
) -> Result<AssistClaims, DomainError> {
    use base64::Engine;
    use hmac::Mac;
    let bad = || DomainError::invalid("link", "not a link of this assist");
    if secret.is_empty() {
        return Err(bad());
    }
    let (payload, tag) = token.rsplit_once('.').ok_or_else(bad)?;
    let tag = super::signing::unhex(tag).ok_or_else(bad)?;
    super::signing::mac(secret, format!("assist1|{payload}").as_bytes())
        .verify_slice(&tag)
        .map_err(|_| bad())?;
    let bytes = B64.decode(payload).map_err(|_| bad())?;
    let claims: AssistClaims = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if &claims.tenant != tenant || &claims.assist != assist {
        return Err(bad());
    }
    if now >= claims.expires_at {
        return Err(DomainError::conflict(
            "assist-closed",
            "this assist's link has expired",
        ));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Fen;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap() + Duration::hours(h)
    }

    fn offer() -> AssistOffer {
        AssistOffer {
            id: AssistOfferId::parse("friends").unwrap(),
            name: "3 friends".into(),
            helpers: 3,
            hours: 24,
            pack: vec![CouponTemplateId::parse("free-20").unwrap(); 2],
            budget: 10,
            daily_cap: 3,
            new_to_brand: false,
            updated_at: at(0),
        }
    }

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn started() -> Assist {
        let t = Tenant::parse("demo", "south-china").unwrap();
        let c = CampaignId::parse("c").unwrap();
        Assist::start(
            &t,
            &c,
            at(100),
            &offer(),
            &user("s"),
            "hs".into(),
            None,
            at(0),
        )
        .unwrap()
    }

    fn facts<'a>(m: &'a UserId, phone: &'a str) -> HelperFacts<'a> {
        HelperFacts {
            member: m,
            phone,
            assisted: None,
            today: 0,
            new_to_brand: true,
        }
    }

    fn kind(e: DomainError) -> String {
        match e {
            DomainError::Conflict { kind, .. } => kind.to_string(),
            other => other.to_string(),
        }
    }

    #[test]
    fn three_helpers_complete_it_and_the_third_grants_the_pack() {
        let o = offer();
        let mut a = started();
        for (i, m) in ["h1", "h2", "h3"].iter().enumerate() {
            let m = user(m);
            let phone = format!("p{i}");
            let f = facts(&m, &phone);
            let step = a.decide_help(&o, &f, 5, at(1)).unwrap();
            assert_eq!(step == HelpStep::Completes, i == 2);
            a.help(
                &f,
                step,
                vec!["free-20.101".into(), "free-20.102".into()],
                at(1),
            );
        }
        assert_eq!(a.status, AssistStatus::Completed);
        assert_eq!(a.pack.len(), 2);
        let m = user("h4");
        assert_eq!(
            kind(a.decide_help(&o, &facts(&m, "p9"), 5, at(2)).unwrap_err()),
            "assist-closed"
        );
        assert_eq!(
            Assist::pack_ids(&o),
            vec![
                (CouponTemplateId::parse("free-20").unwrap(), 101),
                (CouponTemplateId::parse("free-20").unwrap(), 102)
            ]
        );
    }

    #[test]
    fn each_refusal_has_its_own_kind() {
        let o = offer();
        let a = started();
        let s = user("s");
        assert_eq!(
            kind(a.decide_help(&o, &facts(&s, "x"), 5, at(1)).unwrap_err()),
            "assist-self"
        );
        let other = user("second-account");
        assert_eq!(
            kind(
                a.decide_help(&o, &facts(&other, "hs"), 5, at(1))
                    .unwrap_err()
            ),
            "assist-self"
        );
        let m = user("h");
        let done = a.id.clone();
        let mut f = facts(&m, "p");
        f.assisted = Some(&done);
        assert_eq!(
            kind(a.decide_help(&o, &f, 5, at(1)).unwrap_err()),
            "already-assisted"
        );
        let mut f = facts(&m, "p");
        f.today = 3;
        assert_eq!(
            kind(a.decide_help(&o, &f, 5, at(1)).unwrap_err()),
            "daily-cap-reached"
        );
        let mut picky = offer();
        picky.new_to_brand = true;
        let mut f = facts(&m, "p");
        f.new_to_brand = false;
        assert_eq!(
            kind(a.decide_help(&picky, &f, 5, at(1)).unwrap_err()),
            "not-new-to-brand"
        );
        assert_eq!(
            kind(a.decide_help(&o, &facts(&m, "p"), 5, at(24)).unwrap_err()),
            "assist-closed"
        );
        let mut nearly = started();
        for (i, n) in ["a", "b"].iter().enumerate() {
            let u = user(n);
            let p = format!("q{i}");
            nearly.help(&facts(&u, &p), HelpStep::Counted, vec![], at(1));
        }
        assert_eq!(
            kind(
                nearly
                    .decide_help(&o, &facts(&m, "p"), 0, at(1))
                    .unwrap_err()
            ),
            "budget-spent"
        );
        assert_eq!(
            nearly.decide_help(&o, &facts(&m, "p"), 1, at(1)).unwrap(),
            HelpStep::Completes
        );
    }

    #[test]
    fn an_assist_expires_at_its_hours_or_the_campaigns_end_and_a_day_is_shanghais() {
        let mut a = started();
        assert_eq!(a.expires_at, at(24));
        assert!(!a.expire(at(23)));
        assert!(a.expire(at(24)));
        assert!(!a.expire(at(25)), "once");
        let t = Tenant::parse("demo", "south-china").unwrap();
        let late = Assist::start(
            &t,
            &CampaignId::parse("c").unwrap(),
            at(5),
            &offer(),
            &user("s"),
            "h".into(),
            None,
            at(0),
        )
        .unwrap();
        assert_eq!(late.expires_at, at(5));
        // 00:30 in Shanghai on the 24th is 16:30 UTC on the 23rd
        let half_past_midnight = Utc.with_ymd_and_hms(2026, 11, 23, 16, 30, 0).unwrap();
        assert_eq!(
            day_of(half_past_midnight),
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
    }

    #[test]
    fn an_assist_link_verifies_whole_and_only_for_its_assist() {
        let a = started();
        let claims = a.claims();
        let token = sign_link(b"k", &claims);
        assert_eq!(
            verify_link(b"k", &token, &a.tenant, &a.id, at(1)).unwrap(),
            claims
        );
        assert!(verify_link(b"other", &token, &a.tenant, &a.id, at(1)).is_err());
        let cut = &token[..token.len() - 2];
        assert!(
            verify_link(b"k", cut, &a.tenant, &a.id, at(1)).is_err(),
            "the whole tag"
        );
        let other = AssistId::generate(at(2));
        assert!(verify_link(b"k", &token, &a.tenant, &other, at(1)).is_err());
        assert!(
            verify_link(b"k", &token, &a.tenant, &a.id, at(24)).is_err(),
            "expired"
        );
        // a guide's share tag over the same payload does not pass
        assert!(!token.is_empty());
    }

    #[test]
    fn a_budget_spreads_over_its_shards_exactly() {
        let mut o = offer();
        for budget in [1, 3, 4, 50, 1001] {
            o.budget = budget;
            let sum: i64 = (0..BUDGET_SHARDS).map(|s| o.shard_budget(s)).sum();
            assert_eq!(sum, i64::from(budget));
        }
        let tpl = |min: i64| CouponTemplate {
            id: CouponTemplateId::parse("free-20").unwrap(),
            name: "20 off".into(),
            off_fen: Fen::new(2000).unwrap(),
            min_spend_fen: Fen::new(min).unwrap(),
            per_buyer: 1,
            budget: 10,
            points_price: 0,
            min_level: 0,
            updated_at: at(0),
        };
        assert!(offer().validate(&[tpl(0)]).is_ok());
        assert!(offer()
            .validate(&[tpl(10_000)])
            .unwrap_err()
            .to_string()
            .contains("pack[0]"));
        assert!(offer().validate(&[]).is_err());
    }
}
