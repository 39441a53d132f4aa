//! The single table's key schema: the one place where keys are built, and read back
//! (a timer's key names what is due). Every key starts with `T#{brand}#{group}`, so a
//! request scoped to one tenant can only ever name items of that tenant. Use cases and
//! handlers never format keys.

use chrono::{DateTime, Utc};

use crate::domain::ids::{
    AssistId, AssistOfferId, BrandId, CampaignId, CarrierId, CategoryId, CouponTemplateId,
    GroupBuyId, GuideId, IdempotencyKey, OrderId, RefundId, Sku, StoreGroupId, StoreId, UserId,
    Waybill,
};
use crate::domain::tenancy::Tenant;

/// Upper bound for `BETWEEN` ranges: sorts after every id character we allow.
pub const HIGH: &str = "~";

pub fn tenant_pk(t: &Tenant) -> String {
    format!("T#{}#{}", t.brand, t.group)
}

pub fn campaign_pk(t: &Tenant, c: &CampaignId) -> String {
    format!("T#{}#{}#C#{}", t.brand, t.group, c)
}

/// The campaign's own item sits in the tenant partition (so one Query lists them).
pub fn campaign_sk(c: &CampaignId) -> String {
    format!("CAMPAIGN#{c}")
}

pub const CAMPAIGN_PREFIX: &str = "CAMPAIGN#";

pub fn store_sk(s: &StoreId) -> String {
    format!("STORE#{s}")
}

pub const STORE_PREFIX: &str = "STORE#";

pub fn guide_sk(g: &GuideId) -> String {
    format!("GUIDE#{g}")
}

pub const GUIDE_PREFIX: &str = "GUIDE#";

/// Listings sort as `P#{sku}#`, their stock shards right after as `P#{sku}#S#{nn}`,
/// so one Query returns each product followed by its stock.
pub const PRODUCT_PREFIX: &str = "P#";

pub fn listing_sk(sku: &Sku) -> String {
    format!("P#{sku}#")
}

pub fn stock_sk(sku: &Sku, shard: u8) -> String {
    format!("P#{sku}#S#{shard:02}")
}

/// The first sort key after every item of `sku` (for page cursors).
pub fn after_product(sku: &Sku) -> String {
    format!("P#{sku}#{HIGH}")
}

/// GSI1 partition for a campaign's listings of one category.
pub fn category_gsi1pk(t: &Tenant, c: &CampaignId, cat: &CategoryId) -> String {
    format!("{}#CAT#{}", campaign_pk(t, c), cat)
}

pub fn coupon_template_sk(id: &CouponTemplateId) -> String {
    format!("K#{id}")
}

pub const COUPON_TEMPLATE_PREFIX: &str = "K#";

/// A buyer's `n`th coupon of a template (n from 1).
pub fn buyer_coupon_sk(id: &CouponTemplateId, user: &UserId, n: u32) -> String {
    format!("K#{id}#U#{user}#{n}")
}

/// The units of `sku` one buyer has bought in the campaign (the purchase limit).
pub fn limit_sk(sku: &Sku, user: &UserId) -> String {
    format!("L#{sku}#U#{user}")
}

/// Each store's remaining units of a listing, per size, drawn by fulfillment.
pub const STORE_STOCK_PREFIX: &str = "W#";

pub fn store_stock_sk(sku: &Sku) -> String {
    format!("{STORE_STOCK_PREFIX}{sku}")
}

pub fn order_pk(t: &Tenant, o: &OrderId) -> String {
    format!("T#{}#{}#O#{}", t.brand, t.group, o)
}

pub const ORDER_SK: &str = "ORDER";

pub const REFUND_PREFIX: &str = "REFUND#";

/// An order's published events (its outbox): `EVENT#{event id}`, in the order's
/// partition, written in the same write as the change they announce.
pub const EVENT_PREFIX: &str = "EVENT#";

pub fn event_sk(id: &str) -> String {
    format!("{EVENT_PREFIX}{id}")
}

/// A refund lives in its order's partition: `REFUND#R{nn}` or `REFUND#P{hash}`,
/// the suffix of its id (`domain::refund::parse_refund_id`).
pub fn refund_sk(suffix: &str) -> String {
    format!("{REFUND_PREFIX}{suffix}")
}

/// A group buy's own partition: the group (`GROUP`) and its members (`M#{buyer}`).
pub fn group_pk(t: &Tenant, g: &GroupBuyId) -> String {
    format!("T#{}#{}#G#{}", t.brand, t.group, g)
}

pub const GROUP_SK: &str = "GROUP";

pub fn member_sk(user: &UserId) -> String {
    format!("M#{user}")
}

pub const MEMBER_PREFIX: &str = "M#";

/// How many groups of a listing a buyer opened or joined.
pub fn group_limit_sk(sku: &Sku, user: &UserId) -> String {
    format!("GL#{sku}#U#{user}")
}

/// GSI2: a campaign's open groups of one product, soonest to expire first.
pub fn open_groups_gsi2pk(t: &Tenant, c: &CampaignId, sku: &Sku) -> String {
    format!("{}#GROUPS#{sku}", campaign_pk(t, c))
}

/// GSI1: a buyer's seats in group buys across tenants.
pub fn buyer_groups_gsi1pk(user: &UserId) -> String {
    format!("U#{user}#GROUPS")
}

/// How many returns a buyer asked for in a campaign (the frequent-returns rule).
pub fn returns_sk(user: &UserId) -> String {
    format!("RET#U#{user}")
}

/// GSI2: a tenant's refunds by what they wait for (`pending_review`, ...),
/// escalated first, then oldest first.
pub fn refunds_gsi2pk(t: &Tenant, queue: &str) -> String {
    format!("{}#REFUNDS#{queue}", tenant_pk(t))
}

/// A buyer's own partition in a tenant: idempotency records live here.
pub fn buyer_pk(t: &Tenant, user: &UserId) -> String {
    format!("T#{}#{}#U#{}", t.brand, t.group, user)
}

/// A credited sale's attribution state, beside its order.
pub const SALE_SK: &str = "SALE";

/// GSI1: a guide's credited sales, newest first.
pub fn guide_sales_gsi1pk(t: &Tenant, g: &GuideId) -> String {
    format!("{}#GUIDE#{g}#SALES", tenant_pk(t))
}

/// One shard of a campaign's guide and store counters.
pub fn stats_pk(t: &Tenant, c: &CampaignId, shard: u8) -> String {
    format!("{}#STAT#{shard:02}", campaign_pk(t, c))
}

/// The tenant's search words (synonyms), in the tenant partition.
pub const SEARCH_TERMS_SK: &str = "SEARCH_TERMS";

/// The brand's poster copy template, under the tenant (`tenant_pk`).
pub const COPY_TEMPLATE_SK: &str = "POSTER#TEMPLATE";

/// Searches of a campaign that found nothing, counted per query over a few shards
/// (a crowd repeating one query would otherwise write one item).
pub fn missed_searches_pk(t: &Tenant, c: &CampaignId, shard: u8) -> String {
    format!("{}#MISS#{shard:02}", campaign_pk(t, c))
}

pub fn missed_search_sk(query: &str) -> String {
    format!("Q#{query}")
}

/// A buyer's binding to the guide who first brought them (in the buyer partition).
pub const BINDING_SK: &str = "BINDING";

/// The buyer's first paid order in the tenant (in the buyer partition): whoever
/// brought that order brought a new buyer.
pub const FIRST_PAID_SK: &str = "FIRST_PAID";

pub fn idempotency_sk(key: &IdempotencyKey) -> String {
    format!("IDEM#{key}")
}

/// A member's own partition, across brands and store groups: their profile, an
/// account per brand (points and level), and its ledger entries.
pub fn member_pk(user: &UserId) -> String {
    format!("U#{user}")
}

pub const PROFILE_SK: &str = "PROFILE";

pub const ACCOUNT_PREFIX: &str = "B#";

/// A member's points and level in one brand.
pub fn account_sk(brand: &BrandId) -> String {
    format!("{ACCOUNT_PREFIX}{brand}")
}

/// A ledger entry of a member's points in a brand, by the business key it is written
/// once by.
pub fn points_entry_sk(brand: &BrandId, key: &str) -> String {
    format!("{}{key}", points_entries_prefix(brand))
}

pub fn points_entries_prefix(brand: &BrandId) -> String {
    format!("PE#{brand}#")
}

/// Who holds a phone: one item per phone, by its keyed hash (never the number).
pub fn phone_pk(hash: &str) -> String {
    format!("PHONE#{hash}")
}

pub const PHONE_SK: &str = "PHONE";

/// A brand's own settings (its member terms).
pub fn brand_pk(brand: &BrandId) -> String {
    format!("BRAND#{brand}")
}

pub const MEMBER_TERMS_SK: &str = "MEMBER_TERMS";

/// A brand's store groups, one item each in the brand's partition (written with their
/// stores), so a member following a whole brand finds its tenants.
pub const BRAND_GROUP_PREFIX: &str = "GROUP#";

pub fn brand_group_sk(group: &StoreGroupId) -> String {
    format!("{BRAND_GROUP_PREFIX}{group}")
}

/// GSI1: a buyer's orders across tenants, newest first by ULID.
pub fn buyer_orders_gsi1pk(user: &UserId) -> String {
    format!("U#{user}#ORDERS")
}

/// GSI1: a buyer's coupons across tenants.
pub fn buyer_coupons_gsi1pk(user: &UserId) -> String {
    format!("U#{user}#COUPONS")
}

/// GSI2: a campaign's unpaid orders by payment deadline (for the close).
pub fn unpaid_gsi2pk(t: &Tenant, c: &CampaignId) -> String {
    format!("{}#UNPAID", campaign_pk(t, c))
}

/// GSI2: a tenant's paid orders that no store could dispatch, oldest first.
pub fn attention_gsi2pk(t: &Tenant) -> String {
    format!("{}#ATTENTION", tenant_pk(t))
}

/// GSI2: a tenant's shipped orders with a parcel that needs a person (not handed over
/// in time, silent, back at the sender), oldest first.
pub fn parcels_attention_gsi2pk(t: &Tenant) -> String {
    format!("{}#PARCELS_ATTENTION", tenant_pk(t))
}

/// A carrier's waybill, claimed by one parcel of the tenant (unique per carrier).
pub fn waybill_pk(t: &Tenant, carrier: &CarrierId, waybill: &Waybill) -> String {
    format!("{}#WAYBILL#{carrier}#{waybill}", tenant_pk(t))
}

pub const WAYBILL_SK: &str = "WAYBILL";

/// An assist offer of a campaign (in the campaign's partition).
pub fn assist_offer_sk(offer: &AssistOfferId) -> String {
    format!("{ASSIST_OFFER_PREFIX}{offer}")
}

pub const ASSIST_OFFER_PREFIX: &str = "AO#";

/// One of an offer's budget counters (`remaining` packs).
pub fn assist_budget_sk(offer: &AssistOfferId, shard: u8) -> String {
    format!("AB#{offer}#{shard}")
}

/// Assists started through a guide's link in a campaign (`started`): one item per
/// guide, written only by assists that came through their link.
pub fn guide_assists_sk(g: &GuideId) -> String {
    format!("AG#{g}")
}

/// A member's assist.
pub fn assist_pk(t: &Tenant, id: &AssistId) -> String {
    format!("{}#A#{id}", tenant_pk(t))
}

pub const ASSIST_SK: &str = "ASSIST";

/// GSI1: a member's assists across tenants.
pub fn starter_assists_gsi1pk(user: &UserId) -> String {
    format!("U#{user}#ASSISTS")
}

/// The starter's assist of an offer (in the buyer's partition): one open at a time.
pub fn open_assist_sk(c: &CampaignId, offer: &AssistOfferId) -> String {
    format!("ASSIST#{c}#{offer}")
}

/// A phone's assists in a tenant, by its keyed hash.
pub fn helper_pk(t: &Tenant, phone_hash: &str) -> String {
    format!("{}#H#{phone_hash}", tenant_pk(t))
}

/// The phone's assist of an offer (one per offer).
pub fn helped_offer_sk(c: &CampaignId, offer: &AssistOfferId) -> String {
    format!("OFFER#{c}#{offer}")
}

/// The phone's `n`-th assist of a day (1..=the daily cap): one item per place, so a
/// day's count is never exceeded.
pub fn helped_day_sk(day: chrono::NaiveDate, n: u8) -> String {
    format!("DAY#{day}#{n:02}")
}

/// An instant as a sort key: fixed width, so text order is time order.
pub fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Timers are spread over this many GSI3 partitions, so no one partition takes the
/// index write of every order in a flash sale.
pub const DUE_BUCKETS: u8 = 8;

/// FNV-1a: stable across processes and releases, unlike std's hasher.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// GSI3: the bucket of timers an item with partition key `pk` falls in.
pub fn due_gsi3pk(pk: &str) -> String {
    due_bucket_pk((fnv(pk) % u64::from(DUE_BUCKETS)) as u8)
}

/// A campaign's records (orders, refunds, group buys) are spread over this many
/// GSI4 partitions, so a flash sale's index writes do not all land on one (the close
/// counts them partition by partition).
pub use crate::domain::close::RECORD_SHARDS;

/// GSI4: the partition of a campaign's records an item with partition key `pk`
/// falls in (an order and its refunds share one).
pub fn records_gsi4pk(t: &Tenant, c: &CampaignId, pk: &str) -> String {
    records_shard_pk(t, c, (fnv(pk) % u64::from(RECORD_SHARDS)) as u8)
}

pub fn records_shard_pk(t: &Tenant, c: &CampaignId, shard: u8) -> String {
    format!("{}#REC#{shard:02}", campaign_pk(t, c))
}

/// GSI4 sort key: the item's own key, so an order sorts just before its refunds.
pub fn records_gsi4sk(pk: &str, sk: &str) -> String {
    format!("{pk}#{sk}")
}

pub fn due_bucket_pk(bucket: u8) -> String {
    format!("DUE#{bucket}")
}

/// GSI3 sort key: due time first, then what is due.
pub fn due_gsi3sk(at: DateTime<Utc>, pk: &str) -> String {
    format!("{}#{pk}", instant(at))
}

/// What a timer in the due index (GSI3) stands for, read back from its item's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// An order's timer: an unpaid order at its payment deadline, or a parcel waiting
    /// for pickup at its reminder or at the end of its pickup window.
    Order(Tenant, OrderId),
    /// A refund's next step: an escalation, a return window, money to check.
    Refund(Tenant, RefundId),
    /// An open group buy at its expiry.
    GroupExpiry(Tenant, GroupBuyId),
    /// A credited sale whose return window may have closed (commission confirmed).
    SaleConfirmation(Tenant, OrderId),
    /// A campaign at its end (to close it), or its close's next step.
    Campaign(Tenant, CampaignId),
    /// A member's account in a brand with an order whose return window is to be
    /// looked at (its points released).
    Points(UserId, BrandId),
    /// An order event in the outbox not yet relayed to every consumer by the sweeper
    /// (the table's stream relays it at once; this is the net behind it).
    Event(Tenant, OrderId, String),
    /// An open assist at its expiry.
    Assist(Tenant, AssistId),
    /// A try-on visit at its slot's end (its holds given back).
    Visit(Tenant, CampaignId, UserId),
}

impl Due {
    pub fn parse(pk: &str, sk: &str) -> Option<Due> {
        if let (Some(user), Some(brand)) = (pk.strip_prefix("U#"), sk.strip_prefix(ACCOUNT_PREFIX))
        {
            return Some(Due::Points(
                UserId::parse(user).ok()?,
                BrandId::parse(brand).ok()?,
            ));
        }
        let mut parts = pk.split('#');
        // A campaign item sits in its tenant's partition: `T#{brand}#{group}`.
        if let (Some("T"), Some(brand), Some(group), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            let t = Tenant::parse(brand, group).ok()?;
            let id = sk.strip_prefix(CAMPAIGN_PREFIX)?;
            return Some(Due::Campaign(t, CampaignId::parse(id).ok()?));
        }
        let mut parts = pk.split('#');
        let (Some("T"), Some(brand), Some(group), Some(kind), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let t = Tenant::parse(brand, group).ok()?;
        match (kind, sk) {
            ("O", ORDER_SK) => Some(Due::Order(t, OrderId::parse(id).ok()?)),
            ("O", SALE_SK) => Some(Due::SaleConfirmation(t, OrderId::parse(id).ok()?)),
            ("G", GROUP_SK) => Some(Due::GroupExpiry(t, GroupBuyId::parse(id).ok()?)),
            ("A", ASSIST_SK) => Some(Due::Assist(t, AssistId::parse(id).ok()?)),
            ("C", sk) if sk.starts_with(VISIT_PREFIX) => Some(Due::Visit(
                t,
                CampaignId::parse(id).ok()?,
                UserId::parse(&sk[VISIT_PREFIX.len()..]).ok()?,
            )),
            ("O", sk) if sk.starts_with(EVENT_PREFIX) => Some(Due::Event(
                t,
                OrderId::parse(id).ok()?,
                sk[EVENT_PREFIX.len()..].to_owned(),
            )),
            ("O", sk) => {
                let suffix = sk.strip_prefix(REFUND_PREFIX)?;
                let refund = RefundId::parse(&format!("{id}-{suffix}")).ok()?;
                Some(Due::Refund(t, refund))
            }
            _ => None,
        }
    }
}

/// A store's pickup appointments of one local date: each slot's counter of free places
/// and each booking (the clerks' list of the day is one Query).
pub fn appointments_pk(t: &Tenant, store: &StoreId, date: chrono::NaiveDate) -> String {
    format!("{}#STORE#{store}#APPT#{date}", tenant_pk(t))
}

/// A slot's counter of free places (`free`), under [`appointments_pk`].
pub fn slot_sk(slot: &str) -> String {
    format!("SLOT#{slot}")
}

pub const BOOKING_PREFIX: &str = "B#";

/// One parcel's booking of a slot, under [`appointments_pk`].
pub fn booking_sk(slot: &str, order: &OrderId, parcel: u8) -> String {
    format!("{BOOKING_PREFIX}{slot}#{order}#{parcel}")
}

pub const VISIT_PREFIX: &str = "VISIT#";

/// A buyer's latest try-on visit in a campaign, under [`campaign_pk`]: what an order
/// reads (by the buyer alone) to credit a visit.
pub fn visit_sk(buyer: &UserId) -> String {
    format!("{VISIT_PREFIX}{buyer}")
}

pub const VISIT_DAY_PREFIX: &str = "V#";

/// A try-on visit as its store's day lists it, under [`appointments_pk`] (the same
/// record as [`visit_sk`]'s, written with it).
pub fn visit_day_sk(slot: &str, visit: &crate::domain::ids::VisitId) -> String {
    format!("{VISIT_DAY_PREFIX}{slot}#{visit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_led_by_the_tenant() {
        let t = Tenant::parse("demo", "south-china").unwrap();
        let c = CampaignId::parse("summer").unwrap();
        assert_eq!(tenant_pk(&t), "T#demo#south-china");
        assert!(campaign_pk(&t, &c).starts_with("T#demo#south-china#"));
        let cat = CategoryId::parse("sandals").unwrap();
        assert!(category_gsi1pk(&t, &c, &cat).starts_with("T#demo#south-china#C#summer"));
    }

    #[test]
    fn stock_shards_sort_between_their_listing_and_the_next_product() {
        let a = Sku::parse("A1").unwrap();
        let b = Sku::parse("A10").unwrap();
        let listing = listing_sk(&a);
        let shard = stock_sk(&a, 3);
        let after = after_product(&a);
        assert!(listing < shard && shard < after);
        // A longer SKU that shares a prefix never falls inside A1's range.
        assert!(listing_sk(&b) > after || listing_sk(&b) < listing);
    }

    #[test]
    fn instants_sort_as_text_in_time_order_whatever_their_fraction() {
        let a = DateTime::parse_from_rfc3339("2026-11-23T04:00:00Z").unwrap();
        let b = DateTime::parse_from_rfc3339("2026-11-23T04:00:00.5Z").unwrap();
        let c = DateTime::parse_from_rfc3339("2026-11-23T04:00:01Z").unwrap();
        let (a, b, c) = (a.to_utc(), b.to_utc(), c.to_utc());
        assert!(instant(a) < instant(b) && instant(b) < instant(c));
        // the RFC 3339 text serde writes (fraction only when there is one) sorts wrongly
        let serde_text = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        assert!(serde_text(a) > serde_text(b));
    }

    #[test]
    fn a_timer_key_reads_back_as_what_is_due() {
        let t = Tenant::parse("demo", "south-china").unwrap();
        let o = OrderId::parse("01JDEMOORDER00000000000000").unwrap();
        let pk = order_pk(&t, &o);
        assert_eq!(Due::parse(&pk, ORDER_SK), Some(Due::Order(t, o)));
        assert_eq!(Due::parse(&pk, "OTHER"), None);
        assert_eq!(
            Due::parse(&pk, &refund_sk("R02")),
            Some(Due::Refund(
                Tenant::parse("demo", "south-china").unwrap(),
                RefundId::parse("01JDEMOORDER00000000000000-R02").unwrap()
            ))
        );
        assert_eq!(Due::parse("T#demo#x", ORDER_SK), None);
        let (c, buyer) = (
            CampaignId::parse("summer").unwrap(),
            UserId::parse("buyer-1").unwrap(),
        );
        let t = Tenant::parse("demo", "south-china").unwrap();
        assert_eq!(
            Due::parse(&campaign_pk(&t, &c), &visit_sk(&buyer)),
            Some(Due::Visit(t.clone(), c.clone(), buyer))
        );
        assert_eq!(Due::parse(&campaign_pk(&t, &c), "LISTING#x"), None);
    }

    #[test]
    fn timers_spread_over_every_bucket() {
        let buckets: std::collections::BTreeSet<String> = (0..200)
            .map(|i| due_gsi3pk(&format!("T#demo#x#O#{i:026}")))
            .collect();
        assert_eq!(buckets.len(), usize::from(DUE_BUCKETS));
    }

    #[test]
    fn scoped_tenant_parses_brand_and_group() {
        assert_eq!(
            Tenant::parse_scoped("demo/south-china")
                .unwrap()
                .to_string(),
            "demo/south-china"
        );
        assert!(Tenant::parse_scoped("demo").is_err());
        assert!(Tenant::parse_scoped("de#mo/x").is_err());
    }
}
