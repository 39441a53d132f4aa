//! Members: one per buyer (`sub`) across brands and store groups, with points and a
//! level per brand.
//!
//! A brand's points are a ledger over its orders. Each order's points are always
//! `rate x (paid - refunded)` (whole points, rounded down), whatever order its events
//! arrive in: the account keeps, per order, what was paid and each refund by its id,
//! and every event writes the difference it makes as an entry named by the event's
//! id (so a duplicate finds its entry and changes nothing). An order's points are
//! **pending** until its return window has closed, then **available**; a refund after
//! that takes them back from the available balance, which may go below zero: a debt
//! recorded, never a reversal skipped.
//!
//! A level follows **growth**, the member's net paid amount in the brand over a
//! rolling 365 days: up as soon as growth reaches a threshold, down only once growth
//! has stayed below the level's threshold for the brand's grace period.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::ids::{BrandId, OrderId, StoreGroupId};
use super::tenancy::Tenant;
use super::DomainError;

/// Growth counts what was paid over this many days.
pub const GROWTH_DAYS: i64 = 365;

/// A brand's member terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberTerms {
    /// Points earned per yuan (100 fen) paid, net of refunds.
    pub points_per_yuan: u32,
    /// Levels above 0, each with the growth (fen) that reaches it, ascending.
    pub levels: Vec<LevelTerms>,
    /// Days growth may stay below a level's threshold before the level drops.
    pub downgrade_grace_days: u32,
}

/// One level: the growth that reaches it and what it brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LevelTerms {
    pub level: u8,
    pub name: String,
    /// Net paid (fen) over the rolling year that reaches this level.
    pub growth_fen: i64,
    /// Returns skip the returns-count rule and are listed first for review.
    #[serde(default)]
    pub fast_lane: bool,
}

impl Default for MemberTerms {
    /// One point per yuan; silver from 1,000 yuan, gold from 3,000, platinum from
    /// 8,000 (fast lane from gold); a month's grace before a level drops.
    fn default() -> Self {
        let level = |level, name: &str, yuan: i64, fast_lane| LevelTerms {
            level,
            name: name.to_owned(),
            growth_fen: yuan * 100,
            fast_lane,
        };
        MemberTerms {
            points_per_yuan: 1,
            levels: vec![
                level(1, "silver", 1_000, false),
                level(2, "gold", 3_000, true),
                level(3, "platinum", 8_000, true),
            ],
            downgrade_grace_days: 30,
        }
    }
}

impl MemberTerms {
    /// Refuses terms a brand could not mean: levels out of order, no rate.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.points_per_yuan == 0 || self.points_per_yuan > 100 {
            return Err(DomainError::invalid(
                "points_per_yuan",
                "must be between 1 and 100",
            ));
        }
        let mut last = (0u8, 0i64);
        for l in &self.levels {
            if l.level != last.0 + 1 || l.growth_fen <= last.1 {
                return Err(DomainError::invalid(
                    "levels",
                    "levels are 1, 2, 3... with rising growth thresholds above 0",
                ));
            }
            last = (l.level, l.growth_fen);
        }
        Ok(())
    }

    /// The level `growth` reaches.
    pub fn level_for(&self, growth_fen: i64) -> u8 {
        self.levels
            .iter()
            .filter(|l| growth_fen >= l.growth_fen)
            .map(|l| l.level)
            .max()
            .unwrap_or(0)
    }

    fn threshold(&self, level: u8) -> i64 {
        self.levels
            .iter()
            .find(|l| l.level == level)
            .map_or(0, |l| l.growth_fen)
    }

    pub fn terms_of(&self, level: u8) -> Option<&LevelTerms> {
        self.levels.iter().find(|l| l.level == level)
    }

    /// Points for `net_fen` paid (rounded down; nothing for nothing).
    pub fn points_for(&self, net_fen: i64) -> i64 {
        net_fen.max(0) / 100 * i64::from(self.points_per_yuan)
            + (net_fen.max(0) % 100) * i64::from(self.points_per_yuan) / 100
    }
}

/// One order as the points account sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPoints {
    /// What the order paid, once its payment event arrived.
    pub paid_fen: Option<i64>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Each refund paid back, by refund id.
    pub refunds: BTreeMap<String, i64>,
    /// Its points were released (its return window closed).
    pub released: bool,
    /// The points this order stands at (`rate x net`), as entered in the ledger.
    pub points: i64,
    /// The order's tenant (its store group), to read it when its window is checked.
    #[serde(default)]
    pub tenant: Option<Tenant>,
    /// When to look whether its return window has closed (unreleased orders only).
    #[serde(default)]
    pub check_at: Option<DateTime<Utc>>,
}

impl OrderPoints {
    pub fn net_fen(&self) -> i64 {
        self.paid_fen
            .map_or(0, |p| p - self.refunds.values().sum::<i64>())
            .max(0)
    }
}

/// Why a ledger entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryReason {
    /// Earned by a paid order (pending until its window closes).
    Earned,
    /// An order's return window closed: its points became available.
    Released,
    /// A refund took back its share of an order's points.
    Refunded,
    /// Spent on a member coupon.
    Redeemed,
    /// Adjusted by staff, with a note.
    Adjusted,
}

/// One entry of a member's points ledger in a brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PointsEntry {
    /// The business key it is written once by (an order event's id, a redemption's).
    pub key: String,
    pub reason: EntryReason,
    #[schema(value_type = Option<String>)]
    pub order: Option<OrderId>,
    /// Change to the pending balance.
    pub pending: i64,
    /// Change to the available balance.
    pub available: i64,
    /// A person's note (adjustments) or what was bought (redemptions).
    #[serde(default)]
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A member's account in one brand: balances, the orders they come from, the level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub pending: i64,
    pub available: i64,
    /// By order id.
    pub orders: BTreeMap<String, OrderPoints>,
    /// The level held, and since when growth has been below its threshold.
    pub level: u8,
    pub below_since: Option<DateTime<Utc>>,
    /// The guide whose credited sale first brought this member to the brand (counted
    /// once on that guide's board).
    #[serde(default)]
    pub recruited_by: Option<String>,
    /// Entry keys already applied that change no order (redemptions, adjustments).
    #[serde(default)]
    pub applied: Vec<String>,
    pub version: u64,
}

/// What an order event does to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderFact {
    /// Paid, in `tenant`, with returns open `window_days` after it is received.
    Paid {
        amount_fen: i64,
        tenant: Tenant,
        window_days: u32,
    },
    Refunded {
        refund: String,
        amount_fen: i64,
    },
}

impl Account {
    /// Growth at `now`: net paid over the last [`GROWTH_DAYS`].
    pub fn growth(&self, now: DateTime<Utc>) -> i64 {
        let since = now - Duration::days(GROWTH_DAYS);
        self.orders
            .values()
            .filter(|o| o.paid_at.is_some_and(|at| at > since && at <= now))
            .map(OrderPoints::net_fen)
            .sum()
    }

    /// The level that holds at `now`: the one held, unless growth has been below its
    /// threshold for the grace period (then the level growth reaches), or has reached
    /// a higher one.
    pub fn level_at(&self, terms: &MemberTerms, now: DateTime<Utc>) -> u8 {
        let reached = terms.level_for(self.growth(now));
        if reached >= self.level {
            return reached;
        }
        let grace = Duration::days(i64::from(terms.downgrade_grace_days));
        match self.below_since {
            Some(since) if now >= since + grace => reached,
            _ => self.level,
        }
    }

    /// Re-decides the level at `now` after a change: up at once, the grace clock
    /// started (or stopped) when growth crosses the held level's threshold.
    fn settle_level(&mut self, terms: &MemberTerms, now: DateTime<Utc>) {
        let level = self.level_at(terms, now);
        if level != self.level {
            self.level = level;
            self.below_since = None;
        }
        if self.growth(now) < terms.threshold(self.level) {
            self.below_since.get_or_insert(now);
        } else {
            self.below_since = None;
        }
    }

    /// Applies an order event once by its id, returning the entry it writes (none for
    /// a duplicate or a change of nothing).
    pub fn apply(
        &mut self,
        terms: &MemberTerms,
        event_id: &str,
        order: &OrderId,
        fact: &OrderFact,
        at: DateTime<Utc>,
    ) -> Option<PointsEntry> {
        let o = self.orders.entry(order.to_string()).or_default();
        let (reason, fresh) = match fact {
            OrderFact::Paid {
                amount_fen,
                tenant,
                window_days,
            } => {
                let fresh = o.paid_fen.is_none();
                if fresh {
                    o.paid_fen = Some(*amount_fen);
                    o.paid_at = Some(at);
                    o.tenant = Some(tenant.clone());
                    // Not before the window could have closed, had it been received now.
                    o.check_at = Some(at + Duration::days(i64::from(*window_days)));
                }
                (EntryReason::Earned, fresh)
            }
            OrderFact::Refunded { refund, amount_fen } => (
                EntryReason::Refunded,
                o.refunds.insert(refund.clone(), *amount_fen).is_none(),
            ),
        };
        if !fresh {
            return None;
        }
        let entry = self.restate(terms, order, reason, event_id, at);
        self.settle_level(terms, at);
        entry
    }

    /// Brings an order's points to `rate x net`, on the balance it sits in.
    fn restate(
        &mut self,
        terms: &MemberTerms,
        order: &OrderId,
        reason: EntryReason,
        key: &str,
        at: DateTime<Utc>,
    ) -> Option<PointsEntry> {
        let o = self.orders.get_mut(order.as_str())?;
        let now = terms.points_for(o.net_fen());
        let delta = now - o.points;
        o.points = now;
        let released = o.released;
        if delta == 0 {
            return None;
        }
        let (pending, available) = if released { (0, delta) } else { (delta, 0) };
        self.pending += pending;
        self.available += available;
        Some(PointsEntry {
            key: key.to_owned(),
            reason,
            order: Some(order.clone()),
            pending,
            available,
            note: None,
            at,
        })
    }

    /// An order's return window has closed: its points become available (once; an
    /// entry only when there are points to move).
    pub fn release(&mut self, order: &OrderId, at: DateTime<Utc>) -> Option<PointsEntry> {
        let o = self.orders.get_mut(order.as_str())?;
        if o.released || o.paid_fen.is_none() {
            return None;
        }
        o.released = true;
        o.check_at = None;
        let points = o.points;
        if points == 0 {
            return None; // nothing to move (refunded in full): no entry
        }
        self.pending -= points;
        self.available += points;
        Some(PointsEntry {
            key: format!("{order}-release"),
            reason: EntryReason::Released,
            order: Some(order.clone()),
            pending: -points,
            available: points,
            note: None,
            at,
        })
    }

    /// The earliest look due at an unreleased order's window.
    pub fn next_check(&self) -> Option<DateTime<Utc>> {
        self.orders
            .values()
            .filter(|o| !o.released)
            .filter_map(|o| o.check_at)
            .min()
    }

    /// Orders whose window look is due by `now`: (order id, tenant).
    pub fn due_checks(&self, now: DateTime<Utc>) -> Vec<(OrderId, Tenant)> {
        self.orders
            .iter()
            .filter(|(_, o)| !o.released && o.check_at.is_some_and(|at| at <= now))
            .filter_map(|(id, o)| Some((OrderId::parse(id).ok()?, o.tenant.clone()?)))
            .collect()
    }

    /// Looks at `order` again at `at` (its window not closed yet).
    pub fn check_again(&mut self, order: &OrderId, at: DateTime<Utc>) {
        if let Some(o) = self.orders.get_mut(order.as_str()) {
            o.check_at = Some(at);
        }
    }

    /// Spends `points` of the available balance, once by `key`.
    pub fn redeem(
        &mut self,
        key: &str,
        points: i64,
        what: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<PointsEntry>, DomainError> {
        if self.applied.iter().any(|k| k == key) {
            return Ok(None);
        }
        if points <= 0 {
            return Err(DomainError::invalid("points", "must be above 0"));
        }
        if self.available < points {
            return Err(DomainError::conflict(
                "points-short",
                "not enough available points",
            ));
        }
        self.available -= points;
        self.applied.push(key.to_owned());
        Ok(Some(PointsEntry {
            key: key.to_owned(),
            reason: EntryReason::Redeemed,
            order: None,
            pending: 0,
            available: -points,
            note: Some(what.to_owned()),
            at,
        }))
    }

    /// Staff's adjustment of the available balance, once by `key`, with a reason.
    pub fn adjust(
        &mut self,
        key: &str,
        points: i64,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<PointsEntry>, DomainError> {
        if self.applied.iter().any(|k| k == key) {
            return Ok(None);
        }
        if points == 0 {
            return Err(DomainError::invalid("points", "must not be 0"));
        }
        if note.trim().is_empty() {
            return Err(DomainError::invalid("reason", "say why"));
        }
        self.available += points;
        self.applied.push(key.to_owned());
        Ok(Some(PointsEntry {
            key: key.to_owned(),
            reason: EntryReason::Adjusted,
            order: None,
            pending: 0,
            available: points,
            note: Some(note.trim().to_owned()),
            at,
        }))
    }
}

/// At most this many follows per member.
pub const MAX_FOLLOWS: usize = 20;

/// A tenant (a brand's store group) or, without a group, a whole brand a member
/// follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    pub brand: BrandId,
    #[serde(default)]
    pub group: Option<StoreGroupId>,
}

/// A member's profile: one per buyer (`sub`), across brands and store groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The phone, sealed ([`crate::phones`]); never stored in clear.
    #[serde(default)]
    pub phone_sealed: Option<String>,
    /// Its keyed look-up hash (the phone index's key).
    #[serde(default)]
    pub phone_hash: Option<String>,
    pub bound_at: Option<DateTime<Utc>>,
    /// The group's member id (its CRM's).
    #[serde(default)]
    pub crm_member_id: Option<String>,
    /// Levels the CRM already gave them, by brand: a floor for the level here.
    #[serde(default)]
    pub crm_levels: BTreeMap<String, u8>,
    /// What they follow, for their home.
    #[serde(default)]
    pub follows: Vec<Follow>,
    pub version: u64,
}

/// What binding a phone decides, given the profile and who holds the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Bound already, to this phone: nothing to write.
    Already,
    /// Bind it.
    Bind,
}

/// One phone binds one member, and a member keeps the phone they bound: a second
/// account binding the same phone is refused, never merged.
pub fn decide_binding(
    profile: &Profile,
    hash: &str,
    holder: Option<&str>,
    me: &str,
) -> Result<Binding, DomainError> {
    if holder.is_some_and(|h| h != me) {
        return Err(DomainError::conflict(
            "phone-bound-elsewhere",
            "this phone is bound to another account; sign in with that account, or ask support to move it",
        ));
    }
    match profile.phone_hash.as_deref() {
        Some(h) if h == hash => Ok(Binding::Already),
        Some(_) => Err(DomainError::conflict(
            "member-has-phone",
            "this account is bound to another phone",
        )),
        None => Ok(Binding::Bind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_795_000_000, 0).unwrap_or_default() + Duration::days(day)
    }

    fn paid(amount_fen: i64) -> OrderFact {
        OrderFact::Paid {
            amount_fen,
            tenant: Tenant::parse("demo", "south-china").unwrap_or_else(|e| panic!("{e}")),
            window_days: 7,
        }
    }

    fn oid(n: u8) -> OrderId {
        OrderId::parse(&format!("01JD{:022}", n)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn points_are_earned_pending_released_and_taken_back_into_a_debt_never_skipped() {
        // given the default terms (1 point per yuan) and an order of 500.50 yuan
        let terms = MemberTerms::default();
        let mut a = Account::default();
        let o = oid(1);
        let e = a.apply(&terms, "o1-paid", &o, &paid(50_050), t(0));
        assert_eq!(e.map(|e| (e.pending, e.available)), Some((500, 0)));
        // when its window closes the points become available
        let e = a.release(&o, t(9));
        assert_eq!(e.map(|e| (e.pending, e.available)), Some((-500, 500)));
        // and some are spent, then the whole order is refunded
        a.redeem("r1", 400, "coupon", t(10)).ok();
        let e = a.apply(
            &terms,
            "o1-R01",
            &o,
            &OrderFact::Refunded {
                refund: "o1-R01".into(),
                amount_fen: 50_050,
            },
            t(11),
        );
        // then the refund takes back all 500: the member owes 400
        assert_eq!(e.map(|e| e.available), Some(-500));
        assert_eq!((a.pending, a.available), (0, -400));
    }

    #[test]
    fn a_level_rises_at_once_and_drops_only_after_the_grace() {
        let terms = MemberTerms::default();
        let mut a = Account::default();
        a.apply(&terms, "p", &oid(1), &paid(300_000), t(0));
        assert_eq!(a.level_at(&terms, t(0)), 2);
        a.apply(
            &terms,
            "r",
            &oid(1),
            &OrderFact::Refunded {
                refund: "r".into(),
                amount_fen: 250_000,
            },
            t(1),
        );
        // below gold's threshold, still gold within the grace
        assert_eq!(a.level_at(&terms, t(30)), 2);
        // after it, what growth reaches (nothing: 500 yuan)
        assert_eq!(a.level_at(&terms, t(31)), 0);
        // and an order a year old no longer counts
        let mut b = Account::default();
        b.apply(&terms, "p", &oid(2), &paid(100_000), t(0));
        assert_eq!(b.growth(t(364)), 100_000);
        assert_eq!(b.growth(t(366)), 0);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Pay(u8, i64),
        Refund(u8, u8, i64),
        Release(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..4, 1i64..200_000).prop_map(|(o, f)| Step::Pay(o, f)),
            (0u8..4, 0u8..3, 1i64..100_000).prop_map(|(o, r, f)| Step::Refund(o, r, f)),
            (0u8..4).prop_map(Step::Release),
        ]
    }

    proptest! {
        /// Whatever order events arrive in, and however often: each order's points are
        /// rate x (paid - refunded), the balances are the sum of the entries written,
        /// and pending holds exactly the unreleased orders' points.
        #[test]
        fn points_equal_the_rate_times_net_paid_after_every_step(
            steps in proptest::collection::vec(step(), 1..40),
            dup in proptest::collection::vec(any::<bool>(), 40),
        ) {
            let terms = MemberTerms::default();
            let mut a = Account::default();
            let mut entries: Vec<PointsEntry> = Vec::new();
            let mut paid_fen: BTreeMap<u8, i64> = BTreeMap::new();
            let mut refunds: BTreeMap<(u8, u8), i64> = BTreeMap::new();
            for (i, s) in steps.iter().enumerate() {
                let times = if dup.get(i).copied().unwrap_or(false) { 2 } else { 1 };
                for _ in 0..times {
                    match s {
                        Step::Pay(o, f) => {
                            let amount = *paid_fen.entry(*o).or_insert(*f);
                            entries.extend(a.apply(&terms, &format!("{o}-paid"), &oid(*o),
                                &paid(amount), t(i as i64)));
                        }
                        Step::Refund(o, r, f) => {
                            let amount = *refunds.entry((*o, *r)).or_insert(*f);
                            let id = format!("{o}-R{r}");
                            entries.extend(a.apply(&terms, &id, &oid(*o),
                                &OrderFact::Refunded { refund: id.clone(), amount_fen: amount }, t(i as i64)));
                        }
                        Step::Release(o) => entries.extend(a.release(&oid(*o), t(i as i64))),
                    }
                }
                for (o, op) in &a.orders {
                    prop_assert_eq!(op.points, terms.points_for(op.net_fen()), "order {}", o);
                }
                prop_assert_eq!(a.pending, entries.iter().map(|e| e.pending).sum::<i64>());
                prop_assert_eq!(a.available, entries.iter().map(|e| e.available).sum::<i64>());
                let unreleased: i64 = a.orders.values().filter(|o| !o.released).map(|o| o.points).sum();
                let released: i64 = a.orders.values().filter(|o| o.released).map(|o| o.points).sum();
                prop_assert_eq!(a.pending, unreleased);
                prop_assert_eq!(a.available, released);
                let keys: std::collections::BTreeSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
                prop_assert_eq!(keys.len(), entries.len(), "an entry per key, once");
            }
        }
    }
}
