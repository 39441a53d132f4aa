//! Group buying: a group forms when N buyers have paid for the same listing at the group
//! price before it expires.
//!
//! Seats are leases. A seat is taken in the same transaction as its order, on condition
//! a seat is free (`free >= 1`), the group is open and not expired; an unpaid seat is
//! released by its order's payment timeout. Because the seat is held before payment, a
//! payment never fails for lack of room. The N-th payment forms the group with a
//! conditional write; only then are the members' orders dispatched (paid, they are held
//! until then). At expiry an unformed group fails (every paid member refunded in full,
//! every unpaid seat cancelled) or, when the listing allows it and enough have paid,
//! forms as completed by the store: its empty seats stay empty, no member is invented.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::GroupOffer;
use super::ids::{CampaignId, GroupBuyId, OrderId, Sku, UserId};
use super::money::Fen;
use super::tenancy::Tenant;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Open,
    Formed,
    /// Expired short of its seats but with enough paid: the store completes it.
    StoreCompleted,
    /// Expired short of its seats: everyone paid is refunded.
    Failed,
}

/// A group buy: the listing's terms at opening, its seats and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupBuy {
    pub id: GroupBuyId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub sku: Sku,
    pub price_fen: Fen,
    /// Seats in all.
    pub seats: u8,
    /// Seats neither paid nor held by an unpaid order: what a joiner needs one of.
    pub free: u8,
    /// Seats paid.
    pub paid: u8,
    pub store_completes_at: Option<u8>,
    pub opened_by: UserId,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: GroupStatus,
    pub version: u64,
}

/// One seat: a member and their order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    #[serde(rename = "group_buy")]
    pub group: GroupBuyId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub buyer: UserId,
    pub order: OrderId,
    pub joined_at: DateTime<Utc>,
    pub paid: bool,
    /// Refunded after the group formed: the group stays formed, and shows it.
    #[serde(default)]
    pub refunded: bool,
}

/// Whether a buyer opens a group or joins one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupJoin {
    Open(GroupBuyId),
    Join(GroupBuyId),
}

impl GroupJoin {
    pub fn id(&self) -> &GroupBuyId {
        match self {
            GroupJoin::Open(id) | GroupJoin::Join(id) => id,
        }
    }
}

/// A group as anyone with its link sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub id: GroupBuyId,
    pub campaign: CampaignId,
    pub sku: Sku,
    pub price_fen: Fen,
    pub seats: u8,
    pub seats_left: u8,
    pub paid: u8,
    pub status: GroupStatus,
    /// Formed by the store's rule, with empty seats: never filled with invented buyers.
    pub completed_by_store: bool,
    pub expires_at: DateTime<Utc>,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// The member's name, masked ("bu***1").
    pub name: String,
    pub paid: bool,
    pub refunded: bool,
    pub opener: bool,
}

/// A buyer's name as others see it: the first two and the last character.
pub fn mask_name(user: &UserId) -> String {
    let chars: Vec<char> = user.as_str().chars().collect();
    match chars.len() {
        0..=3 => format!("{}***", chars.first().copied().unwrap_or('*')),
        n => format!("{}{}***{}", chars[0], chars[1], chars[n - 1]),
    }
}

impl GroupBuy {
    /// A new group, its opener's seat taken (and not yet paid).
    #[allow(clippy::too_many_arguments)] // the group's whole identity and terms, once
    pub fn open(
        id: GroupBuyId,
        tenant: Tenant,
        campaign: CampaignId,
        sku: Sku,
        offer: &GroupOffer,
        opener: UserId,
        now: DateTime<Utc>,
        campaign_ends: DateTime<Utc>,
    ) -> GroupBuy {
        GroupBuy {
            id,
            tenant,
            campaign,
            sku,
            price_fen: offer.price_fen,
            seats: offer.size,
            free: offer.size - 1,
            paid: 0,
            store_completes_at: offer.store_completes_at,
            opened_by: opener,
            opened_at: now,
            expires_at: (now + Duration::hours(i64::from(offer.hours))).min(campaign_ends),
            status: GroupStatus::Open,
            version: 1,
        }
    }

    /// Whether a buyer may take a seat now. Seat counts are checked again by the
    /// write's condition; this names the reason when it is refused.
    pub fn check_join(
        &self,
        buyer: &UserId,
        already_member: bool,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if already_member || &self.opened_by == buyer {
            return Err(DomainError::conflict(
                "already-in-group",
                "you already have a seat in this group",
            ));
        }
        if self.status != GroupStatus::Open || now >= self.expires_at {
            return Err(DomainError::conflict(
                "group-expired",
                "this group is no longer open",
            ));
        }
        if self.free == 0 {
            return Err(DomainError::conflict(
                "group-full",
                "every seat of this group is taken",
            ));
        }
        Ok(())
    }

    /// What a payment does to the group: one more seat paid; the N-th forms it.
    pub fn on_payment(&mut self) -> Result<(), DomainError> {
        if self.status != GroupStatus::Open {
            return Err(DomainError::conflict(
                "group-expired",
                "this group is no longer open",
            ));
        }
        self.paid += 1;
        if self.paid >= self.seats {
            self.status = GroupStatus::Formed;
        }
        self.version += 1;
        Ok(())
    }

    /// What expiry does to an open group: store-completed when the listing allows it
    /// and enough have paid, else failed.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != GroupStatus::Open {
            return Err(DomainError::conflict("group-not-open", "already settled"));
        }
        if now < self.expires_at {
            return Err(DomainError::conflict("group-not-due", "not expired yet"));
        }
        self.status = match self.store_completes_at {
            Some(m) if self.paid >= m => GroupStatus::StoreCompleted,
            _ => GroupStatus::Failed,
        };
        self.version += 1;
        Ok(())
    }

    /// Whether its members' orders may be dispatched.
    pub fn dispatchable(&self) -> bool {
        matches!(
            self.status,
            GroupStatus::Formed | GroupStatus::StoreCompleted
        )
    }

    pub fn view(&self, members: &[Member]) -> GroupView {
        GroupView {
            id: self.id.clone(),
            campaign: self.campaign.clone(),
            sku: self.sku.clone(),
            price_fen: self.price_fen,
            seats: self.seats,
            seats_left: if self.status == GroupStatus::Open {
                self.free
            } else {
                0
            },
            paid: self.paid,
            status: self.status,
            completed_by_store: self.status == GroupStatus::StoreCompleted,
            expires_at: self.expires_at,
            members: members
                .iter()
                .map(|m| MemberView {
                    name: mask_name(&m.buyer),
                    paid: m.paid,
                    refunded: m.refunded,
                    opener: m.buyer == self.opened_by,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(size: u8, m: Option<u8>) -> GroupOffer {
        GroupOffer {
            price_fen: Fen::new(10_000).unwrap(),
            size,
            hours: 24,
            per_buyer: 1,
            store_completes_at: m,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn group(size: u8, m: Option<u8>) -> GroupBuy {
        GroupBuy::open(
            GroupBuyId::generate(at("2026-11-23T03:00:00Z")),
            Tenant::parse("demo", "x").unwrap(),
            CampaignId::parse("c").unwrap(),
            Sku::parse("A").unwrap(),
            &offer(size, m),
            UserId::parse("opener").unwrap(),
            at("2026-11-23T03:00:00Z"),
            at("2026-11-30T00:00:00Z"),
        )
    }

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn a_group_expires_after_its_hours_but_never_after_the_campaign() {
        let g = group(3, None);
        assert_eq!(g.expires_at, at("2026-11-24T03:00:00Z"));
        assert_eq!(g.free, 2, "the opener holds a seat");
        let short = GroupBuy::open(
            g.id.clone(),
            g.tenant.clone(),
            g.campaign.clone(),
            g.sku.clone(),
            &offer(3, None),
            user("o"),
            at("2026-11-23T03:00:00Z"),
            at("2026-11-23T10:00:00Z"),
        );
        assert_eq!(short.expires_at, at("2026-11-23T10:00:00Z"));
    }

    #[test]
    fn joining_refuses_the_opener_a_member_a_full_or_an_expired_group() {
        let mut g = group(3, None);
        let now = at("2026-11-23T04:00:00Z");
        let kind = |r: Result<(), DomainError>| match r {
            Err(DomainError::Conflict { kind, .. }) => kind,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(g.check_join(&user("opener"), false, now)),
            "already-in-group"
        );
        assert_eq!(
            kind(g.check_join(&user("b"), true, now)),
            "already-in-group"
        );
        assert!(g.check_join(&user("b"), false, now).is_ok());
        assert_eq!(
            kind(g.check_join(&user("b"), false, g.expires_at)),
            "group-expired"
        );
        g.free = 0;
        assert_eq!(kind(g.check_join(&user("b"), false, now)), "group-full");
        g.status = GroupStatus::Failed;
        assert_eq!(kind(g.check_join(&user("b"), false, now)), "group-expired");
    }

    #[test]
    fn the_nth_payment_forms_the_group_and_expiry_settles_the_rest() {
        let mut g = group(3, None);
        g.on_payment().unwrap();
        g.on_payment().unwrap();
        assert_eq!(g.status, GroupStatus::Open);
        g.on_payment().unwrap();
        assert_eq!(g.status, GroupStatus::Formed);
        assert!(g.dispatchable());
        assert!(g.on_payment().is_err(), "no fourth seat");
        // two paid of three, expired: failed, unless the store completes at 2
        let mut short = group(3, None);
        short.on_payment().unwrap();
        short.on_payment().unwrap();
        assert!(short
            .expire(short.expires_at - Duration::seconds(1))
            .is_err());
        short.expire(short.expires_at).unwrap();
        assert_eq!(short.status, GroupStatus::Failed);
        let mut store = group(3, Some(2));
        store.on_payment().unwrap();
        store.on_payment().unwrap();
        store.expire(store.expires_at).unwrap();
        assert_eq!(store.status, GroupStatus::StoreCompleted);
        let view = store.view(&[]);
        assert!(view.completed_by_store);
        assert!(view.members.is_empty(), "no invented members");
        let mut one = group(3, Some(2));
        one.on_payment().unwrap();
        one.expire(one.expires_at).unwrap();
        assert_eq!(one.status, GroupStatus::Failed);
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name(&user("buyer-1")), "bu***1");
        assert_eq!(mask_name(&user("ab")), "a***");
    }
}
