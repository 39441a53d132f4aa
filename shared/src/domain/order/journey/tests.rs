use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::domain::ids::{CampaignId, OrderId, Size, Sku, StoreId};
use crate::domain::order::{Delivery, DeliveryMode, OrderLine, ParcelItem, ShardTake};
use crate::domain::pricing::PricedLine;
use crate::domain::tenancy::Tenant;

fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap() + Duration::hours(h)
}

fn clerk() -> UserId {
    UserId::parse("clerk-gz").unwrap()
}

/// A paid shipping order of one unit, dispatched to gz at hour 0: to pack.
fn shipped() -> Order {
    let paid = Fen::new(10_000).unwrap();
    let mut o = Order {
        id: OrderId::generate(t(0)),
        tenant: Tenant::parse("demo", "south-china").unwrap(),
        campaign: CampaignId::parse("c").unwrap(),
        buyer: UserId::parse("b-1").unwrap(),
        lines: vec![OrderLine {
            priced: PricedLine {
                sku: Sku::parse("SD-1").unwrap(),
                size: Size::parse("38").unwrap(),
                quantity: 1,
                unit_price_fen: paid,
                slot: None,
                subtotal_fen: paid,
                discount_fen: Fen::ZERO,
                paid_fen: paid,
                category: None,
            },
            shards: vec![ShardTake { shard: 0, units: 1 }],
            final_sale: false,
        }],
        subtotal_fen: paid,
        discount_fen: Fen::ZERO,
        total_fen: paid,
        coupons: vec![],
        delivery: Delivery {
            store: None,
            mode: DeliveryMode::Shipping,
            address: None,
            phone: None,
            location: None,
        },
        guide: None,
        guide_store: None,
        attribution: None,
        status: OrderStatus::AwaitingPayment,
        history: vec![],
        payment_deadline: t(1),
        payment_ref: None,
        parcels: vec![],
        attention: None,
        returned: vec![],
        refunded_fen: Fen::ZERO,
        refunded_lines: vec![],
        refund_requests: 0,
        group: None,
        returns_policy: Default::default(),
        first_in_tenant: false,
        created_at: t(0),
        version: 1,
    };
    o.pay(paid, "p", t(0)).unwrap();
    let item = ParcelItem {
        line: 0,
        sku: o.lines[0].priced.sku.clone(),
        size: o.lines[0].priced.size.clone(),
        quantity: 1,
        returned: 0,
    };
    o.dispatch(
        vec![(StoreId::parse("gz").unwrap(), vec![item])],
        || unreachable!(),
        t(0),
    )
    .unwrap();
    o
}

fn handed(o: &mut Order, at: i64) {
    o.pack(1, &clerk(), t(at)).unwrap();
    o.hand_over(
        1,
        CarrierId::parse("sf").unwrap(),
        CarrierKind::Express,
        Waybill::parse("SF1").unwrap(),
        None,
        &clerk(),
        t(at),
    )
    .unwrap();
}

fn ev(h: i64, status: TrackStatus) -> TrackEvent {
    TrackEvent {
        at: t(h),
        status,
        place: None,
        note: None,
    }
}

fn sf1() -> Waybill {
    Waybill::parse("SF1").unwrap()
}

#[test]
fn a_parcel_is_packed_before_it_is_handed_over_and_only_once() {
    let mut o = shipped();
    assert_eq!(o.parcels[0].status, ParcelStatus::ToPack);
    assert!(o.parcels[0].shipment.is_some());
    let err = o.ready_to_hand_over(1).unwrap_err();
    assert!(err.to_string().contains("pack"), "{err}");
    assert!(o.pack(1, &clerk(), t(1)).unwrap());
    assert!(
        !o.pack(1, &clerk(), t(2)).unwrap(),
        "a second pack reprints, nothing changes"
    );
    let mut o2 = o.clone();
    o2.hand_over(
        1,
        CarrierId::parse("sf").unwrap(),
        CarrierKind::Express,
        sf1(),
        None,
        &clerk(),
        t(3),
    )
    .unwrap();
    assert_eq!(o2.parcels[0].status, ParcelStatus::HandedOver);
    assert!(o2
        .hand_over(
            1,
            CarrierId::parse("sf").unwrap(),
            CarrierKind::Express,
            sf1(),
            None,
            &clerk(),
            t(4)
        )
        .is_err());
    assert!(
        o2.pack(1, &clerk(), t(5)).is_err(),
        "it has left the packing table"
    );
}

#[test]
fn events_in_any_order_or_repeated_give_the_same_parcel() {
    let events = [
        ev(2, TrackStatus::InTransit),
        ev(20, TrackStatus::OutForDelivery),
        ev(24, TrackStatus::Delivered),
    ];
    let mut a = shipped();
    handed(&mut a, 1);
    assert!(a.track(1, &sf1(), &events, t(25)).unwrap());
    let mut b = shipped();
    handed(&mut b, 1);
    let mut reversed = events.to_vec();
    reversed.reverse();
    for e in &reversed {
        b.track(1, &sf1(), std::slice::from_ref(e), t(25)).unwrap();
    }
    assert_eq!(a.parcels, b.parcels);
    assert_eq!(a.status, OrderStatus::Delivered);
    assert_eq!(a.received_at(), Some(t(24)), "received at the door");
    // a replay, or an older push, changes nothing
    let before = a.clone();
    assert!(!a.track(1, &sf1(), &events, t(30)).unwrap());
    assert!(!a.track(1, &sf1(), &events[..1], t(30)).unwrap());
    assert_eq!(a, before);
    // another waybill's push is refused
    assert!(a
        .track(1, &Waybill::parse("SF2").unwrap(), &events, t(30))
        .is_err());
}

#[test]
fn a_parcel_never_moves_back_and_delivery_wins_over_a_failed_attempt() {
    let mut o = shipped();
    handed(&mut o, 1);
    o.track(1, &sf1(), &[ev(20, TrackStatus::Failed)], t(20))
        .unwrap();
    assert_eq!(o.parcels[0].status, ParcelStatus::DeliveryFailed);
    o.track(1, &sf1(), &[ev(30, TrackStatus::OutForDelivery)], t(30))
        .unwrap();
    assert_eq!(
        o.parcels[0].status,
        ParcelStatus::DeliveryFailed,
        "not back to in transit"
    );
    o.track(1, &sf1(), &[ev(32, TrackStatus::Delivered)], t(32))
        .unwrap();
    assert_eq!(o.parcels[0].status, ParcelStatus::Delivered);
    assert!(
        o.end_parcel(1, ParcelEnd::Lost, t(40), "x").is_err(),
        "delivered is not lost"
    );
}

#[test]
fn the_timer_flags_a_parcel_not_handed_over_in_48_hours_then_a_silent_one_then_declares_a_failed_one_lost(
) {
    let mut o = shipped();
    assert_eq!(o.shipping_due(), Some(t(HANDOVER_HOURS)));
    assert_eq!(o.shipping_step(t(47)), None);
    let Some(ShippingStep::Attention(f)) = o.shipping_step(t(48)) else {
        panic!()
    };
    assert!(f[0].1.contains("48 hours"));
    o.flag_parcels(&f, t(48));
    assert!(o.parcels_need_attention());
    assert_eq!(
        o.shipping_due(),
        None,
        "flagged: nothing more until it moves"
    );
    handed(&mut o, 50);
    assert!(!o.parcels_need_attention(), "handed over: off the list");
    o.track(1, &sf1(), &[ev(52, TrackStatus::InTransit)], t(52))
        .unwrap();
    assert_eq!(o.shipping_due(), Some(t(52 + SILENT_HOURS)));
    let Some(ShippingStep::Attention(f)) = o.shipping_step(t(52 + SILENT_HOURS)) else {
        panic!()
    };
    assert!(f[0].1.contains("72 hours"));
    // a failed delivery: lost after a week unless it is on its way back
    let mut failed = shipped();
    handed(&mut failed, 1);
    failed
        .track(1, &sf1(), &[ev(10, TrackStatus::Failed)], t(10))
        .unwrap();
    assert_eq!(
        failed.shipping_due(),
        Some(t(10) + Duration::days(LOST_AFTER_DAYS))
    );
    assert_eq!(
        failed.shipping_step(t(10) + Duration::days(LOST_AFTER_DAYS)),
        Some(ShippingStep::Lost(1))
    );
    let mut back = failed.clone();
    back.track(1, &sf1(), &[ev(12, TrackStatus::Returning)], t(12))
        .unwrap();
    assert_ne!(
        back.shipping_step(t(10) + Duration::days(LOST_AFTER_DAYS)),
        Some(ShippingStep::Lost(1))
    );
}

#[test]
fn an_order_whose_parcels_all_ended_undelivered_is_cancelled() {
    let mut o = shipped();
    handed(&mut o, 1);
    o.end_parcel(1, ParcelEnd::Lost, t(200), "lost").unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.received_at(), None);
    assert!(
        o.end_parcel(1, ParcelEnd::ReturnedToStore, t(201), "x")
            .is_err(),
        "ended once"
    );
}
