//! The lifecycle model: random sequences of everything buyers, guides, clerks, staff,
//! the payment provider and the clock do to a campaign, drawn and shrunk by `proptest`,
//! run through the HTTP app (every route, every worker, the sweepers) on the in-memory
//! table and, with fewer cases, on DynamoDB (moto_server).
//!
//! After every step the records are read back and checked against a plain model of
//! what happened outside them (the payments the provider took, the stock put in, the
//! clock), never against the code's own arithmetic:
//!
//! - **money**: per order, paid = applied + refunded as unapplied; per line, the live
//!   refunds cost at most what it cost, and exactly that once every unit is refunded;
//!   the order's counters equal its refunds; the provider pays a refund id at most
//!   once, and its ledger agrees with ours;
//! - **stock**: per listing and size, the sellable units and each store's count are
//!   never negative and equal what was put in, less what orders hold or stores
//!   shipped, plus what came back; no paid order is ever left without a store;
//! - **seats**: members never exceed seats, free seats and paid seats equal the
//!   members, allowances and purchase limits equal a recount of the orders;
//! - **credit** (whenever the queues are empty): each credited sale's commission is
//!   the rate times what was paid less what was refunded, confirmed only after its
//!   window; the counters and new buyers equal a recount; nobody earns on their own
//!   purchase or from outside the campaign; only a paid sale binds;
//! - **report**: every sequence ends by settling everything and closing the campaign;
//!   its final report's figures equal a recount of the records.

use chrono::{Duration, Timelike};
use clearance::clock::Clock;
use clearance::db::attribution::SaleRecord;
use clearance::domain::attribution::{commission, Binding, Reason};
use clearance::domain::group_buy::{GroupBuy, GroupStatus, Member};
use clearance::domain::ids::{CampaignId, GroupBuyId, OrderId, PaymentRef, RefundId, Sku, UserId};
use clearance::domain::order::{Order, OrderStatus, ParcelStatus};
use clearance::domain::refund::{
    unapplied_refund_id, Decision, GoodsStatus, MoneyStatus, Refund, RefundKind, AUTO_ATTEMPTS,
};
use clearance::domain::report::{Report, ShippingLine};
use clearance::domain::search;
use clearance::domain::tenancy::Tenant;
use clearance::payments::SandboxState;
use clearance::queue::{Queue, QueueConsumer};
use clearance::table::keys;
use clearance::table::{Index, Key, Query, SortRange, Table};
use clearance_tests::{coupon, listing, request, World, BASE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const C: &str = "life";
/// Buyers; the last is the login of guide gz-tianhe-g1 (buying through their own link).
const BUYERS: [&str; 6] = ["lb-0", "lb-1", "lb-2", "lb-3", "lb-4", "guide-gz-tianhe-g1"];
/// Guides whose links buyers arrive with; fs-chancheng is not in the campaign.
const GUIDES: [(&str, &str); 3] = [
    ("gz-tianhe-g1", "gz-tianhe"),
    ("sz-futian-g2", "sz-futian"),
    ("fs-chancheng-g1", "fs-chancheng"),
];
const CAMPAIGN_STORES: [&str; 2] = ["gz-tianhe", "sz-futian"];
/// What each listing sells: sku, sizes, price, per-buyer limit, stock (store, size,
/// units), shards, group offer, final sale.
struct Stocked {
    sku: &'static str,
    sizes: &'static [&'static str],
    stock: &'static [(&'static str, &'static str, i64)],
}
const LISTINGS: [Stocked; 3] = [
    Stocked {
        sku: "LF-1",
        sizes: &["38", "39"],
        stock: &[
            ("gz-tianhe", "38", 3),
            ("sz-futian", "38", 2),
            ("sz-futian", "39", 4),
        ],
    },
    Stocked {
        sku: "LF-2",
        sizes: &["38"],
        stock: &[("gz-tianhe", "38", 1), ("sz-futian", "38", 1)],
    },
    Stocked {
        sku: "LF-3",
        sizes: &["40"],
        stock: &[("gz-tianhe", "40", 3)],
    },
];

/// One thing that happens. Indices pick among what exists when it runs (modulo), so a
/// sequence stays meaningful as proptest shrinks it.
#[derive(Debug, Clone)]
enum Op {
    /// A buyer places an order: one or two lines, with or without a coupon and a link,
    /// for pickup or shipping.
    Place {
        buyer: u8,
        sku: u8,
        size: u8,
        qty: u8,
        second: Option<(u8, u8)>,
        coupon: bool,
        link: Option<u8>,
        ship: bool,
        /// For pickup: the store the buyer chooses (one of three: the third is not the
        /// campaign's).
        at: Option<u8>,
    },
    ClaimCoupon {
        buyer: u8,
        big: bool,
    },
    Pay {
        order: u8,
    },
    /// A second payment of an order, under another reference.
    PayAgain {
        order: u8,
    },
    PayWrongAmount {
        order: u8,
    },
    /// A clerk of a parcel's store at the counter, with the right code or not.
    PickUp {
        order: u8,
        parcel: u8,
        right: bool,
    },
    /// A return (or, for a parcel still at the store, its cancellation).
    Return {
        order: u8,
        parcel: Option<u8>,
        line: u8,
        qty: u8,
        resaleable: bool,
    },
    ReturnParcel {
        order: u8,
        parcel: u8,
    },
    /// The buyer cancels a paid order not yet dispatched.
    Cancel {
        order: u8,
    },
    Review {
        refund: u8,
        approve: bool,
    },
    /// A clerk receives a return with any counts (right, short, or overflowing).
    Receive {
        refund: u8,
        counts: Counts,
    },
    /// The provider settles a refund it holds and sends its signed notice.
    Notice {
        refund: u8,
        succeeded: bool,
    },
    /// A signed notice for a refund the provider was never asked for.
    EarlyNotice {
        refund: u8,
    },
    Provider {
        hold: bool,
        refuse: u8,
    },
    Retry {
        refund: u8,
    },
    OpenGroup {
        buyer: u8,
    },
    JoinGroup {
        buyer: u8,
        group: u8,
    },
    SignLink {
        guide: u8,
    },
    /// The buyer of a waiting pickup parcel books one of the next slots at its store
    /// (or cancels the booking).
    Book {
        order: u8,
        slot: u8,
        cancel: bool,
    },
    /// A buyer books a try-on at a campaign store, in the slot running now or one of the
    /// next, of one or two pairs that store was stocked with.
    TryOn {
        buyer: u8,
        store: u8,
        pairs: u8,
        slot: u8,
    },
    /// The store's guide, or a clerk naming them, checks a visitor in (or tries a wrong
    /// code).
    CheckIn {
        visit: u8,
        guide: bool,
        right: bool,
        /// Then the visitor orders the first pair they tried (maybe with a link).
        then_order: Option<bool>,
    },
    /// The buyer cancels their visit.
    CancelVisit {
        visit: u8,
    },
    /// A guide's share poster of a product, drawn or served from the bucket.
    Poster {
        guide: u8,
        sku: u8,
    },
    /// Time passes (minutes), the sweepers run, the queues drain.
    Advance {
        minutes: u32,
    },
    Drain,
    /// The table's stream stops relaying for a while: events wait in the outbox for
    /// the sweeper.
    StreamDown {
        minutes: u32,
    },
    /// The order events now published reach their consumers twice and in reverse
    /// order (SQS delivers at least once, in no promised order).
    Redeliver,
    Close {
        grace: u16,
    },
    /// A clerk of a shipping parcel's store packs it.
    Pack {
        order: u8,
        parcel: u8,
    },
    /// A clerk hands a parcel to a courier: an electronic waybill, the store's rider, or
    /// one of two scanned waybills (which two parcels may try to share).
    HandOver {
        order: u8,
        parcel: u8,
        how: u8,
    },
    /// The aggregator pushes the first `upto` events of a parcel's track (a delivery,
    /// or a refusal and the way back), then replays it, and maybe an older push late.
    Push {
        order: u8,
        parcel: u8,
        upto: u8,
        refused: bool,
        late: bool,
    },
    /// How the sandbox carrier moves the next parcels: delivered, refused, vanished.
    Carrier {
        script: u8,
    },
    /// A clerk takes back a parcel the carrier returned.
    ParcelBack {
        order: u8,
        parcel: u8,
    },
    /// Ops declare a parcel lost.
    DeclareLost {
        order: u8,
        parcel: u8,
    },
    /// A buyer starts an assist of the campaign's offer (maybe through a guide's link).
    StartAssist {
        buyer: u8,
        link: Option<u8>,
    },
    /// Someone with a verified phone assists: a helper of the pool, or a second account
    /// on a buyer's phone.
    Help {
        helper: u8,
        assist: u8,
        alt: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum Counts {
    Exact { damaged: u8 },
    Short,
    Overflow,
}

fn op() -> impl Strategy<Value = Op> {
    let idx = any::<u8>;
    prop_oneof![
        8 => (idx(), idx(), idx(), 1u8..4, proptest::option::of((idx(), idx())), any::<bool>(),
            proptest::option::weighted(0.6, idx()), proptest::bool::weighted(0.4),
            proptest::option::weighted(0.3, idx()))
            .prop_map(|(buyer, sku, size, qty, second, coupon, link, ship, at)| Op::Place {
                buyer, sku, size, qty, second, coupon, link, ship, at }),
        2 => (idx(), any::<bool>()).prop_map(|(buyer, big)| Op::ClaimCoupon { buyer, big }),
        12 => idx().prop_map(|order| Op::Pay { order }),
        1 => idx().prop_map(|order| Op::PayAgain { order }),
        1 => idx().prop_map(|order| Op::PayWrongAmount { order }),
        6 => (idx(), idx(), proptest::bool::weighted(0.8))
            .prop_map(|(order, parcel, right)| Op::PickUp { order, parcel, right }),
        6 => (idx(), proptest::option::of(idx()), idx(), 1u8..3, proptest::bool::weighted(0.6))
            .prop_map(|(order, parcel, line, qty, resaleable)| Op::Return {
                order, parcel, line, qty, resaleable }),
        1 => (idx(), idx()).prop_map(|(order, parcel)| Op::ReturnParcel { order, parcel }),
        2 => idx().prop_map(|order| Op::Cancel { order }),
        3 => (idx(), any::<bool>()).prop_map(|(refund, approve)| Op::Review { refund, approve }),
        3 => (idx(), prop_oneof![
                4 => (0u8..3).prop_map(|damaged| Counts::Exact { damaged }),
                1 => Just(Counts::Short),
                1 => Just(Counts::Overflow),
            ]).prop_map(|(refund, counts)| Op::Receive { refund, counts }),
        2 => (idx(), proptest::bool::weighted(0.8))
            .prop_map(|(refund, succeeded)| Op::Notice { refund, succeeded }),
        1 => idx().prop_map(|refund| Op::EarlyNotice { refund }),
        2 => (proptest::bool::weighted(0.3), prop_oneof![3 => Just(0u8), 1 => 1u8..4])
            .prop_map(|(hold, refuse)| Op::Provider { hold, refuse }),
        1 => idx().prop_map(|refund| Op::Retry { refund }),
        2 => idx().prop_map(|buyer| Op::OpenGroup { buyer }),
        3 => (idx(), idx()).prop_map(|(buyer, group)| Op::JoinGroup { buyer, group }),
        1 => idx().prop_map(|guide| Op::SignLink { guide }),
        1 => (idx(), idx()).prop_map(|(guide, sku)| Op::Poster { guide, sku }),
        6 => (idx(), 0u8..4, proptest::bool::weighted(0.2))
            .prop_map(|(order, slot, cancel)| Op::Book { order, slot, cancel }),
        3 => (idx(), idx(), idx(), prop_oneof![3 => Just(0u8), 1 => 1u8..3])
            .prop_map(|(buyer, store, pairs, slot)| Op::TryOn { buyer, store, pairs, slot }),
        4 => (idx(), any::<bool>(), proptest::bool::weighted(0.8),
            proptest::option::weighted(0.6, any::<bool>()))
            .prop_map(|(visit, guide, right, then_order)| Op::CheckIn { visit, guide, right, then_order }),
        1 => idx().prop_map(|visit| Op::CancelVisit { visit }),
        3 => prop_oneof![Just(10u32), Just(20), Just(90), Just(6 * 60), Just(26 * 60), Just(3 * 24 * 60)]
            .prop_map(|minutes| Op::Advance { minutes }),
        6 => Just(Op::Drain),
        2 => Just(Op::Redeliver),
        1 => prop_oneof![Just(20u32), Just(90)].prop_map(|minutes| Op::StreamDown { minutes }),
        4 => (idx(), idx()).prop_map(|(order, parcel)| Op::Pack { order, parcel }),
        4 => (idx(), idx(), idx()).prop_map(|(order, parcel, how)| Op::HandOver { order, parcel, how }),
        3 => (idx(), idx(), 1u8..6, proptest::bool::weighted(0.3), any::<bool>())
            .prop_map(|(order, parcel, upto, refused, late)| Op::Push { order, parcel, upto, refused, late }),
        1 => (0u8..3).prop_map(|script| Op::Carrier { script }),
        1 => (idx(), idx()).prop_map(|(order, parcel)| Op::ParcelBack { order, parcel }),
        1 => (idx(), idx()).prop_map(|(order, parcel)| Op::DeclareLost { order, parcel }),
        2 => (idx(), proptest::option::weighted(0.3, idx())).prop_map(|(buyer, link)| Op::StartAssist { buyer, link }),
        4 => (idx(), idx(), proptest::bool::weighted(0.15)).prop_map(|(helper, assist, alt)| Op::Help { helper, assist, alt }),
        // A close now and then: most sequences sell first and close at their end.
        1 => (prop_oneof![Just(0u16), Just(30), Just(120)], 0u8..4)
            .prop_map(|(grace, now)| if now == 0 { Op::Close { grace } } else { Op::Drain }),
    ]
}

/// Handed to its stores: units to return, or parcels to cancel.
fn dispatched(o: &Order) -> bool {
    matches!(
        o.status,
        OrderStatus::Shipped
            | OrderStatus::Delivered
            | OrderStatus::ReadyForPickup
            | OrderStatus::PickedUp
    )
}

/// The verified phone of buyer `b`.
fn buyer_phone(b: usize) -> String {
    format!("1380000{b:04}")
}

/// A shipped order with a parcel in `wanted`.
fn shipping_with(o: &Order, wanted: &[ParcelStatus]) -> bool {
    o.status == OrderStatus::Shipped
        && o.parcels
            .iter()
            .any(|p| p.ships() && wanted.contains(&p.status))
}

/// How far along a parcel is (never less than it was).
fn parcel_rank(s: ParcelStatus) -> u8 {
    match s {
        ParcelStatus::ToPack | ParcelStatus::ReadyForPickup => 0,
        ParcelStatus::Packed => 1,
        ParcelStatus::HandedOver => 2,
        ParcelStatus::InTransit => 3,
        ParcelStatus::DeliveryFailed => 4,
        _ => 9,
    }
}

/// What the provider paid back of an order's own money (refunds of payments it never
/// took are not its).
fn paid_back(refunds: &[Refund]) -> i64 {
    refunds
        .iter()
        .filter(|r| r.kind != RefundKind::UnappliedPayment && r.money == MoneyStatus::Succeeded)
        .map(|r| r.amount_fen.get())
        .sum()
}

fn pick<T>(items: &[T], i: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(i) % items.len())
    }
}

/// A payment the provider took and we answered 200 to.
#[derive(Debug, Clone)]
struct Payment {
    order: String,
    payment: String,
    amount: i64,
}

/// The model: the world, and what happened outside its records.
struct Model {
    w: World,
    t: Tenant,
    campaign: CampaignId,
    binding: bool,
    orders: Vec<(String, String)>,
    groups: Vec<String>,
    refunds: Vec<String>,
    payments: Vec<Payment>,
    keys: u64,
    closed: bool,
    /// Whether the queues are known to be empty (credit is checked then).
    drained: bool,
    /// The table's stream is down until then: new order events stay in the outbox
    /// until the sweeper relays them (15 minutes after they were written).
    stream_down_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The furthest each parcel has been seen: a parcel never moves back.
    parcel_ranks: BTreeMap<(String, u8), u8>,
    /// Assists started (ids).
    assists: Vec<String>,
    /// Each poster's key and the facts it showed.
    posters: BTreeMap<String, Value>,
    /// The stores' days that have pickup bookings or try-on visits.
    booking_days: BTreeSet<(String, chrono::NaiveDate)>,
    /// Try-on visits booked: id, store.
    visits: Vec<(String, String)>,
    /// When the sweepers last ran: every visit over by then has given its holds back.
    swept_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How often each kind of call succeeded or was refused, over the run: printed, so a
/// run that only ever hits refusals shows it.
static OUTCOMES: std::sync::Mutex<BTreeMap<String, [u64; 2]>> =
    std::sync::Mutex::new(BTreeMap::new());

fn status(r: &clearance_tests::Resp, what: &str) {
    if let Ok(mut o) = OUTCOMES.lock() {
        let e = o.entry(what.to_owned()).or_default();
        e[usize::from(!r.status.is_success())] += 1;
        if std::env::var("LIFECYCLE_WHY").is_ok() && !r.status.is_success() {
            let field = r.body["field"].as_str().unwrap_or_default();
            *o.entry(format!("{what}: {} {field}", problem_type(r)))
                .or_default()
                .get_mut(1)
                .unwrap_or(&mut 0) += 1;
        }
    }
    assert!(r.status.as_u16() < 500, "{what}: {} {}", r.status, r.body);
    if r.status.is_client_error() {
        assert_eq!(
            r.content_type, "application/problem+json",
            "{what}: {}",
            r.body
        );
    }
}

fn problem_type(r: &clearance_tests::Resp) -> String {
    r.body["type"]
        .as_str()
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}

impl Model {
    async fn new(table: Arc<dyn Table>, binding: bool) -> Model {
        let w = World::new(table).await;
        clearance_local::seed::seed_demo(&w.state.db, clearance_tests::t0())
            .await
            .unwrap_or_else(|e| panic!("seeding the demo tenant: {e}"));
        let now = w.clock.now();
        let rule = if binding { "binding" } else { "last_touch" };
        let [group_sandal, split_pump, final_slide] = &LISTINGS;
        w.campaign(C)
            .named("Lifecycle")
            .stores(&CAMPAIGN_STORES)
            .runs(now + Duration::minutes(2), now + Duration::days(10))
            .returns(json!({"window_days": 2, "review_after_returns": 2, "send_back_days": 2,
                "escalate_after_hours": 4, "pickup_days": 2}))
            .attribution(json!({"rule": rule, "protection_days": 2, "link_days": 7, "commission_bp": 300}))
            .listing(
                group_sandal.sku,
                listing(29_900)
                    .named("Group sandal")
                    .list_price(59_900)
                    .per_buyer(3)
                    .shards(2)
                    .group(json!({"price_fen": 19_900, "size": 3, "hours": 24, "per_buyer": 2, "store_completes_at": 2}))
                    .stocked(group_sandal.stock),
            )
            .listing(
                split_pump.sku,
                listing(45_901)
                    .named("Split pump")
                    .list_price(89_900)
                    .per_buyer(2)
                    .stocked(split_pump.stock),
            )
            .listing(
                final_slide.sku,
                listing(9_933)
                    .named("Final slide")
                    .list_price(19_900)
                    .per_buyer(3)
                    .with("final_sale", json!(true))
                    .stocked(final_slide.stock),
            )
            .coupon("c20", coupon(2_000).per_buyer(2).budget(1_000))
            .coupon("pack10", coupon(1_000).budget(1_000))
            // two helpers unlock a pack of two 10-off coupons; 3 packs in all
            .assist_offer("duo", json!({"name": "Duo", "helpers": 2, "hours": 12,
                "pack": ["pack10", "pack10"], "budget": 3, "daily_cap": 2}))
            .coupon(
                "c50",
                coupon(5_000).named("50 off over 500").min_spend(50_000).budget(1_000),
            )
            .live()
            .await;
        Model {
            t: clearance_local::seed::tenant().unwrap_or_else(|e| panic!("{e}")),
            campaign: CampaignId::parse(C).unwrap_or_else(|e| panic!("{e}")),
            w,
            binding,
            orders: Vec::new(),
            groups: Vec::new(),
            refunds: Vec::new(),
            payments: Vec::new(),
            keys: 0,
            closed: false,
            drained: true,
            stream_down_until: None,
            parcel_ranks: BTreeMap::new(),
            assists: Vec::new(),
            posters: BTreeMap::new(),
            booking_days: BTreeSet::new(),
            visits: Vec::new(),
            swept_at: None,
        }
    }

    fn key(&mut self) -> String {
        self.keys += 1;
        format!("life-{}", self.keys)
    }

    /// Whether the campaign sells now (published, not ended: the schedule closes it at
    /// its end).
    async fn selling(&self) -> bool {
        let c = self
            .w
            .state
            .db
            .campaign(&self.t, &self.campaign, true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        c.stage == clearance::domain::campaign::Stage::Published && self.w.clock.now() < c.ends_at
    }

    async fn order(&self, id: &str) -> Order {
        let id = OrderId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        self.w
            .state
            .db
            .order(&self.t, &id, true)
            .await
            .unwrap_or_else(|e| panic!("reading order {id}: {e}"))
    }

    /// A group buy with its members, read consistently.
    async fn group(&self, id: &str) -> (GroupBuy, Vec<Member>) {
        let id = GroupBuyId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        self.w
            .state
            .db
            .group(&self.t, &id, true)
            .await
            .unwrap_or_else(|e| panic!("reading group {id}: {e}"))
    }

    async fn refund(&self, id: &str) -> Refund {
        let id = RefundId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        self.w
            .state
            .db
            .refund(&self.t, &id, true)
            .await
            .unwrap_or_else(|e| panic!("reading refund {id}: {e}"))
    }

    /// Sends a payment notice as the provider would, and records what it took.
    async fn notify_payment(&mut self, order: &Order, amount: i64, payment: &str) -> Value {
        let payment_ref = PaymentRef::parse(payment).unwrap_or_else(|e| panic!("{e}"));
        let fen = clearance::domain::money::Fen::new(amount).unwrap_or_else(|e| panic!("{e}"));
        let (body, sig) = self.w.sandbox.notice(order, fen, &payment_ref);
        let r = send_signed(&self.w, "/v1/payments/notify", body, &sig).await;
        status(&r, "payment notice");
        if r.status == 200 {
            if !self
                .payments
                .iter()
                .any(|p| p.order == order.id.as_str() && p.payment == payment)
            {
                self.payments.push(Payment {
                    order: order.id.to_string(),
                    payment: payment.to_owned(),
                    amount,
                });
            }
            if r.body["status"] == "refund_due" {
                self.track_refund(unapplied_refund_id(&order.id, &payment_ref).to_string());
            }
        }
        r.body
    }

    /// The `i`-th order among those `wanted` picks (any order when none does), and its
    /// buyer: steps act on orders where they mean something, and now and then on
    /// one where they must be refused.
    async fn choose_order(
        &self,
        i: u8,
        wanted: impl Fn(&Order) -> bool,
    ) -> Option<(String, String)> {
        let mut matching = Vec::new();
        for (id, buyer) in &self.orders {
            if wanted(&self.order(id).await) {
                matching.push((id.clone(), buyer.clone()));
            }
        }
        if matching.is_empty() {
            return pick(&self.orders, i).cloned();
        }
        pick(&matching, i).cloned()
    }

    async fn assist(&self, id: &str) -> clearance::domain::assist::Assist {
        let id = clearance::domain::ids::AssistId::parse(id).unwrap_or_else(|e| panic!("{e}"));
        self.w
            .state
            .db
            .assist(&self.t, &id)
            .await
            .unwrap_or_else(|e| panic!("reading assist {id}: {e}"))
    }

    /// A parcel of an order (preferring orders `wanted`), with its store.
    async fn choose_parcel(
        &self,
        i: u8,
        parcel: u8,
        wanted: impl Fn(&Order) -> bool,
    ) -> Option<(String, u8, &'static str)> {
        let (id, _) = self.choose_order(i, wanted).await?;
        let o = self.order(&id).await;
        let p = pick(&o.parcels, parcel)?;
        let store = CAMPAIGN_STORES
            .iter()
            .chain(["fs-chancheng"].iter())
            .find(|s| **s == p.store.as_str())
            .copied()?;
        Some((id, p.id, store))
    }

    /// The same for refunds.
    async fn choose_refund(&self, i: u8, wanted: impl Fn(&Refund) -> bool) -> Option<String> {
        let mut matching = Vec::new();
        for id in &self.refunds {
            if wanted(&self.refund(id).await) {
                matching.push(id.clone());
            }
        }
        if matching.is_empty() {
            return pick(&self.refunds, i).cloned();
        }
        pick(&matching, i).cloned()
    }

    fn track_refund(&mut self, id: String) {
        if !self.refunds.contains(&id) {
            self.refunds.push(id);
        }
    }

    async fn drain(&mut self) {
        let now = self.w.clock.now();
        if self.stream_down_until.is_some_and(|until| now >= until) {
            self.stream_down_until = None;
        }
        if self.stream_down_until.is_some() {
            // Only what the sweeper relayed reaches the consumers: not drained.
            while clearance_local::consume_once(&self.w.state, self.w.queue.as_ref()).await {}
            self.drained = false;
        } else {
            self.w.drain().await;
            self.drained = true;
        }
    }

    /// Relays the outbox, then puts every order event waiting for attribution and
    /// members back twice, last first.
    async fn redeliver(&mut self) {
        let now = self.w.clock.now();
        if self.stream_down_until.is_none() {
            self.w
                .state
                .relay_new_events(now)
                .await
                .unwrap_or_else(|e| panic!("relaying: {e}"));
        }
        for q in clearance::queue::messages::ORDER_EVENT_QUEUES {
            let mut bodies = Vec::new();
            loop {
                let got = self
                    .w
                    .queue
                    .receive(q, 10)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                if got.is_empty() {
                    break;
                }
                for m in got {
                    bodies.push(m.body.clone());
                    self.w
                        .queue
                        .ack(q, &m.receipt)
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            }
            for body in bodies.iter().rev().chain(bodies.iter()) {
                self.w
                    .queue
                    .send(q, body, None)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    async fn apply(&mut self, op: &Op) {
        // Most steps leave work on the queues; a drain or an advance empties them.
        self.drained = false;
        match op {
            Op::Place {
                buyer,
                sku,
                size,
                qty,
                second,
                coupon,
                link,
                ship,
                at,
            } => {
                let buyer = BUYERS[usize::from(*buyer) % BUYERS.len()];
                let line = |sku: u8, size: u8, qty: u8| {
                    let l = &LISTINGS[usize::from(sku) % LISTINGS.len()];
                    let size = l.sizes[usize::from(size) % l.sizes.len()];
                    (l.sku, size, qty)
                };
                let mut lines = vec![line(*sku, *size, *qty)];
                if let Some((s, z)) = second {
                    let more = line(*s, *z, 1);
                    if !lines.iter().any(|l| l.0 == more.0 && l.1 == more.1) {
                        lines.push(more);
                    }
                }
                let lines: Vec<Value> = lines
                    .iter()
                    .map(|(s, z, q)| json!({"sku": s, "size": z, "quantity": q}))
                    .collect();
                let mut body = json!({"campaign": C, "lines": lines});
                if !coupon {
                    body["coupon"] = "none".into();
                }
                if let Some(g) = link {
                    let (guide, store) = GUIDES[usize::from(*g) % GUIDES.len()];
                    body["share_token"] = self.w.share_token(guide, store, C).into();
                }
                if *ship {
                    body["delivery"] = json!({"mode": "shipping", "phone": "13800001234",
                        "address": {"province": "GD", "city": "Guangzhou", "district": "Tianhe", "line": "1 Road"},
                        "location": {"lat": 23.135, "lng": 113.33}});
                }
                let mut outside = false;
                if let (false, Some(s)) = (*ship, at) {
                    let stores = [CAMPAIGN_STORES[0], CAMPAIGN_STORES[1], "fs-chancheng"];
                    let store = stores[usize::from(*s) % stores.len()];
                    outside = !CAMPAIGN_STORES.contains(&store);
                    body["delivery"] = json!({"mode": "pickup", "store": store});
                }
                let key = self.key();
                let r = self.w.place(buyer, &key, &body).await;
                status(&r, "place");
                if outside {
                    assert_ne!(
                        r.status, 201,
                        "a pickup store outside the campaign was taken"
                    );
                }
                if r.status == 201 {
                    let id = r.body["order"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    self.orders.push((id, buyer.to_owned()));
                }
            }
            Op::ClaimCoupon { buyer, big } => {
                let buyer = BUYERS[usize::from(*buyer) % BUYERS.len()];
                let tpl = if *big { "c50" } else { "c20" };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/campaigns/{C}/coupons/{tpl}/claim"),
                        Some(&self.w.buyer(buyer)),
                        &json!({}),
                    )
                    .await;
                status(&r, "claim");
            }
            Op::Pay { order } => {
                let waiting = |o: &Order| o.status == OrderStatus::AwaitingPayment;
                let Some((id, _)) = self.choose_order(*order, waiting).await else {
                    return;
                };
                let o = self.order(&id).await;
                let r = self
                    .notify_payment(&o, o.total_fen.get(), &format!("sandbox-{id}"))
                    .await;
                if o.status == OrderStatus::AwaitingPayment && o.group.is_none() {
                    assert_eq!(r["status"], "paid", "paying {id}: {r}");
                }
            }
            Op::PayAgain { order } => {
                let paid = |o: &Order| o.payment_ref.is_some();
                let Some((id, _)) = self.choose_order(*order, paid).await else {
                    return;
                };
                let o = self.order(&id).await;
                let payment = format!("second-{}", self.key());
                let r = self.notify_payment(&o, o.total_fen.get(), &payment).await;
                if o.status != OrderStatus::AwaitingPayment {
                    assert_eq!(r["status"], "refund_due", "a second payment: {r}");
                }
            }
            Op::PayWrongAmount { order } => {
                let Some((id, _)) = pick(&self.orders, *order).cloned() else {
                    return;
                };
                let o = self.order(&id).await;
                let payment = format!("wrong-{}", self.key());
                let r = self
                    .notify_payment(&o, o.total_fen.get() + 1, &payment)
                    .await;
                assert_eq!(r["status"], "refund_due", "a wrong amount: {r}");
            }
            Op::PickUp {
                order,
                parcel,
                right,
            } => {
                let waiting = |o: &Order| o.status == OrderStatus::ReadyForPickup;
                let Some((id, buyer)) = self.choose_order(*order, waiting).await else {
                    return;
                };
                let view = self
                    .w
                    .get(&format!("{BASE}/orders/{id}"), Some(&self.w.buyer(&buyer)))
                    .await;
                let parcels = view.body["parcels"].as_array().cloned().unwrap_or_default();
                let Some(p) = pick(&parcels, *parcel) else {
                    return;
                };
                let store = p["store"].as_str().unwrap_or_default();
                let code = if *right {
                    p["pickup_code"].as_str().unwrap_or("000000").to_owned()
                } else {
                    "999999".to_owned()
                };
                let waiting = p["status"] == "ready_for_pickup";
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/pickup"),
                        Some(&self.w.clerk(&format!("clerk-{store}"))),
                        &json!({"code": code, "parcel": p["id"]}),
                    )
                    .await;
                status(&r, "pickup");
                if r.status == 200 && r.body["outcome"] == "handed_over" {
                    assert!(
                        waiting && *right && code != "999999",
                        "only a waiting parcel's own code hands it over: {p} {}",
                        r.body
                    );
                }
            }
            Op::Return {
                order,
                parcel,
                line,
                qty,
                resaleable,
            } => {
                let Some((id, buyer)) = self.choose_order(*order, dispatched).await else {
                    return;
                };
                let o = self.order(&id).await;
                let Some(l) = pick(&o.lines, *line) else {
                    return;
                };
                let mut body = json!({"lines": [{"sku": l.priced.sku, "size": l.priced.size, "quantity": qty}],
                    "reason": "wrong_size",
                    "condition": {"unworn": true, "tags_on": resaleable, "original_box": true}});
                let mut must_take = false;
                if let Some(p) = parcel {
                    let n = 1 + (*p % 3);
                    body["parcel"] = n.into();
                    // A parcel handed over that holds the units: the return is taken
                    // (decided by the rules), whatever store its line was split over.
                    let line = pick(&o.lines, *line).map(|_| usize::from(*line) % o.lines.len());
                    must_take = o.parcels.iter().any(|p| {
                        p.id == n
                            && matches!(p.status, ParcelStatus::PickedUp | ParcelStatus::Delivered)
                            && p.items
                                .iter()
                                .any(|it| Some(it.line) == line && it.left() >= u32::from(*qty))
                    }) && self.selling_or_settling().await;
                }
                let taken = self.ask_refund(&id, &buyer, &body).await;
                assert!(
                    !must_take || taken,
                    "a return naming the parcel that holds its units is taken"
                );
            }
            Op::ReturnParcel { order, parcel } => {
                let Some((id, buyer)) = self.choose_order(*order, dispatched).await else {
                    return;
                };
                let body = json!({"parcel": 1 + u32::from(*parcel) % 3, "reason": "changed_mind",
                    "condition": {"unworn": true, "tags_on": true, "original_box": true}});
                self.ask_refund(&id, &buyer, &body).await;
            }
            Op::Pack { order, parcel } => {
                let want = |o: &Order| shipping_with(o, &[ParcelStatus::ToPack]);
                let Some((id, p, store)) = self.choose_parcel(*order, *parcel, want).await else {
                    return;
                };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/pack"),
                        Some(&self.w.clerk(&format!("clerk-{store}"))),
                        &json!({}),
                    )
                    .await;
                status(&r, "pack");
                if r.status == 200 {
                    assert!(
                        r.body["slip_url"].as_str().is_some_and(|u| !u.is_empty()),
                        "{}",
                        r.body
                    );
                }
                // another store's clerk may not
                let other = CAMPAIGN_STORES
                    .iter()
                    .find(|s| **s != store)
                    .copied()
                    .unwrap_or("fs-chancheng");
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/pack"),
                        Some(&self.w.clerk(&format!("clerk-{other}"))),
                        &json!({}),
                    )
                    .await;
                assert_eq!(r.status, 403, "another store's clerk packs: {}", r.body);
            }
            Op::HandOver { order, parcel, how } => {
                let want = |o: &Order| shipping_with(o, &[ParcelStatus::Packed]);
                let Some((id, p, store)) = self.choose_parcel(*order, *parcel, want).await else {
                    return;
                };
                let body = match how % 4 {
                    0 => json!({"carrier": "sf"}),
                    1 => json!({"carrier": "same-city"}),
                    n => json!({"carrier": "zto", "waybill": format!("SCAN{n}")}),
                };
                let taken = how % 4 >= 2 && {
                    let mut taken = false;
                    for (oid, _) in &self.orders {
                        taken |= self.order(oid).await.parcels.iter().any(|q| {
                            q.shipment.as_ref().is_some_and(|s| {
                                s.waybill.as_ref().map(|w| w.as_str()) == body["waybill"].as_str()
                            })
                        });
                    }
                    taken
                };
                let o = self.order(&id).await;
                let waiting = o
                    .parcels
                    .iter()
                    .any(|q| q.id == p && q.status == ParcelStatus::Packed);
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/handover"),
                        Some(&self.w.clerk(&format!("clerk-{store}"))),
                        &body,
                    )
                    .await;
                status(&r, "handover");
                if taken && waiting {
                    assert_eq!(
                        problem_type(&r),
                        "waybill-taken",
                        "a waybill on another parcel: {}",
                        r.body
                    );
                }
                if how % 4 == 1 && waiting {
                    // only Tianhe rides, and the pin is 1 km from it
                    assert_eq!(
                        r.status == 200,
                        store == "gz-tianhe",
                        "same-city from {store}: {} {:?}",
                        r.body,
                        o.delivery.location
                    );
                }
            }
            Op::Push {
                order,
                parcel,
                upto,
                refused,
                late,
            } => {
                let moving = [
                    ParcelStatus::HandedOver,
                    ParcelStatus::InTransit,
                    ParcelStatus::DeliveryFailed,
                    ParcelStatus::Delivered,
                ];
                let want = |o: &Order| o.parcels.iter().any(|p| moving.contains(&p.status));
                let Some((id, p, _)) = self.choose_parcel(*order, *parcel, want).await else {
                    return;
                };
                let o = self.order(&id).await;
                let Some(sh) = o
                    .parcels
                    .iter()
                    .find(|q| q.id == p)
                    .and_then(|q| q.shipment.clone())
                else {
                    return;
                };
                let (Some(carrier), Some(waybill), Some(handed)) =
                    (sh.carrier, sh.waybill, sh.handed_over)
                else {
                    return;
                };
                use clearance::domain::shipping::{TrackEvent, TrackStatus::*};
                let steps: &[(i64, _)] = if *refused {
                    &[
                        (1, InTransit),
                        (20, OutForDelivery),
                        (21, Failed),
                        (30, Returning),
                        (50, ReturnedToSender),
                    ]
                } else {
                    &[
                        (1, InTransit),
                        (12, InTransit),
                        (20, OutForDelivery),
                        (24, Delivered),
                    ]
                };
                let events: Vec<TrackEvent> = steps
                    .iter()
                    .map(|(h, s)| TrackEvent {
                        at: handed.at + Duration::hours(*h),
                        status: *s,
                        place: Some("hub".into()),
                        note: None,
                    })
                    .collect();
                let n = usize::from(*upto).min(events.len());
                let push = |k: usize| clearance::couriers::TrackingPush {
                    tenant: self.t.to_string(),
                    order: o.id.clone(),
                    parcel: p,
                    carrier: carrier.clone(),
                    waybill: waybill.clone(),
                    events: events[..k].to_vec(),
                };
                let (body, sig) = self.w.couriers.signed(&push(n));
                let r = send_signed(&self.w, "/v1/couriers/notify", body.clone(), &sig).await;
                status(&r, "courier push");
                let before = self.order(&id).await;
                // the same push again, and an older one late: nothing changes
                let r = send_signed(&self.w, "/v1/couriers/notify", body, &sig).await;
                status(&r, "courier push replayed");
                if r.status == 200 {
                    assert_eq!(
                        r.body["changed"], false,
                        "a replayed push changed the parcel: {}",
                        r.body
                    );
                }
                if *late && n > 1 {
                    let (body, sig) = self.w.couriers.signed(&push(n - 1));
                    let r = send_signed(&self.w, "/v1/couriers/notify", body, &sig).await;
                    status(&r, "courier push late");
                }
                let after = self.order(&id).await;
                assert_eq!(
                    before.parcels, after.parcels,
                    "a replayed or late push moved a parcel"
                );
                // a tampered push is refused and changes nothing
                let (mut body, sig) = self.w.couriers.signed(&push(events.len()));
                if let Some(b) = body.last_mut() {
                    *b ^= 1;
                }
                let r = send_signed(&self.w, "/v1/couriers/notify", body, &sig).await;
                assert_eq!(r.status, 401, "a tampered push: {}", r.body);
                assert_eq!(self.order(&id).await.parcels, after.parcels);
            }
            Op::Carrier { script } => {
                use clearance::couriers::Script;
                self.w.couriers.script_next(
                    [Script::Deliver, Script::Refuse, Script::Vanish][usize::from(*script) % 3],
                );
            }
            Op::ParcelBack { order, parcel } => {
                let want = |o: &Order| {
                    shipping_with(o, &[ParcelStatus::DeliveryFailed, ParcelStatus::InTransit])
                };
                let Some((id, p, store)) = self.choose_parcel(*order, *parcel, want).await else {
                    return;
                };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/returned"),
                        Some(&self.w.clerk(&format!("clerk-{store}"))),
                        &json!({}),
                    )
                    .await;
                status(&r, "parcel back");
                if let Some(rid) = r.body["refund"]["id"].as_str() {
                    self.track_refund(rid.to_owned());
                }
            }
            Op::DeclareLost { order, parcel } => {
                let want = |o: &Order| {
                    shipping_with(
                        o,
                        &[
                            ParcelStatus::HandedOver,
                            ParcelStatus::InTransit,
                            ParcelStatus::DeliveryFailed,
                        ],
                    )
                };
                let Some((id, p, _)) = self.choose_parcel(*order, *parcel, want).await else {
                    return;
                };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/lost"),
                        Some(&self.w.ops()),
                        &json!({"note": "carrier says lost"}),
                    )
                    .await;
                status(&r, "declare lost");
                if let Some(rid) = r.body["refund"]["id"].as_str() {
                    self.track_refund(rid.to_owned());
                }
                // declaring it again refunds nothing more
                let again = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/orders/{id}/parcels/{p}/lost"),
                        Some(&self.w.ops()),
                        &json!({"note": "again"}),
                    )
                    .await;
                status(&again, "declare lost again");
                assert_ne!(again.status, 200, "a parcel lost twice: {}", again.body);
            }
            Op::Cancel { order } => {
                let paid = |o: &Order| o.status == OrderStatus::Paid;
                let Some((id, buyer)) = self.choose_order(*order, paid).await else {
                    return;
                };
                self.ask_refund(&id, &buyer, &json!({"reason": "changed_mind"}))
                    .await;
            }
            Op::Review { refund, approve } => {
                let pending = |r: &Refund| r.decision == Decision::PendingReview;
                let Some(id) = self.choose_refund(*refund, pending).await else {
                    return;
                };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/refunds/{id}/decision"),
                        Some(&self.w.ops()),
                        &json!({"approve": approve}),
                    )
                    .await;
                status(&r, "review");
            }
            Op::Receive { refund, counts } => {
                let coming = |r: &Refund| r.goods == GoodsStatus::AwaitingReturn;
                let Some(id) = self.choose_refund(*refund, coming).await else {
                    return;
                };
                let r = self.refund(&id).await;
                let Some(store) = r.return_store.clone() else {
                    return;
                };
                let units: Vec<Value> = r
                    .lines
                    .iter()
                    .map(|l| match counts {
                        Counts::Exact { damaged } => {
                            let d = u32::from(*damaged).min(l.quantity);
                            json!({"line": l.line, "resaleable": l.quantity - d, "damaged": d})
                        }
                        Counts::Short => {
                            json!({"line": l.line, "resaleable": l.quantity.saturating_sub(1), "damaged": 0})
                        }
                        Counts::Overflow => {
                            json!({"line": l.line, "resaleable": u32::MAX, "damaged": 1 + l.quantity})
                        }
                    })
                    .collect();
                let resp = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/refunds/{id}/receive"),
                        Some(&self.w.clerk(&format!("clerk-{store}"))),
                        &json!({"units": units}),
                    )
                    .await;
                status(&resp, "receive");
                if !matches!(counts, Counts::Exact { .. }) {
                    assert_ne!(resp.status, 200, "counts that do not add up: {}", resp.body);
                }
            }
            Op::Notice { refund, succeeded } => {
                let asked = |r: &Refund| r.money == MoneyStatus::Submitted;
                let Some(id) = self.choose_refund(*refund, asked).await else {
                    return;
                };
                let rid = RefundId::parse(&id).unwrap_or_else(|e| panic!("{e}"));
                let Some((body, sig)) = self.w.sandbox.settle(&self.t, &rid, *succeeded) else {
                    return; // the provider was never asked: it sends nothing
                };
                let r = send_signed(&self.w, "/v1/payments/refund-notify", body, &sig).await;
                status(&r, "refund notice");
            }
            Op::EarlyNotice { refund } => {
                let queued = |r: &Refund| r.money == MoneyStatus::Queued;
                let Some(id) = self.choose_refund(*refund, queued).await else {
                    return;
                };
                let before = self.refund(&id).await;
                if !matches!(before.money, MoneyStatus::Queued | MoneyStatus::NotDue) {
                    return;
                }
                let notice = json!({"tenant": self.t.to_string(), "refund": id, "status": "succeeded",
                    "amount_fen": before.amount_fen.get()});
                let body = serde_json::to_vec(&notice).unwrap_or_default();
                let sig = clearance::domain::signing::sign_body(&self.w.sandbox.secret, &body);
                let r = send_signed(&self.w, "/v1/payments/refund-notify", body, &sig).await;
                assert_eq!(
                    r.status, 409,
                    "a notice the provider was never asked for: {}",
                    r.body
                );
                assert_eq!(
                    self.refund(&id).await.money,
                    before.money,
                    "an early notice settled {id}"
                );
            }
            Op::Provider { hold, refuse } => {
                self.w.sandbox.hold_refunds(*hold);
                self.w.sandbox.fail_next_refunds(u32::from(*refuse));
            }
            Op::Retry { refund } => {
                let failed = |r: &Refund| r.money == MoneyStatus::Failed;
                let Some(id) = self.choose_refund(*refund, failed).await else {
                    return;
                };
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/refunds/{id}/retry"),
                        Some(&self.w.ops()),
                        &json!({}),
                    )
                    .await;
                status(&r, "retry");
            }
            Op::OpenGroup { buyer } => {
                let buyer = BUYERS[usize::from(*buyer) % BUYERS.len()];
                let path = format!("{BASE}/campaigns/{C}/group-buys");
                if let Some(order) = self.take_seat(&path, buyer, "open group").await {
                    let g = order["group_buy"].as_str().unwrap_or_default().to_owned();
                    self.groups.push(g);
                }
            }
            Op::JoinGroup { buyer, group } => {
                let buyer = BUYERS[usize::from(*buyer) % BUYERS.len()];
                let Some(g) = pick(&self.groups, *group).cloned() else {
                    return;
                };
                let path = format!("{BASE}/group-buys/{g}/join");
                self.take_seat(&path, buyer, "join group").await;
            }
            Op::StartAssist { buyer, link } => {
                let b = usize::from(*buyer) % BUYERS.len();
                let mut body = json!({});
                if let Some(g) = link {
                    let (guide, store) = GUIDES[usize::from(*g) % GUIDES.len()];
                    body["share_token"] = self.w.share_token(guide, store, C).into();
                }
                let token = self.w.buyer_with_phone(BUYERS[b], &buyer_phone(b));
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/campaigns/{C}/assist-offers/duo/assists"),
                        Some(&token),
                        &body,
                    )
                    .await;
                status(&r, "start assist");
                if let Some(id) = r.body["id"].as_str() {
                    if !self.assists.iter().any(|a| a == id) {
                        self.assists.push(id.to_owned());
                    }
                }
            }
            Op::Help {
                helper,
                assist,
                alt,
            } => {
                let Some(id) = pick(&self.assists, *assist).cloned() else {
                    return;
                };
                let a = self.assist(&id).await;
                let link = clearance::domain::assist::sign_link(
                    &self.w.state.secrets.share_link,
                    &a.claims(),
                );
                // a second account on a buyer's phone, or one of 6 helpers' phones
                let (sub, phone) = if *alt {
                    let b = usize::from(*helper) % BUYERS.len();
                    (format!("alt-{b}"), buyer_phone(b))
                } else {
                    let h = usize::from(*helper) % 6;
                    (format!("helper-{h}"), format!("1370000{h:04}"))
                };
                let token = self.w.buyer_with_phone(&sub, &phone);
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/assists/{id}/help"),
                        Some(&token),
                        &json!({"link": link}),
                    )
                    .await;
                status(&r, "assist");
                let starter_phone = BUYERS
                    .iter()
                    .position(|b| *b == a.starter.as_str())
                    .map(buyer_phone);
                if starter_phone.as_deref() == Some(phone.as_str()) {
                    // refused as the starter's own, unless the assist is over first (its
                    // link expired, or the close fenced its offer)
                    let why = problem_type(&r);
                    assert!(
                        why == "assist-self" || why == "assist-closed",
                        "the starter's phone assisted: {}",
                        r.body
                    );
                }
            }
            Op::Poster { guide, sku } => self.poster(*guide, *sku).await,
            Op::TryOn {
                buyer,
                store,
                pairs,
                slot,
            } => self.try_on(*buyer, *store, *pairs, *slot).await,
            Op::CheckIn {
                visit,
                guide,
                right,
                then_order,
            } => self.check_in(*visit, *guide, *right, *then_order).await,
            Op::CancelVisit { visit } => self.cancel_visit(*visit).await,
            Op::Book {
                order,
                slot,
                cancel,
            } => self.book(*order, *slot, *cancel).await,
            Op::SignLink { guide } => {
                let (guide, store) = GUIDES[usize::from(*guide) % GUIDES.len()];
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/guides/{guide}/share-links"),
                        Some(&self.w.ops()),
                        &json!({"campaign": C}),
                    )
                    .await;
                status(&r, "share link");
                if self.selling().await {
                    let inside = CAMPAIGN_STORES.contains(&store);
                    assert_eq!(
                        r.status == 201,
                        inside,
                        "a link for {guide} of {store}: {}",
                        r.body
                    );
                }
            }
            Op::Advance { minutes } => {
                self.w.clock.advance(Duration::minutes(i64::from(*minutes)));
                self.sweep().await;
            }
            Op::Drain => self.drain().await,
            Op::Redeliver => self.redeliver().await,
            Op::StreamDown { minutes } => {
                self.stream_down_until =
                    Some(self.w.clock.now() + Duration::minutes(i64::from(*minutes)));
            }
            Op::Close { grace } => {
                let mut open = false;
                for g in &self.groups {
                    let (group, _) = self.group(g).await;
                    open |= group.status == GroupStatus::Open;
                }
                let r = self
                    .w
                    .json(
                        "POST",
                        &format!("{BASE}/campaigns/{C}/close"),
                        Some(&self.w.ops()),
                        &json!({"grace_minutes": grace}),
                    )
                    .await;
                status(&r, "close");
                if r.status == 202 {
                    self.closed = true;
                    if !open {
                        // the grace is for groups that can still form: with none, the
                        // first count is published at once
                        self.drain().await;
                        let c = self
                            .w
                            .state
                            .db
                            .campaign(&self.t, &self.campaign, true)
                            .await
                            .unwrap_or_else(|e| panic!("{e}"));
                        assert_ne!(
                            c.stage,
                            clearance::domain::campaign::Stage::Closing,
                            "a close with no open group waits: {:?}",
                            c.close.map(|r| r.phase)
                        );
                    }
                }
            }
        }
    }

    /// A booking (or its cancellation) of one of the next four slots at a waiting
    /// parcel's store (the demo's: 10:00-22:00, 30 minutes, 5 places).
    async fn book(&mut self, order: u8, slot: u8, cancel: bool) {
        // among the orders with a parcel waiting at its store
        let mut ready = Vec::new();
        for (id, buyer) in &self.orders {
            let o = self.order(id).await;
            if o.status == OrderStatus::ReadyForPickup {
                ready.push((id.clone(), buyer.clone(), o));
            }
        }
        let Some((id, buyer, o)) = pick(&ready, order).cloned() else {
            return;
        };
        let Some(p) = o
            .parcels
            .iter()
            .find(|p| p.status == clearance::domain::order::ParcelStatus::ReadyForPickup)
        else {
            return;
        };
        let path = format!("{BASE}/orders/{id}/parcels/{}/appointment", p.id);
        let r = if cancel {
            self.w
                .json("DELETE", &path, Some(&self.w.buyer(&buyer)), &json!(null))
                .await
        } else {
            let local = self
                .w
                .clock
                .now()
                .with_timezone(&clearance::domain::campaign::DEFAULT_TIME_ZONE);
            let m = local.hour() * 60 + local.minute();
            let mut start = (m.div_ceil(30) * 30).max(600) + 30 * u32::from(slot);
            let mut date = local.date_naive();
            if start + 30 > 22 * 60 {
                date = date.succ_opt().unwrap_or(date);
                start = 600 + 30 * u32::from(slot);
            }
            let body = json!({"date": date.to_string(), "start": format!("{:02}:{:02}", start / 60, start % 60)});
            self.w
                .json("PUT", &path, Some(&self.w.buyer(&buyer)), &body)
                .await
        };
        status(
            &r,
            if cancel {
                "cancel booking"
            } else {
                "book slot"
            },
        );
        if let Some(a) = o
            .parcels
            .iter()
            .find(|q| q.id == p.id)
            .and_then(|q| q.appointment.as_ref())
        {
            self.booking_days.insert((p.store.to_string(), a.date));
        }
        if let Some(d) = r.body["parcels"]
            .as_array()
            .and_then(|ps| ps.iter().find(|q| q["id"] == p.id))
            .and_then(|q| q["appointment"]["date"].as_str())
            .and_then(|d| d.parse().ok())
        {
            self.booking_days.insert((p.store.to_string(), d));
        }
    }

    /// A try-on at a campaign store: the slot running now (or one of the next two) within
    /// the demo's 10:00-22:00, of one or two of the pairs the store was stocked with.
    async fn try_on(&mut self, buyer: u8, store: u8, pairs: u8, slot: u8) {
        let buyer = BUYERS[usize::from(buyer) % BUYERS.len()];
        let store = CAMPAIGN_STORES[usize::from(store) % CAMPAIGN_STORES.len()];
        let stocked: Vec<(&str, &str)> = LISTINGS
            .iter()
            .flat_map(|l| {
                l.stock
                    .iter()
                    .filter(|s| s.0 == store)
                    .map(move |s| (l.sku, s.1))
            })
            .collect();
        let first = usize::from(pairs) % stocked.len();
        let mut items = vec![json!({"sku": stocked[first].0, "size": stocked[first].1})];
        let second = (first + 1 + usize::from(pairs / 16)) % stocked.len();
        if pairs >= 128 && second != first {
            items.push(json!({"sku": stocked[second].0, "size": stocked[second].1}));
        }
        let local = self
            .w
            .clock
            .now()
            .with_timezone(&clearance::domain::campaign::DEFAULT_TIME_ZONE);
        let m = local.hour() * 60 + local.minute();
        let mut start = (m / 30 * 30).max(600) + 30 * u32::from(slot);
        let mut date = local.date_naive();
        if start + 30 > 22 * 60 {
            date = date.succ_opt().unwrap_or(date);
            start = 600 + 30 * u32::from(slot);
        }
        let body = json!({"store": store, "date": date.to_string(),
            "start": format!("{:02}:{:02}", start / 60, start % 60), "items": items});
        let r = self
            .w
            .json(
                "POST",
                &format!("{BASE}/campaigns/{C}/visits"),
                Some(&self.w.buyer(buyer)),
                &body,
            )
            .await;
        status(&r, "try on");
        if r.status == 201 {
            let id = r.body["id"].as_str().unwrap_or_default().to_owned();
            self.visits.push((id, store.to_owned()));
            self.booking_days.insert((store.to_owned(), date));
        } else if r.status != 200 {
            let why = problem_type(&r);
            assert!(
                [
                    "not-in-store",
                    "slot-full",
                    "visit-active",
                    "campaign-not-live",
                    "campaign-closed",
                    "sold-out",
                    "validation-error"
                ]
                .contains(&why.as_str()),
                "a try-on refused for {why}: {}",
                r.body
            );
        }
    }

    async fn visit(&self, id: &str, store: &str) -> clearance::domain::visit::Visit {
        let store = clearance::domain::ids::StoreId::parse(store).unwrap_or_else(|e| panic!("{e}"));
        let id = clearance::domain::ids::VisitId::parse(id).unwrap_or_else(|e| panic!("{e}"));
        self.w
            .state
            .db
            .visit(&self.t, &store, &id)
            .await
            .unwrap_or_else(|e| panic!("reading visit {id}: {e}"))
    }

    /// The store's guide checks a visitor in, or a clerk naming that guide.
    async fn check_in(&mut self, visit: u8, by_guide: bool, right: bool, then_order: Option<bool>) {
        // among the visits waiting for their visitor (any, now and then)
        let mut waiting = Vec::new();
        for (id, store) in &self.visits {
            let v = self.visit(id, store).await;
            if v.status == clearance::domain::visit::VisitStatus::Booked && v.active() {
                waiting.push((id.clone(), store.clone()));
            }
        }
        let candidates = if waiting.is_empty() || visit.is_multiple_of(8) {
            &self.visits
        } else {
            &waiting
        };
        let Some((id, store)) = pick(candidates, visit).cloned() else {
            return;
        };
        let v = self.visit(&id, &store).await;
        let guide = if store == "gz-tianhe" {
            "gz-tianhe-g1"
        } else {
            "sz-futian-g2"
        };
        let token = if by_guide {
            self.w
                .tokens
                .mint(
                    &format!("guide-{guide}"),
                    clearance::domain::auth::Role::Guide,
                    &["demo/south-china"],
                )
                .unwrap_or_else(|p| panic!("{p:?}"))
        } else {
            self.w.clerk(&format!("clerk-{store}"))
        };
        let code = v.code.clone().unwrap_or_default();
        let code = if right {
            code
        } else if code == "000000" {
            "000001".to_owned()
        } else {
            "000000".to_owned()
        };
        let r = self
            .w
            .json(
                "POST",
                &format!("{BASE}/stores/{store}/visits/{id}/check-in"),
                Some(&token),
                &json!({"code": code, "guide": guide}),
            )
            .await;
        status(&r, "check in");
        let why = problem_type(&r);
        if let (200, Some(link)) = (r.status.as_u16(), then_order) {
            // the visitor orders the first pair they tried, in the store
            let h = &v.holds[0];
            let mut body = json!({"campaign": C, "coupon": "none",
                "lines": [{"sku": h.sku, "size": h.size, "quantity": 1}]});
            if link {
                body["share_token"] = self.w.share_token("sz-futian-g2", "sz-futian", C).into();
            }
            let key = self.key();
            let placed = self.w.place(v.buyer.as_str(), &key, &body).await;
            status(&placed, "place after a try-on");
            if placed.body["order"]["attribution"]["rule"] == "in_store_trial" {
                status(&placed, "credited in store");
            }
            if placed.status == 201 {
                let order = placed.body["order"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                self.orders.push((order, v.buyer.to_string()));
            }
        }
        match r.status.as_u16() {
            200 => assert!(right, "a wrong code checked a visitor in: {}", r.body),
            422 => assert!(!right && why == "wrong-visit-code", "{}", r.body),
            409 => assert!(
                ["visit-locked", "visit-not-booked", "visit-not-now"].contains(&why.as_str()),
                "{}",
                r.body
            ),
            s => panic!("check-in answered {s}: {}", r.body),
        }
    }

    async fn cancel_visit(&mut self, visit: u8) {
        let Some((id, store)) = pick(&self.visits, visit).cloned() else {
            return;
        };
        let v = self.visit(&id, &store).await;
        let r = self
            .w
            .json(
                "DELETE",
                &format!("{BASE}/campaigns/{C}/visit"),
                Some(&self.w.buyer(v.buyer.as_str())),
                &json!(null),
            )
            .await;
        status(&r, "cancel visit");
        assert!(
            r.status == 200 || problem_type(&r) == "visit-not-booked",
            "{}",
            r.body
        );
    }

    /// Every try-on visit ever booked, as its store's day keeps it.
    async fn all_visits(&self) -> Vec<clearance::domain::visit::Visit> {
        let mut out = Vec::new();
        for (store, date) in &self.booking_days {
            let store =
                clearance::domain::ids::StoreId::parse(store).unwrap_or_else(|e| panic!("{e}"));
            out.extend(
                self.w
                    .state
                    .db
                    .day_visits(&self.t, &store, *date)
                    .await
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        out
    }

    /// Every pickup booking kept, as its store's day lists it.
    async fn all_bookings(&self) -> Vec<clearance::db::appointments::Booking> {
        let mut out = Vec::new();
        for (store, date) in &self.booking_days {
            let store =
                clearance::domain::ids::StoreId::parse(store).unwrap_or_else(|e| panic!("{e}"));
            out.extend(
                self.w
                    .state
                    .db
                    .day_bookings(&self.t, &store, *date)
                    .await
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        out
    }

    /// Try-on visits: only a buyer's latest visit holds anything, and it is the same
    /// record under the buyer and under the store's day; every visit over when the
    /// sweepers last ran has given its holds back; a held unit was used only by an order
    /// credited to that visit, with that pair; an order is credited
    /// `in_store_trial` exactly when it was placed in a checked-in visit's slot for a
    /// SKU tried there (under last touch; a binding comes first), never to the buyer
    /// themself.
    async fn check_visits(
        &self,
        step: usize,
        orders: &[Order],
        visits: &[clearance::domain::visit::Visit],
    ) {
        use clearance::domain::visit::VisitStatus;
        for v in visits {
            let at = |what: &str| format!("step {step}, visit {}: {what}", v.id);
            let latest = self
                .w
                .state
                .db
                .latest_visit(&self.t, &self.campaign, &v.buyer)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if let Some(l) = latest.as_ref().filter(|l| l.id == v.id) {
                assert_eq!(l, v, "{}", at("its two records differ"));
            } else {
                assert!(!v.active(), "{}", at("holds while not the buyer's latest"));
            }
            if self.swept_at.is_some_and(|s| v.slot.ends_at <= s) {
                assert!(!v.active(), "{}", at("over but never released"));
            }
            assert_eq!(
                v.status == VisitStatus::CheckedIn,
                v.checked_in.is_some(),
                "{}",
                at("checked in without a check-in")
            );
            assert!(
                v.active() || v.status != VisitStatus::Booked,
                "{}",
                at("released while still booked")
            );
            for h in &v.holds {
                let Some(used) = &h.used_by else { continue };
                let o = orders
                    .iter()
                    .find(|o| &o.id == used)
                    .unwrap_or_else(|| panic!("{}", at("used by an unknown order")));
                assert_eq!(
                    o.attribution.as_ref().and_then(|a| a.visit.as_ref()),
                    Some(&v.id),
                    "{}",
                    at("a held unit went to another visit's order")
                );
                assert!(
                    o.lines
                        .iter()
                        .any(|l| l.priced.sku == h.sku && l.priced.size == h.size),
                    "{}",
                    at("a held unit used by an order without it")
                );
            }
        }
        for o in orders {
            let at = |what: &str| format!("step {step}, order {}: {what}", o.id);
            let Some(a) = &o.attribution else { continue };
            let placed = o.history.first().map(|h| h.at).unwrap_or_default();
            let during: Vec<&clearance::domain::visit::Visit> = visits
                .iter()
                .filter(|v| {
                    v.buyer == o.buyer
                        && v.checked_in.as_ref().is_some_and(|c| {
                            c.at <= placed && c.guide_user.as_ref() != Some(&o.buyer)
                        })
                        && v.slot.starts_at <= placed
                        && placed < v.slot.ends_at
                        && o.lines
                            .iter()
                            .any(|l| v.holds.iter().any(|h| h.sku == l.priced.sku))
                })
                .collect();
            if a.reason == Reason::TriedInStore {
                let v = visits
                    .iter()
                    .find(|v| Some(&v.id) == a.visit.as_ref())
                    .unwrap_or_else(|| panic!("{}", at("credited to an unknown visit")));
                assert!(
                    during.iter().any(|d| d.id == v.id),
                    "{}",
                    at("credited to a visit it did not follow")
                );
                assert_eq!(
                    a.store.as_ref(),
                    Some(&v.store),
                    "{}",
                    at("the visit's store")
                );
                assert_eq!(
                    a.guide.as_ref(),
                    v.checked_in.as_ref().and_then(|c| c.guide.as_ref()),
                    "{}",
                    at("the checking-in guide")
                );
            } else if !self.binding {
                // (a check-in at the very instant of the order may have come after it)
                let during: Vec<_> = during
                    .iter()
                    .filter(|v| v.checked_in.as_ref().is_some_and(|c| c.at < placed))
                    .collect();
                assert!(
                    during.is_empty(),
                    "{}",
                    at("placed during a visit, credited otherwise")
                );
            }
        }
    }

    /// Each slot's places: never below zero, and free + taken = capacity, where taken
    /// are the bookings of parcels still waiting and the honoured ones (a no-show and
    /// a cancelled parcel gave theirs back), and the try-on visits booked and not over,
    /// or checked in.
    async fn check_appointments(
        &self,
        step: usize,
        orders: &[Order],
        visits: &[clearance::domain::visit::Visit],
    ) {
        use clearance::domain::appointment::AppointmentStatus;
        use clearance::table::{keys, Index, Query, SortRange};
        // the clerks' list says of a parcel's current booking what its order says
        for b in self.all_bookings().await {
            let current = orders
                .iter()
                .filter(|o| o.id == b.order)
                .flat_map(|o| o.parcels.iter())
                .find(|p| p.id == b.parcel)
                .and_then(|p| p.appointment.as_ref())
                .filter(|a| a.date == b.appointment.date && a.starts == b.appointment.starts);
            if let Some(a) = current {
                assert_eq!(
                    b.appointment.status, a.status,
                    "step {step}: {} {}: the list and order {} disagree",
                    b.store, b.appointment.date, b.order
                );
            }
        }
        for (store, date) in &self.booking_days {
            let store_id =
                clearance::domain::ids::StoreId::parse(store).unwrap_or_else(|e| panic!("{e}"));
            let q = Query::new(
                Index::Primary,
                keys::appointments_pk(&self.t, &store_id, *date),
                SortRange::BeginsWith("SLOT#".into()),
            );
            let page = self
                .w
                .state
                .db
                .table()
                .query(q)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            for item in page.items {
                let num = |k: &str| match item.get(k) {
                    Some(serde_dynamo::AttributeValue::N(n)) => n.parse::<i64>().unwrap_or(-1),
                    _ => -1,
                };
                let sk = match item.get("SK") {
                    Some(serde_dynamo::AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                };
                let slot = sk.trim_start_matches("SLOT#").to_owned();
                let (free, capacity) = (num("free"), num("capacity"));
                let taken = orders
                    .iter()
                    .flat_map(|o| o.parcels.iter())
                    .filter(|p| p.store.as_str() == store)
                    .filter_map(|p| p.appointment.as_ref().map(|a| (p, a)))
                    .filter(|(_, a)| a.date == *date && a.slot() == slot)
                    .filter(|(p, a)| match a.status {
                        AppointmentStatus::Honoured => true,
                        AppointmentStatus::Booked => {
                            p.status == clearance::domain::order::ParcelStatus::ReadyForPickup
                        }
                        AppointmentStatus::NoShow => false,
                    })
                    .count() as i64
                    + visits
                        .iter()
                        .filter(|v| {
                            v.store.as_str() == store
                                && v.slot.date == *date
                                && v.slot.slot() == slot
                        })
                        .filter(|v| {
                            use clearance::domain::visit::VisitStatus;
                            v.status == VisitStatus::CheckedIn
                                || (v.status == VisitStatus::Booked && v.active())
                        })
                        .count() as i64;
                assert!(
                    free >= 0,
                    "step {step}: {store} {date} {slot} has {free} free"
                );
                assert_eq!(
                    free + taken,
                    capacity,
                    "step {step}: {store} {date} {slot}: {free} free and {taken} taken of {capacity}"
                );
            }
        }
    }

    /// A guide's poster of a product. A poster is named by what it shows: one name per
    /// content and one content per name, drawn once (served from the bucket after); it
    /// shows the price checkout charges at that moment, and its code carries the
    /// guide's own link. Posters write nothing to the table: every ledger is untouched.
    async fn poster(&mut self, guide: u8, sku: u8) {
        let (guide, store) = GUIDES[usize::from(guide) % GUIDES.len()];
        let listing = &LISTINGS[usize::from(sku) % LISTINGS.len()];
        let selling = self.selling().await;
        let r = self
            .w
            .json(
                "POST",
                &format!("{BASE}/guides/{guide}/posters"),
                Some(&self.w.ops()),
                &json!({"campaign": C, "sku": listing.sku}),
            )
            .await;
        status(&r, "poster");
        if selling {
            assert_eq!(
                r.status.is_success(),
                CAMPAIGN_STORES.contains(&store),
                "a poster for {guide} of {store}: {}",
                r.body
            );
        }
        if !r.status.is_success() {
            return;
        }
        let key = r.body["key"].as_str().unwrap_or_default().to_owned();
        let facts = r.body["facts"].clone();
        let seen = self.posters.get(&key);
        if let Some(before) = seen {
            assert_eq!(before, &facts, "one poster name showed two contents: {key}");
        }
        assert_eq!(
            r.body["cached"].as_bool(),
            Some(seen.is_some()),
            "a poster is drawn once, then served: {key}"
        );
        for (k, f) in &self.posters {
            assert!(
                f != &facts || k == &key,
                "one content under two names: {k}, {key}"
            );
        }
        use clearance::blobs::Blobs;
        assert_eq!(
            self.w.blobs.exists(&key).await.ok(),
            Some(true),
            "{key} not kept"
        );
        assert_eq!(r.body["link"]["claims"]["guide"], guide);
        // the price it shows is the one checkout charges now
        let shown = facts["slot"]["price_fen"]
            .as_i64()
            .or(facts["price_fen"].as_i64());
        let cart = json!({"campaign": C, "coupon": "none",
            "lines": [{"sku": listing.sku, "size": listing.sizes[0], "quantity": 1}]});
        let quote = self
            .w
            .json(
                "POST",
                &format!("{BASE}/orders/preview"),
                Some(&self.w.buyer(BUYERS[0])),
                &cart,
            )
            .await;
        if quote.status == 200 {
            assert_eq!(
                quote.body["subtotal_fen"].as_i64(),
                shown,
                "the poster of {} shows another price than checkout's",
                listing.sku
            );
        }
        self.posters.insert(key, facts);
    }

    /// A seat in a group buy (opened or joined at `path`), with its order: the order,
    /// when it was taken.
    async fn take_seat(&mut self, path: &str, buyer: &str, what: &str) -> Option<Value> {
        let key = self.key();
        let seat = json!({"campaign": C, "lines": [{"sku": "LF-1", "size": "39", "quantity": 1}], "coupon": "none"});
        let r = self
            .w
            .post_keyed(path, &self.w.buyer(buyer), &key, &seat)
            .await;
        status(&r, what);
        if r.status != 201 {
            return None;
        }
        let order = r.body["order"].clone();
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        self.orders.push((id, buyer.to_owned()));
        Some(order)
    }

    /// The sweepers on their schedule, and the queues drained.
    async fn sweep(&mut self) {
        self.swept_at = Some(self.w.clock.now());
        clearance_local::sweep_once(&self.w.state).await;
        self.drain().await;
        clearance_local::sweep_once(&self.w.state).await;
        self.drain().await;
    }

    /// Whether refunds are still asked of the campaign (its final report not out).
    async fn selling_or_settling(&self) -> bool {
        let c = self
            .w
            .state
            .db
            .campaign(&self.t, &self.campaign, true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        c.stage != clearance::domain::campaign::Stage::Closed
    }

    /// Asks a refund; whether it was taken (201).
    async fn ask_refund(&mut self, order: &str, buyer: &str, body: &Value) -> bool {
        let key = self.key();
        let r = self
            .w
            .post_keyed(
                &format!("{BASE}/orders/{order}/refunds"),
                &self.w.buyer(buyer),
                &key,
                body,
            )
            .await;
        status(&r, "refund request");
        if r.status == 201 {
            self.track_refund(r.body["id"].as_str().unwrap_or_default().to_owned());
            true
        } else {
            // refused requests name why, and leave nothing half-written
            assert!(!problem_type(&r).is_empty(), "{}", r.body);
            false
        }
    }

    /// Every order's refunds, from its partition.
    async fn refunds_of(&self, order: &Order) -> Vec<Refund> {
        self.w
            .state
            .db
            .order_refunds(&self.t, &order.id)
            .await
            .unwrap_or_else(|e| panic!("reading the refunds of {}: {e}", order.id))
    }

    async fn item(&self, pk: String, sk: String) -> Option<Value> {
        self.w
            .state
            .db
            .table()
            .get(&Key::new(pk, sk), true)
            .await
            .unwrap_or_else(|e| panic!("reading an item: {e}"))
            .map(|i| serde_dynamo::from_item::<_, Value>(i).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Every check, after a step.
    async fn check(&mut self, step: usize) {
        let orders: Vec<Order> = {
            let mut v = Vec::new();
            for (id, _) in &self.orders {
                v.push(self.order(id).await);
            }
            v
        };
        let mut refunds: BTreeMap<String, Vec<Refund>> = BTreeMap::new();
        for o in &orders {
            let rs = self.refunds_of(o).await;
            // refunds the system made (a failed group, an uncollected parcel) too
            for r in &rs {
                self.track_refund(r.id.to_string());
            }
            refunds.insert(o.id.to_string(), rs);
        }
        let visits = self.all_visits().await;
        self.check_money(step, &orders, &refunds).await;
        self.check_stock(step, &orders, &refunds, &visits).await;
        self.check_parcels(step, &orders, &refunds);
        self.check_assists(step).await;
        self.check_appointments(step, &orders, &visits).await;
        self.check_visits(step, &orders, &visits).await;
        self.check_seats(step, &orders).await;
        if self.drained {
            self.check_credit(step, &orders, &refunds).await;
            self.check_points(step, &orders, &refunds).await;
        }
    }

    /// Members' points: each paid order's points are the brand's rate x (paid -
    /// refunded), the balances are the sum of the ledger's entries, points are
    /// available only once the order's return window has closed (or it was cancelled),
    /// and once the campaign is closed nothing is left pending.
    async fn check_points(
        &self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
    ) {
        let now = self.w.clock.now();
        let brand = &self.t.brand;
        let buyers: BTreeSet<&UserId> = orders.iter().map(|o| &o.buyer).collect();
        for buyer in buyers {
            let at = |what: &str| format!("step {step}, member {buyer}: {what}");
            let (account, _, terms) = self
                .w
                .state
                .db
                .account(buyer, brand)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut expected_total = 0;
            for o in orders.iter().filter(|o| &o.buyer == buyer) {
                let refunded = paid_back(&refunds[o.id.as_str()]);
                let expected = if o.payment_ref.is_some() {
                    terms.points_for(o.total_fen.get() - refunded)
                } else {
                    0
                };
                expected_total += expected;
                let held = account.orders.get(o.id.as_str());
                assert_eq!(
                    held.map_or(0, |h| h.points),
                    expected,
                    "{}",
                    at(&format!(
                        "order {}'s points (paid {}, refunded {refunded})",
                        o.id, o.total_fen
                    ))
                );
                if held.is_some_and(|h| h.released) {
                    let closed = o.status == OrderStatus::Cancelled
                        || o.received_at().is_some_and(|r| {
                            r + Duration::days(i64::from(o.returns_policy.window_days)) <= now
                        });
                    assert!(
                        closed,
                        "{}",
                        at(&format!("order {} released before its window closed", o.id))
                    );
                }
            }
            assert_eq!(
                account.pending + account.available,
                expected_total,
                "{}",
                at("balances")
            );
            // growth (net paid in the brand over the year) = a recount of the orders,
            // and the level never below what that growth reaches
            let growth: i64 = orders
                .iter()
                .filter(|o| &o.buyer == buyer && o.payment_ref.is_some())
                .map(|o| {
                    let refunded = paid_back(&refunds[o.id.as_str()]);
                    (o.total_fen.get() - refunded).max(0)
                })
                .sum();
            assert_eq!(account.growth(now), growth, "{}", at("growth"));
            assert!(
                account.level_at(&terms, now) >= terms.level_for(growth),
                "{}",
                at("level below what growth reaches")
            );
            let entries = self
                .w
                .state
                .db
                .points_entries(buyer, brand, 1_000, None)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .items;
            assert_eq!(
                (
                    entries.iter().map(|e| e.pending).sum::<i64>(),
                    entries.iter().map(|e| e.available).sum::<i64>()
                ),
                (account.pending, account.available),
                "{}",
                at("the ledger's entries sum to the balances")
            );
            if step == usize::MAX {
                assert_eq!(
                    account.pending,
                    0,
                    "{}",
                    at("points still pending after the close")
                );
            }
        }
    }

    async fn check_money(
        &self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
    ) {
        let ledger = self.w.sandbox.ledger();
        let mut ours: BTreeSet<RefundId> = BTreeSet::new();
        for o in orders {
            let rs = &refunds[o.id.as_str()];
            let at = |what: &str| format!("step {step}, order {}: {what}", o.id);
            // paid = applied + refunded as unapplied
            let taken: Vec<&Payment> = self
                .payments
                .iter()
                .filter(|p| p.order == o.id.as_str())
                .collect();
            match &o.payment_ref {
                Some(applied) => {
                    let p = taken
                        .iter()
                        .find(|p| &p.payment == applied)
                        .unwrap_or_else(|| panic!("{}", at("applied a payment nobody made")));
                    assert_eq!(p.amount, o.total_fen.get(), "{}", at("applied amount"));
                }
                None => assert!(
                    o.status == OrderStatus::AwaitingPayment || o.status == OrderStatus::Cancelled,
                    "{}",
                    at("not paid but moved on")
                ),
            }
            for p in taken
                .iter()
                .filter(|p| o.payment_ref.as_deref() != Some(p.payment.as_str()))
            {
                let id = unapplied_refund_id(
                    &o.id,
                    &PaymentRef::parse(&p.payment).unwrap_or_else(|e| panic!("{e}")),
                );
                let r = rs
                    .iter()
                    .find(|r| r.id == id)
                    .unwrap_or_else(|| panic!("{}", at("a payment kept without a refund")));
                assert_eq!(r.amount_fen.get(), p.amount, "{}", at("unapplied amount"));
                assert_eq!(
                    r.kind,
                    RefundKind::UnappliedPayment,
                    "{}",
                    at("unapplied kind")
                );
            }
            for r in rs.iter().filter(|r| r.kind == RefundKind::UnappliedPayment) {
                assert!(
                    taken.iter().any(|p| r.payment_ref.as_str() == p.payment),
                    "{}",
                    at("an unapplied refund of no payment")
                );
            }
            // per line: live refunds within what it cost, exact once all refunded
            let live: Vec<&Refund> = rs
                .iter()
                .filter(|r| r.kind != RefundKind::UnappliedPayment && !r.released())
                .collect();
            let mut units = vec![0u32; o.lines.len()];
            let mut amounts = vec![0i64; o.lines.len()];
            for r in &live {
                for l in &r.lines {
                    units[l.line] += l.quantity;
                    amounts[l.line] += l.amount_fen.get();
                }
                assert_eq!(
                    r.amount_fen.get(),
                    r.lines.iter().map(|l| l.amount_fen.get()).sum::<i64>(),
                    "{}",
                    at("a refund's lines sum to its amount")
                );
            }
            for (i, l) in o.lines.iter().enumerate() {
                let paid = l.priced.paid_fen.get();
                assert!(units[i] <= l.priced.quantity, "{}", at("units refunded"));
                assert!(
                    amounts[i] <= paid,
                    "{}",
                    at(&format!("line {i}: {} refunded of {paid}", amounts[i]))
                );
                if units[i] == l.priced.quantity {
                    assert_eq!(
                        amounts[i],
                        paid,
                        "{}",
                        at(&format!("line {i} refunded whole"))
                    );
                }
                // the order's counters are its live refunds
                assert_eq!(
                    o.returned.get(i).copied().unwrap_or(0),
                    units[i],
                    "{}",
                    at("returned")
                );
                assert_eq!(
                    o.refunded_lines.get(i).map_or(0, |f| f.get()),
                    amounts[i],
                    "{}",
                    at("refunded per line")
                );
            }
            assert_eq!(
                o.refunded_fen.get(),
                amounts.iter().sum::<i64>(),
                "{}",
                at("refunded in all")
            );
            for p in &o.parcels {
                for it in &p.items {
                    let held: u32 = live
                        .iter()
                        .filter(|r| r.parcel == Some(p.id))
                        .flat_map(|r| r.lines.iter())
                        .filter(|l| l.line == it.line)
                        .map(|l| l.quantity)
                        .sum();
                    assert_eq!(it.returned, held, "{}", at("parcel item returned"));
                }
                if p.status == ParcelStatus::Cancelled {
                    assert!(
                        p.pickup_code.is_none(),
                        "{}",
                        at("a cancelled parcel's code lives")
                    );
                }
            }
            assert_ne!(
                o.status,
                OrderStatus::NeedsAttention,
                "{}",
                at("the stores' counts always cover what was sold")
            );
            // the provider's ledger and ours
            for r in rs {
                ours.insert(r.id.clone());
                let theirs = ledger.get(&r.id);
                if r.money == MoneyStatus::Succeeded {
                    let t = theirs.unwrap_or_else(|| panic!("{}", at("paid by nobody")));
                    assert_eq!(t.state, SandboxState::Paid, "{}", at("succeeded, not paid"));
                    assert_eq!(t.amount, r.amount_fen, "{}", at("paid another amount"));
                    assert_eq!(t.payment, r.payment_ref, "{}", at("paid another payment"));
                }
                if let Some(t) = theirs.filter(|t| t.state == SandboxState::Paid) {
                    assert!(
                        matches!(r.money, MoneyStatus::Submitted | MoneyStatus::Succeeded),
                        "{}",
                        at(&format!(
                            "the provider paid {} while we say {:?}",
                            r.id, r.money
                        ))
                    );
                    assert_eq!(t.amount, r.amount_fen, "{}", at("provider's amount"));
                }
                if r.money == MoneyStatus::Failed && r.retry_at.is_none() {
                    assert_eq!(
                        r.work_queue(),
                        Some("refund_failed"),
                        "{}",
                        at("failed, not listed")
                    );
                }
                // a refused refund is asked again on its own, until its attempts are spent
                if r.money == MoneyStatus::Failed && r.attempts < AUTO_ATTEMPTS {
                    assert!(
                        r.retry_at.is_some(),
                        "{}",
                        at("a refused refund never asked again")
                    );
                }
                if r.retry_at.is_some() {
                    assert_eq!(
                        r.money,
                        MoneyStatus::Failed,
                        "{}",
                        at("a retry of a refund not refused")
                    );
                }
                // a payment the order could not take is listed for staff
                if r.kind == RefundKind::UnappliedPayment
                    && !(r.money == MoneyStatus::Failed && r.retry_at.is_none())
                {
                    assert_eq!(
                        r.work_queue(),
                        Some("unapplied_payment"),
                        "{}",
                        at("unapplied, not listed")
                    );
                }
            }
        }
        for id in ledger.keys() {
            assert!(
                ours.contains(id),
                "step {step}: the provider refunded {id}, unknown to us"
            );
        }
        // never more paid back against a payment than it was
        let mut by_payment: BTreeMap<String, i64> = BTreeMap::new();
        for r in ledger.values().filter(|r| r.state == SandboxState::Paid) {
            *by_payment.entry(r.payment.to_string()).or_default() += r.amount.get();
        }
        for (payment, back) in by_payment {
            let p = self
                .payments
                .iter()
                .find(|p| p.payment == payment)
                .unwrap_or_else(|| panic!("step {step}: a refund of an unknown payment"));
            assert!(
                back <= p.amount,
                "step {step}: {payment} refunded {back} of {}",
                p.amount
            );
        }
    }

    async fn check_stock(
        &self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
        visits: &[clearance::domain::visit::Visit],
    ) {
        let cpk = keys::campaign_pk(&self.t, &self.campaign);
        for l in &LISTINGS {
            let sku = Sku::parse(l.sku).unwrap_or_else(|e| panic!("{e}"));
            let q = Query::new(
                Index::Primary,
                cpk.clone(),
                SortRange::BeginsWith(keys::listing_sk(&sku)),
            );
            let page = self
                .w
                .state
                .db
                .table()
                .query(q)
                .await
                .unwrap_or_else(|e| panic!("reading {sku}: {e}"));
            let mut sellable: BTreeMap<String, i64> = BTreeMap::new();
            for item in page.items {
                let v: Value = serde_dynamo::from_item(item).unwrap_or_else(|e| panic!("{e}"));
                if v["kind"] != "stock" {
                    continue;
                }
                for (size, n) in v["units"].as_object().into_iter().flatten() {
                    let n = n.as_i64().unwrap_or(i64::MIN);
                    assert!(n >= 0, "step {step}: {sku} {size} shard {} at {n}", v["SK"]);
                    *sellable.entry(size.clone()).or_default() += n;
                }
            }
            // search: a size is found iff the ledger's shards hold a unit of it
            let product = self
                .w
                .state
                .db
                .product(&self.t, &self.campaign, &sku)
                .await
                .unwrap_or_else(|e| panic!("reading {sku}: {e}"));
            for size in l.sizes {
                let q = search::parse(&format!("{size}码"), &search::Vocabulary::default());
                let (name, colour) = search::Item::keys(&product.listing);
                let item = search::Item {
                    listing: &product.listing,
                    units: &product.units,
                    price_fen: product.listing.clearance_price_fen.get(),
                    name: &name,
                    colour: &colour,
                };
                let found = !search::rank(&q, &q.sizes, &[item]).found.is_empty();
                let held = sellable.get(*size).copied().unwrap_or(0);
                assert_eq!(
                    found,
                    held > 0,
                    "step {step}: search for {sku} {size} with {held} sellable"
                );
            }
            let counts = self
                .item(cpk.clone(), keys::store_stock_sk(&sku))
                .await
                .unwrap_or_else(|| panic!("{sku} has no store counts"));
            for size in l.sizes {
                let put_in: i64 = l.stock.iter().filter(|s| s.1 == *size).map(|s| s.2).sum();
                // sellable = put in - what orders hold + what came back on sale
                let mut held = 0i64;
                let mut on_sale = 0i64;
                for o in orders {
                    let released = o.status == OrderStatus::Cancelled && o.parcels.is_empty();
                    if !released {
                        held += o
                            .lines
                            .iter()
                            .filter(|x| x.priced.sku == sku && x.priced.size.as_str() == *size)
                            .map(|x| i64::from(x.priced.quantity))
                            .sum::<i64>();
                    }
                    for r in &refunds[o.id.as_str()] {
                        if r.back_on_sale {
                            on_sale += back_in_store(r, &sku, size);
                        }
                    }
                }
                let tried = visits
                    .iter()
                    .flat_map(|v| v.held())
                    .filter(|h| h.sku == sku && h.size.as_str() == *size)
                    .count() as i64;
                assert_eq!(
                    sellable.get(*size).copied().unwrap_or(0),
                    put_in - held + on_sale - tried,
                    "step {step}: {sku} {size} on sale (put in {put_in}, held {held}, back {on_sale}, held for visits {tried})"
                );
                // each store: put in - shipped + came back
                for store in CAMPAIGN_STORES {
                    let put_in: i64 = l
                        .stock
                        .iter()
                        .filter(|s| s.0 == store && s.1 == *size)
                        .map(|s| s.2)
                        .sum();
                    let mut shipped = 0i64;
                    let mut back = 0i64;
                    for o in orders {
                        for p in o.parcels.iter().filter(|p| p.store.as_str() == store) {
                            shipped += p
                                .items
                                .iter()
                                .filter(|it| it.sku == sku && it.size.as_str() == *size)
                                .map(|it| i64::from(it.quantity))
                                .sum::<i64>();
                        }
                        for r in refunds[o.id.as_str()].iter().filter(|r| {
                            r.return_store.as_ref().is_some_and(|s| s.as_str() == store)
                        }) {
                            back += back_in_store(r, &sku, size);
                        }
                    }
                    // held for try-on visits (not yet used by their orders or released)
                    let tried = visits
                        .iter()
                        .filter(|v| v.store.as_str() == store)
                        .flat_map(|v| v.held())
                        .filter(|h| h.sku == sku && h.size.as_str() == *size)
                        .count() as i64;
                    let holds = counts["units"][store][*size].as_i64().unwrap_or(0);
                    assert!(
                        holds >= 0,
                        "step {step}: {store} holds {holds} of {sku} {size}"
                    );
                    assert_eq!(
                        holds,
                        put_in - shipped + back - tried,
                        "step {step}: {store}'s count of {sku} {size} (put in {put_in}, shipped {shipped}, back {back}, held for visits {tried})"
                    );
                }
            }
        }
    }

    /// Parcels that travel: a parcel never moves back; no unit is both delivered and
    /// back in a store's count; a parcel back at its store or lost is refunded once, in
    /// full, and only those units come back (the lost never); a waybill is one parcel's;
    /// the order follows its parcels; every waybill handed over is followed.
    fn check_parcels(
        &mut self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
    ) {
        let mut waybills = BTreeSet::new();
        let mut followed = 0;
        for o in orders {
            let rs = &refunds[o.id.as_str()];
            // a chosen pickup store dispatches the whole order, or the order says why not
            if let (Some(s), false) = (&o.delivery.store, o.parcels.is_empty()) {
                let there = o.parcels.len() == 1 && &o.parcels[0].store == s;
                let why = format!("chosen store {s} does not hold");
                assert!(
                    there || o.history.iter().any(|h| h.note.as_deref().is_some_and(|n| n.contains(&why))),
                    "step {step}, order {}: dispatched away from its chosen store {s} without a word",
                    o.id
                );
            }
            for p in &o.parcels {
                let at = format!("step {step}, order {} parcel {}", o.id, p.id);
                let rank = parcel_rank(p.status);
                let seen = self
                    .parcel_ranks
                    .entry((o.id.to_string(), p.id))
                    .or_insert(rank);
                assert!(rank >= *seen, "{at}: moved back to {:?}", p.status);
                *seen = rank;
                let ends: Vec<&Refund> = rs
                    .iter()
                    .filter(|r| r.kind == RefundKind::Cancellation && r.parcel == Some(p.id))
                    .collect();
                assert!(ends.len() <= 1, "{at}: refunded {} times whole", ends.len());
                let Some(sh) = &p.shipment else { continue };
                if let (Some(c), Some(w)) = (&sh.carrier, &sh.waybill) {
                    assert!(
                        waybills.insert((c.clone(), w.clone())),
                        "{at}: waybill {c} {w} on two parcels"
                    );
                    followed += 1;
                }
                let whole = |r: &Refund| {
                    p.items.iter().all(|it| {
                        let refunded: u32 = r
                            .lines
                            .iter()
                            .filter(|l| l.line == it.line)
                            .map(|l| l.quantity)
                            .sum();
                        // what earlier returns did not already hold
                        refunded <= it.quantity && it.left() == 0
                    })
                };
                match p.status {
                    ParcelStatus::Delivered => {
                        assert!(ends.is_empty(), "{at}: delivered and refunded whole");
                        assert!(sh.delivered_at.is_some(), "{at}: delivered without a time");
                    }
                    ParcelStatus::ReturnedToStore | ParcelStatus::Cancelled => {
                        let r = ends
                            .first()
                            .unwrap_or_else(|| panic!("{at}: {:?} without its refund", p.status));
                        assert_eq!(
                            r.return_store.as_ref(),
                            Some(&p.store),
                            "{at}: units back elsewhere"
                        );
                        assert!(whole(r), "{at}: not every unit refunded");
                    }
                    ParcelStatus::Lost => {
                        let r = ends
                            .first()
                            .unwrap_or_else(|| panic!("{at}: lost without its refund"));
                        assert_eq!(
                            r.return_store, None,
                            "{at}: a lost parcel's units came back"
                        );
                        assert!(!r.back_on_sale, "{at}: a lost parcel's units on sale");
                        assert!(whole(r), "{at}: not every unit refunded");
                    }
                    _ => assert!(ends.is_empty(), "{at}: refunded whole while {:?}", p.status),
                }
                // the return window counts from the door
                if p.status != ParcelStatus::Delivered {
                    assert!(
                        !rs.iter()
                            .any(|r| r.kind == RefundKind::Return && r.parcel == Some(p.id)),
                        "{at}: a return of a parcel never delivered"
                    );
                }
            }
            let ships = o.parcels.iter().any(|p| p.ships());
            if ships {
                let open = o.parcels.iter().any(|p| !p.ended());
                let at = format!("step {step}, order {}", o.id);
                match o.status {
                    OrderStatus::Shipped => assert!(open, "{at}: shipped with every parcel ended"),
                    OrderStatus::Delivered => {
                        assert!(
                            !open
                                && o.parcels
                                    .iter()
                                    .any(|p| p.status == ParcelStatus::Delivered),
                            "{at}: delivered"
                        )
                    }
                    OrderStatus::Cancelled => {
                        assert!(!open, "{at}: cancelled with a parcel moving")
                    }
                    s => panic!("{at}: a dispatched shipping order is {s:?}"),
                }
                if o.status == OrderStatus::Delivered {
                    let last = o
                        .parcels
                        .iter()
                        .filter_map(|p| p.shipment.as_ref()?.delivered_at)
                        .max();
                    assert_eq!(
                        o.received_at(),
                        last,
                        "{at}: received when the last parcel was delivered"
                    );
                }
            }
        }
        if self.drained {
            assert_eq!(
                self.w.couriers.subscribed(),
                followed,
                "step {step}: every waybill handed over is followed, once"
            );
        }
    }

    /// Assists: packs granted = assists completed, never more than the budget, and the
    /// budget's counters hold the rest (never below zero); each completed assist's
    /// starter holds its pack, others none; an assist's helpers are distinct phones,
    /// never the starter's, at most the number needed; no phone assisted the offer
    /// twice nor more than its daily cap in a day.
    async fn check_assists(&self, step: usize) {
        use clearance::domain::assist::{AssistStatus, BUDGET_SHARDS};
        let offer =
            clearance::domain::ids::AssistOfferId::parse("duo").unwrap_or_else(|e| panic!("{e}"));
        let mut completed = 0i64;
        let mut by_helper: BTreeMap<String, Vec<chrono::DateTime<chrono::Utc>>> = BTreeMap::new();
        let mut starters_with_pack = BTreeSet::new();
        for id in &self.assists {
            let a = self.assist(id).await;
            let at = format!("step {step}, assist {id}");
            assert!(
                a.helpers.len() <= usize::from(a.needed),
                "{at}: {} helpers",
                a.helpers.len()
            );
            let subs: BTreeSet<&str> = a.helpers.iter().map(|h| h.member.as_str()).collect();
            assert_eq!(subs.len(), a.helpers.len(), "{at}: a helper twice");
            assert!(
                !subs.contains(a.starter.as_str()),
                "{at}: the starter helped"
            );
            for h in &a.helpers {
                // the phone behind each helper account
                let phone = match h.member.as_str().strip_prefix("alt-") {
                    Some(b) => buyer_phone(b.parse().unwrap_or(usize::MAX)),
                    None => h.member.as_str().to_owned(),
                };
                let starter = BUYERS
                    .iter()
                    .position(|b| *b == a.starter.as_str())
                    .map(buyer_phone);
                assert_ne!(
                    Some(&phone),
                    starter.as_ref(),
                    "{at}: the starter's phone helped"
                );
                by_helper.entry(phone).or_default().push(h.at);
            }
            match a.status {
                AssistStatus::Completed => {
                    completed += 1;
                    assert_eq!(
                        usize::from(a.needed),
                        a.helpers.len(),
                        "{at}: completed short"
                    );
                    assert_eq!(a.pack.len(), 2, "{at}: its pack");
                    assert!(
                        starters_with_pack.insert(a.starter.to_string()),
                        "{at}: two packs for one starter"
                    );
                }
                _ => assert!(a.pack.is_empty(), "{at}: a pack without completing"),
            }
        }
        for (phone, times) in &by_helper {
            // one assist of the offer per phone
            assert_eq!(
                times.len(),
                1,
                "step {step}: phone {phone} assisted the offer {} times",
                times.len()
            );
        }
        let cpk = keys::campaign_pk(&self.t, &self.campaign);
        let mut left = 0i64;
        for shard in 0..BUDGET_SHARDS {
            let n = self
                .item(cpk.clone(), keys::assist_budget_sk(&offer, shard))
                .await
                .and_then(|v| v["remaining"].as_i64())
                .unwrap_or(i64::MIN);
            assert!(n >= 0, "step {step}: budget shard {shard} at {n}");
            left += n;
        }
        assert!(
            completed <= 3,
            "step {step}: {completed} packs over a budget of 3"
        );
        assert_eq!(left, 3 - completed, "step {step}: the budget's counters");
        // the packs' coupons: exactly the completed starters hold pack10 places 101-102
        for b in BUYERS {
            let user = UserId::parse(b).unwrap_or_else(|e| panic!("{e}"));
            let tpl = clearance::domain::ids::CouponTemplateId::parse("pack10")
                .unwrap_or_else(|e| panic!("{e}"));
            let mut held = 0;
            for n in [101, 102] {
                held += u32::from(
                    self.item(cpk.clone(), keys::buyer_coupon_sk(&tpl, &user, n))
                        .await
                        .is_some(),
                );
            }
            let expected = if starters_with_pack.contains(b) { 2 } else { 0 };
            assert_eq!(held, expected, "step {step}: {b}'s pack coupons");
        }
    }

    async fn check_seats(&self, step: usize, orders: &[Order]) {
        let cpk = keys::campaign_pk(&self.t, &self.campaign);
        for g in &self.groups {
            let (group, members) = self.group(g).await;
            let at = |what: &str| format!("step {step}, group {g}: {what}");
            let seated = members.len() as u8;
            assert!(seated <= group.seats, "{}", at("members over seats"));
            assert_eq!(group.free, group.seats - seated, "{}", at("free seats"));
            let paid = members.iter().filter(|m| m.paid).count() as u8;
            assert_eq!(group.paid, paid, "{}", at("paid seats"));
            if group.status == GroupStatus::Formed {
                assert_eq!(paid, group.seats, "{}", at("formed short"));
            }
            for m in &members {
                let o = orders
                    .iter()
                    .find(|o| o.id == m.order)
                    .unwrap_or_else(|| panic!("{}", at("a member's order is unknown")));
                // while the group is open, its seats are its members' until their own
                // payment deadline, a close's grace or not
                if group.status == GroupStatus::Open {
                    assert!(
                        o.status != OrderStatus::Cancelled
                            || self.w.clock.now() >= o.payment_deadline,
                        "{}",
                        at("an open group's seat cancelled before its deadline")
                    );
                }
                assert_eq!(
                    o.group.as_ref(),
                    Some(&group.id),
                    "{}",
                    at("member's order")
                );
                assert_eq!(m.paid, o.payment_ref.is_some(), "{}", at("member paid"));
            }
        }
        // allowances and purchase limits = a recount of the orders
        for buyer in BUYERS {
            let user = UserId::parse(buyer).unwrap_or_else(|e| panic!("{e}"));
            for l in &LISTINGS {
                let sku = Sku::parse(l.sku).unwrap_or_else(|e| panic!("{e}"));
                let mut bought = 0i64;
                let mut groups = 0i64;
                for o in orders.iter().filter(|o| o.buyer == user) {
                    let released = o.status == OrderStatus::Cancelled && o.parcels.is_empty();
                    if released {
                        continue;
                    }
                    let q: i64 = o
                        .lines
                        .iter()
                        .filter(|x| x.priced.sku == sku)
                        .map(|x| i64::from(x.priced.quantity))
                        .sum();
                    let cancelled: i64 = o
                        .parcels
                        .iter()
                        .filter(|p| {
                            matches!(
                                p.status,
                                ParcelStatus::Cancelled
                                    | ParcelStatus::ReturnedToStore
                                    | ParcelStatus::Lost
                            )
                        })
                        .flat_map(|p| p.items.iter())
                        .filter(|it| it.sku == sku)
                        .map(|it| i64::from(it.quantity))
                        .sum();
                    bought += q - cancelled;
                    if o.group.is_some() && o.lines.iter().any(|x| x.priced.sku == sku) {
                        groups += 1;
                    }
                }
                let marker = self
                    .item(cpk.clone(), keys::limit_sk(&sku, &user))
                    .await
                    .and_then(|v| v["units"].as_i64())
                    .unwrap_or(0);
                assert_eq!(
                    marker, bought,
                    "step {step}: {buyer}'s limit count of {sku}"
                );
                let allowance = self
                    .item(cpk.clone(), keys::group_limit_sk(&sku, &user))
                    .await
                    .and_then(|v| v["units"].as_i64())
                    .unwrap_or(0);
                assert_eq!(allowance, groups, "step {step}: {buyer}'s groups of {sku}");
            }
        }
    }

    async fn check_credit(
        &self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
    ) {
        let now = self.w.clock.now();
        let campaign_stores: Vec<&str> = CAMPAIGN_STORES.to_vec();
        let mut expect: BTreeMap<String, (i64, i64, i64, i64, i64, i64)> = BTreeMap::new();
        let mut first: BTreeMap<&UserId, usize> = BTreeMap::new();
        for o in orders {
            let at = |what: &str| format!("step {step}, order {}: {what}", o.id);
            let a = o
                .attribution
                .as_ref()
                .unwrap_or_else(|| panic!("{}", at("no attribution")));
            if let Some(g) = &a.guide {
                let (_, store) = GUIDES
                    .iter()
                    .find(|(id, _)| *id == g.as_str())
                    .unwrap_or_else(|| panic!("{}", at("credited to an unknown guide")));
                assert!(
                    a.reason == Reason::Bound || campaign_stores.contains(store),
                    "{}",
                    at("credited from outside the campaign")
                );
                assert_ne!(
                    o.buyer.as_str(),
                    format!("guide-{g}"),
                    "{}",
                    at("a guide earned on their own purchase")
                );
            }
            if o.payment_ref.is_none() {
                assert!(!o.first_in_tenant, "{}", at("a new buyer who never paid"));
                continue;
            }
            if o.first_in_tenant {
                *first.entry(&o.buyer).or_default() += 1;
            }
            let Some(guide) = &a.guide else { continue };
            // the sale as attribution keeps it
            let sale: SaleRecord = serde_json::from_value(
                self.item(keys::order_pk(&self.t, &o.id), keys::SALE_SK.to_owned())
                    .await
                    .unwrap_or_else(|| panic!("{}", at("a credited paid sale never counted"))),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let paid: Vec<(u32, i64)> = o
                .lines
                .iter()
                .map(|l| (l.priced.quantity, l.priced.paid_fen.get()))
                .collect();
            let recorded: Vec<(u32, i64)> =
                sale.sale.paid.iter().map(|(u, f)| (*u, f.get())).collect();
            assert_eq!(recorded, paid, "{}", at("the sale's payment"));
            let mut refunded_lines = vec![0i64; o.lines.len()];
            let mut refunded_ids = BTreeSet::new();
            for r in refunds[o.id.as_str()].iter().filter(|r| {
                r.money == MoneyStatus::Succeeded && r.kind != RefundKind::UnappliedPayment
            }) {
                refunded_ids.insert(r.id.to_string());
                for l in &r.lines {
                    refunded_lines[l.line] += l.amount_fen.get();
                }
            }
            let known: BTreeSet<String> = sale.sale.refunds.keys().cloned().collect();
            assert_eq!(known, refunded_ids, "{}", at("the sale's refunds"));
            // commission = rate x (paid - refunded), line by line
            let bp = a.commission_bp;
            let net: i64 = paid
                .iter()
                .zip(&refunded_lines)
                .map(|((_, p), r)| {
                    let c = commission(*p, bp);
                    if *p == 0 {
                        0
                    } else {
                        c - c * (*r).min(*p) / *p
                    }
                })
                .sum();
            let t = sale.sale.totals(bp);
            assert_eq!(
                t.commission_pending_fen + t.commission_confirmed_fen - t.commission_reversed_fen,
                net,
                "{}",
                at("commission")
            );
            if let Some(confirmed) = sale.sale.confirmed_at {
                let closes = o
                    .received_at()
                    .map(|r| r + Duration::days(i64::from(o.returns_policy.window_days)));
                assert!(
                    o.status == OrderStatus::Cancelled
                        || closes.is_some_and(|c| c <= confirmed && confirmed <= now),
                    "{}",
                    at("confirmed before its window closed")
                );
            }
            let gmv: i64 = paid.iter().map(|(_, p)| p).sum();
            let refunded: i64 = refunded_lines.iter().sum::<i64>().min(gmv);
            for who in [
                format!("G#{guide}"),
                format!("S#{}", a.store.as_ref().map(|s| s.as_str()).unwrap_or("-")),
            ] {
                let e = expect.entry(who).or_default();
                e.0 += 1;
                e.1 += paid.iter().map(|(u, _)| i64::from(*u)).sum::<i64>();
                e.2 += gmv;
                e.3 += refunded;
                e.4 += net;
                e.5 += i64::from(o.first_in_tenant);
            }
        }
        for (buyer, n) in first {
            assert_eq!(n, 1, "step {step}: {buyer} is a new buyer {n} times");
        }
        for buyer in BUYERS {
            let user = UserId::parse(buyer).unwrap_or_else(|e| panic!("{e}"));
            let paid_any = orders
                .iter()
                .any(|o| o.buyer == user && o.payment_ref.is_some());
            let marked = orders.iter().any(|o| o.buyer == user && o.first_in_tenant);
            assert_eq!(paid_any, marked, "step {step}: {buyer}'s first paid order");
            if self.binding {
                let b = self
                    .item(keys::buyer_pk(&self.t, &user), keys::BINDING_SK.to_owned())
                    .await;
                if let Some(b) = b {
                    let b: Binding = serde_json::from_value(b).unwrap_or_else(|e| panic!("{e}"));
                    assert!(
                        orders.iter().any(|o| o.buyer == user
                            && o.payment_ref.is_some()
                            && o.attribution.as_ref().is_some_and(|a| {
                                a.guide.as_ref() == Some(&b.guide) && a.reason == Reason::Link
                            })),
                        "step {step}: {buyer} bound to {} by no paid sale",
                        b.guide
                    );
                }
            }
        }
        // the counters = a recount
        let board = self
            .w
            .state
            .db
            .standings(&self.t, &self.campaign)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut got: BTreeMap<String, (i64, i64, i64, i64, i64, i64)> = BTreeMap::new();
        for (prefix, list) in [("G#", &board.guides), ("S#", &board.stores)] {
            for s in list.iter() {
                let t = &s.totals;
                let row = (
                    t.orders,
                    t.units,
                    t.gmv_fen,
                    t.refunded_fen,
                    t.commission_pending_fen + t.commission_confirmed_fen
                        - t.commission_reversed_fen,
                    t.new_buyers,
                );
                if row != (0, 0, 0, 0, 0, 0) {
                    got.insert(format!("{prefix}{}", s.id), row);
                }
            }
        }
        assert_eq!(got, expect, "step {step}: the guides' and stores' counters");
        self.check_boards_and_views(step, orders, refunds).await;
    }

    /// What staff read: the leaderboard's sell-through is what each store shipped; every
    /// payment an order could not take is on staff's list; a buyer's phone is masked to
    /// at most its last four digits for staff who do not ship the order.
    async fn check_boards_and_views(
        &self,
        step: usize,
        orders: &[Order],
        refunds: &BTreeMap<String, Vec<Refund>>,
    ) {
        let board = self
            .w
            .state
            .db
            .leaderboard(&self.t, &self.campaign)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for store in CAMPAIGN_STORES {
            let put_in: i64 = LISTINGS
                .iter()
                .flat_map(|l| l.stock.iter())
                .filter(|s| s.0 == store)
                .map(|s| s.2)
                .sum();
            let mut holds = 0i64;
            for l in &LISTINGS {
                let sku = Sku::parse(l.sku).unwrap_or_else(|e| panic!("{e}"));
                let counts = self
                    .item(
                        keys::campaign_pk(&self.t, &self.campaign),
                        keys::store_stock_sk(&sku),
                    )
                    .await
                    .unwrap_or_default();
                for n in counts["units"][store].as_object().into_iter().flatten() {
                    holds += n.1.as_i64().unwrap_or(0);
                }
            }
            let line = board
                .stores
                .iter()
                .find(|s| s.id == store)
                .unwrap_or_else(|| panic!("step {step}: {store} is not on the board"));
            let want = (put_in - holds) as f64 / put_in as f64;
            let got = line.sell_through.unwrap_or(-1.0);
            assert!(
                (got - want).abs() < 1e-9,
                "step {step}: {store}'s sell-through {got}, shipped {want}"
            );
        }
        let mut listed = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("{BASE}/refunds?status=unapplied_payment&limit=50");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.w.get(&path, Some(&self.w.ops())).await;
            assert_eq!(page.status, 200, "{}", page.body);
            for r in page.body["refunds"].as_array().into_iter().flatten() {
                listed.insert(r["id"].as_str().unwrap_or_default().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        for r in refunds.values().flatten().filter(|r| {
            r.kind == RefundKind::UnappliedPayment
                && !(r.money == MoneyStatus::Failed && r.retry_at.is_none())
        }) {
            assert!(
                listed.contains(r.id.as_str()),
                "step {step}: {} not on the staff's list",
                r.id
            );
        }
        for o in orders.iter().filter(|o| o.delivery.phone.is_some()) {
            let seen = self
                .w
                .get(&format!("{BASE}/orders/{}", o.id), Some(&self.w.ops()))
                .await;
            let phone = seen.body["delivery"]["phone"].as_str().unwrap_or_default();
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            assert!(digits <= 4, "step {step}: ops see {phone} of {}", o.id);
        }
    }

    /// Ends the sequence: everything settled, the campaign closed, its final report
    /// equal to a recount of the records.
    async fn settle_and_close(&mut self) {
        self.w.sandbox.hold_refunds(false);
        self.w.sandbox.fail_next_refunds(0);
        for id in self.refunds.clone() {
            let rid = RefundId::parse(&id).unwrap_or_else(|e| panic!("{e}"));
            if let Some((body, sig)) = self.w.sandbox.settle(&self.t, &rid, true) {
                let r = send_signed(&self.w, "/v1/payments/refund-notify", body, &sig).await;
                status(&r, "final notice");
            }
        }
        for (id, buyer) in self.orders.clone() {
            let o = self.order(&id).await;
            if o.status == OrderStatus::Paid && o.group.is_none() {
                self.drain().await; // dispatched, if it can be
            }
            let o = self.order(&id).await;
            if o.status == OrderStatus::NeedsAttention {
                self.ask_refund(&id, &buyer, &json!({"reason": "other"}))
                    .await;
            }
        }
        if !self.closed {
            let r = self
                .w
                .json(
                    "POST",
                    &format!("{BASE}/campaigns/{C}/close"),
                    Some(&self.w.ops()),
                    &json!({"grace_minutes": 0}),
                )
                .await;
            // 200: the schedule began it already (the campaign ended)
            assert!(r.status == 202 || r.status == 200, "{}", r.body);
            self.closed = true;
        }
        for _ in 0..40 {
            for id in self.refunds.clone() {
                let r = self.refund(&id).await;
                if r.decision == Decision::PendingReview {
                    let resp = self
                        .w
                        .json(
                            "POST",
                            &format!("{BASE}/refunds/{id}/decision"),
                            Some(&self.w.ops()),
                            &json!({"approve": true}),
                        )
                        .await;
                    assert_eq!(resp.status, 200, "{}", resp.body);
                }
                if r.money == MoneyStatus::Failed && r.retry_at.is_none() {
                    let resp = self
                        .w
                        .json(
                            "POST",
                            &format!("{BASE}/refunds/{id}/retry"),
                            Some(&self.w.ops()),
                            &json!({}),
                        )
                        .await;
                    assert_eq!(resp.status, 200, "{}", resp.body);
                }
            }
            self.settle_parcels().await;
            self.w.clock.advance(Duration::hours(12));
            self.sweep().await;
            let c = self
                .w
                .state
                .db
                .campaign(&self.t, &self.campaign, true)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if c.stage == clearance::domain::campaign::Stage::Closed {
                self.check(usize::MAX).await;
                self.check_report().await;
                return;
            }
        }
        let c = self
            .w
            .state
            .db
            .campaign(&self.t, &self.campaign, true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        panic!(
            "the campaign never closed: {:?}",
            c.close.map(|r| (r.phase, r.report.map(|r| r.open)))
        );
    }

    /// Every shipping parcel moved towards its end, as staff would before a close:
    /// packed, handed over, taken back when the carrier returned it, declared lost
    /// when it went silent.
    async fn settle_parcels(&mut self) {
        for (id, _) in self.orders.clone() {
            let o = self.order(&id).await;
            if o.status != OrderStatus::Shipped {
                continue;
            }
            for p in &o.parcels {
                let store = p.store.as_str();
                let clerk = self.w.clerk(&format!("clerk-{store}"));
                let path = format!("{BASE}/orders/{id}/parcels/{}", p.id);
                let attention = p.shipment.as_ref().and_then(|s| s.attention.clone());
                let r = match p.status {
                    ParcelStatus::ToPack => {
                        self.w
                            .json("POST", &format!("{path}/pack"), Some(&clerk), &json!({}))
                            .await
                    }
                    ParcelStatus::Packed => {
                        self.w
                            .json(
                                "POST",
                                &format!("{path}/handover"),
                                Some(&clerk),
                                &json!({"carrier": "sf"}),
                            )
                            .await
                    }
                    ParcelStatus::DeliveryFailed if attention.is_some() => {
                        self.w
                            .json(
                                "POST",
                                &format!("{path}/returned"),
                                Some(&clerk),
                                &json!({}),
                            )
                            .await
                    }
                    ParcelStatus::HandedOver | ParcelStatus::InTransit if attention.is_some() => {
                        self.w
                            .json(
                                "POST",
                                &format!("{path}/lost"),
                                Some(&self.w.ops()),
                                &json!({"note": "silent"}),
                            )
                            .await
                    }
                    _ => continue,
                };
                assert_eq!(
                    r.status, 200,
                    "settling parcel {} of {id}: {}",
                    p.id, r.body
                );
                if let Some(rid) = r.body["refund"]["id"].as_str() {
                    self.track_refund(rid.to_owned());
                }
            }
        }
    }

    async fn check_report(&self) {
        let file = self.w.published_report(C).await;
        let report: Report =
            serde_json::from_value(file.clone()).unwrap_or_else(|e| panic!("{e}: {file}"));
        assert_eq!(
            report.edition,
            clearance::domain::report::Edition::Final,
            "the report's edition"
        );
        let mut orders = Vec::new();
        for (id, _) in &self.orders {
            orders.push(self.order(id).await);
        }
        let mut all_refunds = Vec::new();
        for o in &orders {
            all_refunds.extend(self.refunds_of(o).await);
        }
        let paid: Vec<&Order> = orders.iter().filter(|o| o.payment_ref.is_some()).collect();
        // shipping, by store: every shipping parcel of a paid order, recounted
        let mut shipping: BTreeMap<String, ShippingLine> = BTreeMap::new();
        let mut handovers: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut deliveries: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for o in &paid {
            let Some(dispatched) = o
                .history
                .iter()
                .find(|h| h.status == OrderStatus::Shipped)
                .map(|h| h.at)
            else {
                continue;
            };
            for p in &o.parcels {
                let Some(sh) = &p.shipment else { continue };
                let store = p.store.to_string();
                let e = shipping
                    .entry(store.clone())
                    .or_insert_with(|| ShippingLine {
                        store: store.clone(),
                        ..ShippingLine::default()
                    });
                e.parcels += 1;
                if let Some(h) = &sh.handed_over {
                    handovers
                        .entry(store.clone())
                        .or_default()
                        .push((h.at - dispatched).num_seconds());
                }
                if p.status == ParcelStatus::Delivered {
                    let at = sh
                        .delivered_at
                        .unwrap_or_else(|| panic!("delivered without a time"));
                    deliveries
                        .entry(store.clone())
                        .or_default()
                        .push((at - dispatched).num_seconds());
                    e.delivered += 1;
                }
                let flagged = format!("parcel {} needs attention:", p.id);
                e.needed_attention += u64::from(
                    o.history
                        .iter()
                        .any(|h| h.note.as_deref().is_some_and(|n| n.starts_with(&flagged))),
                );
                e.lost += u64::from(p.status == ParcelStatus::Lost);
                e.returned_unclaimed += u64::from(p.status == ParcelStatus::ReturnedToStore);
                if sh
                    .carrier
                    .as_ref()
                    .is_some_and(|c| c.as_str() == "same-city")
                {
                    e.same_city += 1;
                    e.same_city_fees_fen += sh.fee_fen.map_or(0, |f| f.get());
                }
            }
        }
        let rank = |v: Option<&Vec<i64>>, p: usize| -> Option<i64> {
            let mut v = v.cloned().unwrap_or_default();
            v.sort_unstable();
            (!v.is_empty()).then(|| v[(p * v.len()).div_ceil(100).max(1) - 1])
        };
        let expected: Vec<ShippingLine> = shipping
            .into_values()
            .map(|mut e| {
                e.handover_p50_seconds = rank(handovers.get(&e.store), 50);
                e.handover_p95_seconds = rank(handovers.get(&e.store), 95);
                e.delivery_p50_seconds = rank(deliveries.get(&e.store), 50);
                e.delivery_p95_seconds = rank(deliveries.get(&e.store), 95);
                e
            })
            .collect();
        let got = report.shipping.clone();
        // assists of the offer, recounted from the assists and the orders
        let mut line = clearance::domain::report::AssistLine {
            offer: "duo".into(),
            name: "Duo".into(),
            budget: 3,
            ..Default::default()
        };
        let mut guides: BTreeMap<String, u64> = BTreeMap::new();
        for id in &self.assists {
            let a = self.assist(id).await;
            line.started += 1;
            match a.status {
                clearance::domain::assist::AssistStatus::Completed => line.completed += 1,
                // open at the close: fenced, it can no longer complete
                clearance::domain::assist::AssistStatus::Expired
                | clearance::domain::assist::AssistStatus::Open => line.expired += 1,
            }
            line.recruited += a.helpers.iter().filter(|h| h.new_to_brand).count() as u64;
            if let Some(g) = &a.guide {
                *guides.entry(g.to_string()).or_default() += 1;
            }
        }
        line.packs_granted = line.completed;
        line.by_guide = guides
            .into_iter()
            .map(|(guide, started)| clearance::domain::report::GuideAssists { guide, started })
            .collect();
        line.pack_coupons_redeemed = paid
            .iter()
            .filter(|o| !(o.status == OrderStatus::Cancelled && o.parcels.is_empty()))
            .flat_map(|o| o.coupons.iter())
            .filter(|c| c.starts_with("pack10.10"))
            .count() as u64;
        let reported = report
            .assists
            .iter()
            .find(|a| a.offer == "duo")
            .cloned()
            .unwrap_or_default();
        // a pack coupon takes at most its face off (stacked coupons share a discount)
        let cost = reported.pack_coupons_cost_fen;
        assert!(
            (0..=1_000 * line.pack_coupons_redeemed as i64).contains(&cost),
            "the packs' coupons cost {cost}"
        );
        line.pack_coupons_cost_fen = cost;
        assert_eq!(reported, line, "the report's assists");
        assert_eq!(got, expected, "the report's shipping figures");
        // pickup bookings and try-on visits by store, recounted from their records
        let line_of = |store: &str| clearance::domain::report::VisitLine {
            store: store.to_owned(),
            ..Default::default()
        };
        let mut expected_visits: BTreeMap<String, clearance::domain::report::VisitLine> =
            BTreeMap::new();
        for b in self.all_bookings().await {
            let store = b.store.to_string();
            let e = expected_visits
                .entry(store.clone())
                .or_insert_with(|| line_of(&store));
            e.pickup_bookings += 1;
            e.pickup_no_shows += u64::from(
                b.appointment.status == clearance::domain::appointment::AppointmentStatus::NoShow,
            );
        }
        let mut converted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for o in &paid {
            if let Some(a) = &o.attribution {
                if let (Some(v), Some(store)) = (&a.visit, &a.store) {
                    converted
                        .entry(store.to_string())
                        .or_default()
                        .insert(v.to_string());
                }
            }
        }
        for v in self.all_visits().await {
            use clearance::domain::visit::VisitStatus;
            let store = v.store.to_string();
            let e = expected_visits
                .entry(store.clone())
                .or_insert_with(|| line_of(&store));
            e.visits += 1;
            match v.status {
                VisitStatus::Cancelled => e.visits_cancelled += 1,
                VisitStatus::CheckedIn => e.check_ins += 1,
                VisitStatus::Booked | VisitStatus::NoShow => e.visit_no_shows += 1,
            }
        }
        for (store, ids) in converted {
            let e = expected_visits
                .entry(store.clone())
                .or_insert_with(|| line_of(&store));
            e.converted = ids.len() as u64;
        }
        for e in expected_visits.values_mut() {
            e.conversion_bp = clearance::domain::report::basis_points(e.converted, e.check_ins);
            assert!(
                e.converted <= e.check_ins,
                "{}: more visits converted than checked in",
                e.store
            );
        }
        let expected_visits: Vec<_> = expected_visits.into_values().collect();
        assert_eq!(report.visits, expected_visits, "the report's visit figures");
        let t = &report.totals;
        let owed = |r: &&Refund| clearance_tests::oracle::owed(r);
        let buyers: BTreeSet<&UserId> = paid.iter().map(|o| &o.buyer).collect();
        let new_buyers = paid
            .iter()
            .filter(|o| {
                o.first_in_tenant && o.attribution.as_ref().is_some_and(|a| a.guide.is_some())
            })
            .count() as u64;
        assert_eq!(
            (
                t.orders,
                t.units,
                t.buyers,
                t.new_buyers,
                t.gross_gmv_fen,
                t.refunded_fen
            ),
            (
                paid.len() as u64,
                paid.iter()
                    .flat_map(|o| o.lines.iter())
                    .map(|l| u64::from(l.priced.quantity))
                    .sum(),
                buyers.len() as u64,
                new_buyers,
                paid.iter().map(|o| o.total_fen.get()).sum(),
                all_refunds
                    .iter()
                    .filter(owed)
                    .map(|r| r.amount_fen.get())
                    .sum(),
            ),
            "the report's totals"
        );
        assert_eq!(report.orders_placed, orders.len() as u64, "orders placed");
        assert_eq!(
            report.orders_unpaid_cancelled,
            orders.iter().filter(|o| o.payment_ref.is_none()).count() as u64
        );
        // coupons: once per order that kept them (one coupon per order here)
        assert_eq!(
            clearance_tests::oracle::report_coupons(&report),
            clearance_tests::oracle::coupon_tally(&paid),
            "the report's coupons"
        );
        // refunds: requests and how they were decided
        let asked: Vec<&Refund> = all_refunds
            .iter()
            .filter(|r| r.kind != RefundKind::UnappliedPayment)
            .collect();
        let by_rules = |r: &&&Refund| r.decided.as_ref().is_some_and(|d| d.by == "rules");
        let f = &report.refunds;
        assert_eq!(
            (
                f.requested,
                f.approved_by_rule,
                f.approved_by_person,
                f.rejected,
                f.pending_review
            ),
            (
                asked.len() as u64,
                asked
                    .iter()
                    .filter(|r| r.decision == Decision::Approved)
                    .filter(by_rules)
                    .count() as u64,
                asked
                    .iter()
                    .filter(|r| r.decision == Decision::Approved)
                    .filter(|r| !by_rules(r))
                    .count() as u64,
                asked
                    .iter()
                    .filter(|r| r.decision == Decision::Rejected)
                    .count() as u64,
                0,
            ),
            "the report's refunds"
        );
        assert_eq!(
            f.paid_back_fen,
            asked
                .iter()
                .filter(|r| r.money == MoneyStatus::Succeeded)
                .map(|r| r.amount_fen.get())
                .sum::<i64>(),
            "the report's money paid back"
        );
        // groups
        let mut formed = 0;
        let mut failed = 0;
        let mut store_completed = 0;
        for g in &self.groups {
            let (group, _) = self.group(g).await;
            match group.status {
                GroupStatus::Formed => formed += 1,
                GroupStatus::Failed => failed += 1,
                GroupStatus::StoreCompleted => store_completed += 1,
                GroupStatus::Open => panic!("group {g} still open after the close"),
            }
        }
        let gf = &report.groups;
        assert_eq!(
            (gf.opened, gf.formed, gf.failed, gf.store_completed, gf.open),
            (self.groups.len() as u64, formed, failed, store_completed, 0),
            "the report's groups"
        );
        // stock: put in, and what the stores hold at the end
        let put_in: i64 = LISTINGS
            .iter()
            .flat_map(|l| l.stock.iter())
            .map(|s| s.2)
            .sum();
        assert_eq!(report.stock.stock_units, put_in as u64, "stock put in");
        let cpk = keys::campaign_pk(&self.t, &self.campaign);
        let mut leftover = 0i64;
        for l in &LISTINGS {
            let sku = Sku::parse(l.sku).unwrap_or_else(|e| panic!("{e}"));
            let counts = self
                .item(cpk.clone(), keys::store_stock_sk(&sku))
                .await
                .unwrap_or_default();
            for sizes in counts["units"].as_object().into_iter().flatten() {
                for n in sizes.1.as_object().into_iter().flatten() {
                    leftover += n.1.as_i64().unwrap_or(0);
                }
            }
        }
        assert_eq!(
            report.stock.leftover_units, leftover as u64,
            "the report's leftover"
        );
    }
}

/// Units of `sku` and `size` a refund put back in its store's count: a return's
/// resaleable units once received, every unit of a parcel cancelled before pickup.
fn back_in_store(r: &Refund, sku: &Sku, size: &str) -> i64 {
    let matching = |line: usize| {
        r.lines
            .iter()
            .any(|l| l.line == line && &l.sku == sku && l.size.as_str() == size)
    };
    match (r.kind, r.parcel) {
        (RefundKind::Cancellation, Some(_)) => r
            .lines
            .iter()
            .filter(|l| matching(l.line))
            .map(|l| i64::from(l.quantity))
            .sum(),
        (RefundKind::Return, _) => r
            .inspection
            .iter()
            .filter(|x| matching(x.line))
            .map(|x| i64::from(x.resaleable))
            .sum(),
        _ => 0,
    }
}

async fn send_signed(w: &World, path: &str, body: Vec<u8>, sig: &str) -> clearance_tests::Resp {
    let mut req = request("POST", path, None, None);
    *req.body_mut() = axum::body::Body::from(body);
    req.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    req.headers_mut().insert(
        clearance::payments::SIGNATURE_HEADER,
        sig.parse()
            .unwrap_or_else(|e| panic!("bad signature header: {e}")),
    );
    w.send(req).await
}

/// Runs one sequence on a fresh world over `table`: every step checked, then the
/// close-out and its report.
async fn run(table: Arc<dyn Table>, binding: bool, ops: &[Op]) {
    let mut m = Model::new(table, binding).await;
    for (step, op) in ops.iter().enumerate() {
        m.apply(op).await;
        m.check(step).await;
    }
    m.settle_and_close().await;
}

fn runner(var: &str, cases: u32, shrink: u32) -> TestRunner {
    let cases = std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        max_shrink_iters: shrink,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs one generated case, its panics caught (and kept quiet: proptest replays many
/// failing cases while it shrinks; the minimal one is reported).
fn case(f: impl FnOnce() + std::panic::UnwindSafe) -> Result<(), TestCaseError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    outcome.map_err(|e| TestCaseError::fail(panic_text(&e)))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("a runtime: {e}"))
        .block_on(f)
}

/// Thousands of steps on the in-memory table (`LIFECYCLE_CASES` sets the cases).
#[test]
fn every_invariant_holds_after_every_step_of_random_lifecycles_on_memory() {
    let mut r = runner("LIFECYCLE_CASES", 100, 400);
    let steps = std::sync::atomic::AtomicUsize::new(0);
    let result = r.run(
        &(any::<bool>(), proptest::collection::vec(op(), 10..90)),
        |(binding, ops)| {
            steps.fetch_add(ops.len(), std::sync::atomic::Ordering::Relaxed);
            case(std::panic::AssertUnwindSafe(|| {
                block_on(run(clearance_tests::memory_table(), binding, &ops))
            }))
        },
    );
    println!(
        "lifecycle on memory: {} steps checked; calls (ok, refused): {:?}",
        steps.load(std::sync::atomic::Ordering::Relaxed),
        OUTCOMES.lock().map(|o| o.clone()).unwrap_or_default()
    );
    if let Err(e) = result {
        // Printed as well as panicked: a concurrent case's quiet panic hook may swallow
        // the panic's own message.
        eprintln!("{e}");
        panic!("{e}");
    }
}

/// Hundreds of steps on DynamoDB (moto_server): the same adapter code as production.
#[test]
fn every_invariant_holds_after_every_step_of_random_lifecycles_on_dynamodb() {
    // No server is a failure that says how to start one, before any case runs.
    clearance_tests::moto_endpoint();
    // Each shrinking step replays a whole sequence on moto: a few dozen are enough to
    // name the failure (replay it on memory to shrink it further).
    let mut r = runner("LIFECYCLE_MOTO_CASES", 6, 30);
    let steps = std::sync::atomic::AtomicUsize::new(0);
    let result = r.run(
        &(any::<bool>(), proptest::collection::vec(op(), 25..45)),
        |(binding, ops)| {
            steps.fetch_add(ops.len(), std::sync::atomic::Ordering::Relaxed);
            case(std::panic::AssertUnwindSafe(|| {
                block_on(async {
                    let table = clearance_tests::moto_table().await;
                    run(table, binding, &ops).await
                })
            }))
        },
    );
    println!(
        "lifecycle on DynamoDB: {} steps checked",
        steps.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let Err(e) = result {
        // Printed as well as panicked: a concurrent case's quiet panic hook may swallow
        // the panic's own message.
        eprintln!("{e}");
        panic!("{e}");
    }
}

/// Shrunk sequences the model found, kept as they were found.
mod found {
    use super::*;

    fn place(buyer: u8) -> Op {
        Op::Place {
            buyer,
            sku: 0,
            size: 0,
            qty: 1,
            second: None,
            coupon: false,
            link: None,
            ship: false,
            at: None,
        }
    }

    /// A payment arriving after the final report (the provider retrying a notice for
    /// an order the close cancelled) is given back, and the report stays true: such a
    /// payment was never the campaign's money.
    #[test]
    fn a_payment_after_the_final_report_changes_none_of_its_figures() {
        block_on(run(
            clearance_tests::memory_table(),
            false,
            &[
                place(0),
                Op::Close { grace: 0 },
                Op::Advance { minutes: 10 },
                Op::Advance { minutes: 360 },
                Op::PayAgain { order: 0 },
            ],
        ));
    }

    /// A return asked after the final report (every window has closed by then) is
    /// refused without a record, so the report's refund figures stay final.
    #[test]
    fn a_return_asked_after_the_final_report_is_refused_and_the_report_stays_true() {
        block_on(run(
            clearance_tests::memory_table(),
            false,
            &[
                place(0),
                Op::Close { grace: 0 },
                Op::Pay { order: 0 },
                Op::Advance { minutes: 10 },
                Op::PickUp {
                    order: 0,
                    parcel: 0,
                    right: true,
                },
                Op::Advance { minutes: 1560 },
                Op::Advance { minutes: 1560 },
                Op::Return {
                    order: 0,
                    parcel: None,
                    line: 0,
                    qty: 1,
                    resaleable: false,
                },
            ],
        ));
    }

    /// A refund the provider holds as processing (a failed group's refund, made by the
    /// system, not asked by anyone) keeps the campaign settling until the provider's
    /// notice settles it; then the close finishes.
    #[test]
    fn a_refund_the_provider_holds_keeps_the_close_open_until_its_notice() {
        block_on(run(
            clearance_tests::memory_table(),
            false,
            &[
                Op::Provider {
                    hold: true,
                    refuse: 0,
                },
                Op::OpenGroup { buyer: 0 },
                Op::Pay { order: 0 },
                Op::Advance { minutes: 1560 },
            ],
        ));
    }
    /// A close asked again while it waits for groups, after the last open group has
    /// formed, goes on at once: the grace is only for groups that can still form.
    #[test]
    fn a_close_asked_again_after_the_groups_formed_goes_on_at_once() {
        block_on(run(
            clearance_tests::memory_table(),
            false,
            &[
                Op::OpenGroup { buyer: 17 },
                Op::JoinGroup {
                    buyer: 108,
                    group: 0,
                },
                Op::Close { grace: 30 },
                Op::Pay { order: 0 },
                Op::Pay { order: 0 },
                Op::JoinGroup { buyer: 1, group: 0 },
                Op::Drain,
                Op::Pay { order: 0 },
                Op::Close { grace: 0 },
            ],
        ));
    }
    /// An assist still open when the campaign closes is over: no helper counts after
    /// the close's fence, and the final report counts it expired before its record
    /// expires (found by the model: the report said open, the record later expired).
    #[test]
    fn an_assist_open_at_the_close_is_counted_expired_and_helped_no_more() {
        block_on(run(
            clearance_tests::memory_table(),
            false,
            &[
                Op::StartAssist {
                    buyer: 0,
                    link: None,
                },
                Op::Close { grace: 0 },
                Op::Help {
                    helper: 1,
                    assist: 0,
                    alt: false,
                },
                Op::Advance { minutes: 360 },
                Op::Advance { minutes: 26 * 60 },
            ],
        ));
    }
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".into())
}
