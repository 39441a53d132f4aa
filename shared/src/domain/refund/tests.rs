//! The refund rules, table-tested, and the money they may pay, property-tested.

use super::*;
use crate::domain::ids::CouponTemplateId;
use crate::domain::order::{
    payment_deadline, CounterEvent, Delivery, OrderLine, Parcel, ParcelItem, ShardTake,
    StatusChange,
};
use crate::domain::pricing::{price, HeldCoupon, LineToPrice};
use proptest::prelude::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn fen(v: i64) -> Fen {
    Fen::new(v).unwrap()
}

/// A picked-up order of `lines` (sku, unit price, quantity, final sale), priced with
/// `coupon` (off, min spend) if any, handed over at `picked`.
fn order(
    lines: &[(&str, i64, u32, bool)],
    coupon: Option<(i64, i64)>,
    picked: DateTime<Utc>,
) -> Order {
    let to_price: Vec<LineToPrice> = lines
        .iter()
        .map(|(sku, p, q, _)| LineToPrice {
            sku: Sku::parse(sku).unwrap(),
            size: Size::parse("38").unwrap(),
            quantity: *q,
            unit_price: fen(*p),
            slot: None,
            category: None,
        })
        .collect();
    let subtotal: i64 = lines.iter().map(|(_, p, q, _)| p * i64::from(*q)).sum();
    let held = coupon
        .filter(|(_, min)| subtotal >= *min)
        .map(|(off, min)| HeldCoupon {
            id: "c.1".into(),
            template: CouponTemplateId::parse("c").unwrap(),
            off: fen(off),
            min_spend: fen(min),
        });
    let chosen: Vec<&HeldCoupon> = held.iter().collect();
    let cart = price(to_price, &chosen, Default::default()).unwrap();
    let store = StoreId::parse("gz").unwrap();
    Order {
        id: OrderId::parse("01JDEMOORDER00000000000000").unwrap(),
        tenant: Tenant::parse("demo", "x").unwrap(),
        campaign: CampaignId::parse("c").unwrap(),
        buyer: UserId::parse("b").unwrap(),
        lines: cart
            .lines
            .iter()
            .zip(lines)
            .map(|(p, (_, _, q, fs))| OrderLine {
                priced: p.clone(),
                shards: vec![ShardTake {
                    shard: 0,
                    units: *q,
                }],
                final_sale: *fs,
            })
            .collect(),
        subtotal_fen: cart.subtotal_fen,
        discount_fen: cart.discount_fen,
        total_fen: cart.total_fen,
        coupons: cart.coupons.clone(),
        delivery: Delivery {
            store: None,
            mode: DeliveryMode::Pickup,
            address: None,
            phone: None,
            location: None,
        },
        guide: None,
        guide_store: None,
        attribution: None,
        status: OrderStatus::PickedUp,
        history: vec![StatusChange {
            status: OrderStatus::PickedUp,
            at: picked,
            note: None,
        }],
        payment_deadline: payment_deadline(picked, 15),
        payment_ref: Some("wx-1".into()),
        parcels: vec![Parcel {
            id: 1,
            store: store.clone(),
            items: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, _, q, _))| ParcelItem {
                    line: i,
                    sku: Sku::parse(sku).unwrap(),
                    size: Size::parse("38").unwrap(),
                    quantity: *q,
                    returned: 0,
                })
                .collect(),
            status: ParcelStatus::PickedUp,
            pickup_code: Some("123456".into()),
            failed_attempts: 0,
            locked_until: None,
            wrong_codes: vec![],
            handed_over: Some(CounterEvent {
                by: UserId::parse("clerk").unwrap(),
                at: picked,
            }),
            collect_by: None,
            reminded_at: None,
            appointment: None,
            shipment: None,
        }],
        attention: None,
        returned: vec![],
        refunded_fen: Fen::ZERO,
        refunded_lines: vec![],
        refund_requests: 0,
        group: None,
        returns_policy: Default::default(),
        first_in_tenant: false,
        created_at: picked,
        version: 5,
    }
}

fn good() -> DeclaredCondition {
    DeclaredCondition {
        unworn: true,
        tags_on: true,
        original_box: true,
    }
}

fn ask(lines: &[(&str, u32)], condition: DeclaredCondition) -> RefundRequest {
    RefundRequest {
        lines: lines
            .iter()
            .map(|(s, q)| (Sku::parse(s).unwrap(), Size::parse("38").unwrap(), *q))
            .collect(),
        parcel: None,
        reason: ReturnReason::WrongSize,
        condition: Some(condition),
        photos: vec![],
    }
}

const PICKED: &str = "2026-11-23T04:00:00Z";

/// (case, final sale, days after pickup, condition, earlier returns, decision, codes)
type Case<'a> = (
    &'a str,
    bool,
    i64,
    DeclaredCondition,
    u32,
    Decision,
    &'a [ReasonCode],
);

#[test]
fn each_rule_decides_with_its_reason_code() {
    let worn = DeclaredCondition {
        unworn: false,
        ..good()
    };
    // (case, final sale, days after pickup, condition, earlier returns) => (decision, codes)
    let table: &[Case] = &[
        ("all pass", false, 2, good(), 0, Decision::Approved, &[]),
        (
            "last day of the window",
            false,
            7,
            good(),
            0,
            Decision::Approved,
            &[],
        ),
        (
            "window closed",
            false,
            8,
            good(),
            0,
            Decision::Rejected,
            &[ReasonCode::WindowClosed],
        ),
        (
            "final sale",
            true,
            1,
            good(),
            0,
            Decision::Rejected,
            &[ReasonCode::FinalSale],
        ),
        (
            "worn",
            false,
            1,
            worn,
            0,
            Decision::PendingReview,
            &[ReasonCode::ConditionNotResaleable],
        ),
        (
            "frequent returner",
            false,
            1,
            good(),
            3,
            Decision::PendingReview,
            &[ReasonCode::FrequentReturns],
        ),
        (
            "below the threshold",
            false,
            1,
            good(),
            2,
            Decision::Approved,
            &[],
        ),
        (
            "every failed reason is listed",
            true,
            9,
            worn,
            5,
            Decision::Rejected,
            &[
                ReasonCode::FinalSale,
                ReasonCode::WindowClosed,
                ReasonCode::ConditionNotResaleable,
                ReasonCode::FrequentReturns,
            ],
        ),
    ];
    for (case, final_sale, days, condition, before, decision, codes) in table {
        let o = order(&[("A", 10_000, 1, *final_sale)], None, at(PICKED));
        let now = at(PICKED) + Duration::days(*days) - Duration::minutes(1);
        let plan = decide(
            &o,
            &ask(&[("A", 1)], *condition),
            *before,
            "RMA-X".into(),
            now,
        )
        .unwrap();
        assert_eq!(plan.refund.decision, *decision, "{case}");
        let mut got: Vec<ReasonCode> = plan.refund.findings.iter().map(|f| f.code).collect();
        got.sort();
        let mut want = codes.to_vec();
        want.sort();
        assert_eq!(got, want, "{case}");
        assert_eq!(
            plan.refund.rma_code.is_some(),
            *decision == Decision::Approved,
            "{case}"
        );
        let held = if *decision == Decision::Rejected {
            0
        } else {
            1
        };
        assert_eq!(
            plan.order.returned,
            vec![held],
            "{case}: units held by the refund"
        );
    }
}

#[test]
fn a_paid_order_not_yet_dispatched_is_cancelled_and_refunded_in_full() {
    let mut o = order(
        &[("A", 10_000, 2, false), ("B", 5_000, 1, true)],
        Some((2_000, 0)),
        at(PICKED),
    );
    o.status = OrderStatus::Paid;
    o.parcels.clear();
    let plan = decide(&o, &ask(&[], good()), 9, "RMA-X".into(), at(PICKED)).unwrap();
    assert_eq!(plan.refund.kind, RefundKind::Cancellation);
    assert_eq!(
        plan.refund.decision,
        Decision::Approved,
        "no return rules for goods never sent"
    );
    assert_eq!(plan.refund.money, MoneyStatus::Queued);
    assert_eq!(plan.refund.amount_fen, fen(23_000));
    assert_eq!(plan.order.status, OrderStatus::Cancelled);
    assert_eq!(plan.order.refunded_fen, o.total_fen);
}

#[test]
fn orders_not_paid_are_not_refunded_and_quantities_are_bounded() {
    let mut o = order(&[("A", 10_000, 2, false)], None, at(PICKED));
    o.status = OrderStatus::AwaitingPayment;
    let err = decide(&o, &ask(&[("A", 1)], good()), 0, "R".into(), at(PICKED)).unwrap_err();
    assert!(matches!(
        err,
        DomainError::Conflict {
            kind: "order-not-paid",
            ..
        }
    ));
    let o = order(&[("A", 10_000, 2, false)], None, at(PICKED));
    for (lines, field) in [
        (vec![("A", 3)], "lines[0].quantity"),
        (vec![("A", 0)], "lines[0].quantity"),
        (vec![("Z", 1)], "lines[0].sku"),
        (vec![], "lines"),
    ] {
        let err = decide(&o, &ask(&lines, good()), 0, "R".into(), at(PICKED)).unwrap_err();
        assert!(
            matches!(&err, DomainError::Invalid { field: f, .. } if f == field),
            "{err:?}"
        );
    }
    // once one unit is being returned, only one more may be
    let first = decide(&o, &ask(&[("A", 1)], good()), 0, "R".into(), at(PICKED)).unwrap();
    let err = decide(
        &first.order,
        &ask(&[("A", 2)], good()),
        1,
        "R".into(),
        at(PICKED),
    )
    .unwrap_err();
    assert!(matches!(&err, DomainError::Invalid { field, .. } if field == "lines[0].quantity"));
    let second = decide(
        &first.order,
        &ask(&[("A", 1)], good()),
        1,
        "R".into(),
        at(PICKED),
    )
    .unwrap();
    assert_eq!(second.refund.id.as_str(), "01JDEMOORDER00000000000000-R02");
}

#[test]
fn a_partial_return_under_the_coupon_minimum_refunds_the_units_allocated_paid_amount() {
    // 2 × ¥300 with "50 off over 500": each unit paid ¥275
    let o = order(
        &[("A", 30_000, 2, false)],
        Some((5_000, 50_000)),
        at(PICKED),
    );
    assert_eq!(o.total_fen, fen(55_000));
    // returning one leaves ¥300 kept, under the ¥500 minimum: no claw-back
    let first = decide(&o, &ask(&[("A", 1)], good()), 0, "R".into(), at(PICKED)).unwrap();
    assert_eq!(
        first.refund.amount_fen,
        fen(27_500),
        "not the list price, not less the lost discount"
    );
    let second = decide(
        &first.order,
        &ask(&[("A", 1)], good()),
        1,
        "R".into(),
        at(PICKED),
    )
    .unwrap();
    assert_eq!(
        first.refund.amount_fen.get() + second.refund.amount_fen.get(),
        o.total_fen.get()
    );
}

#[test]
fn refund_ids_are_deterministic_and_read_back() {
    let o = OrderId::parse("01JDEMOORDER00000000000000").unwrap();
    let id = refund_id(&o, 3);
    assert_eq!(id.as_str(), "01JDEMOORDER00000000000000-R03");
    assert_eq!(parse_refund_id(&id), Some((o.clone(), "R03")));
    let p = PaymentRef::parse("wx-42").unwrap();
    let u = unapplied_refund_id(&o, &p);
    assert_eq!(u, unapplied_refund_id(&o, &p), "one id per payment");
    assert_ne!(
        u,
        unapplied_refund_id(&o, &PaymentRef::parse("wx-43").unwrap())
    );
    assert!(parse_refund_id(&u).is_some());
    assert_eq!(parse_refund_id(&RefundId::parse("nope-R1").unwrap()), None);
}

#[test]
fn timers_escalate_reviews_and_close_returns_not_sent_back() {
    let o = order(&[("A", 10_000, 1, false)], None, at(PICKED));
    let worn = DeclaredCondition {
        unworn: false,
        ..good()
    };
    let mut r = decide(&o, &ask(&[("A", 1)], worn), 0, "R".into(), at(PICKED))
        .unwrap()
        .refund;
    let due = r.next_due().unwrap();
    assert_eq!(due, at(PICKED) + Duration::hours(4));
    assert!(!r.on_timer(due - Duration::seconds(1)));
    assert!(r.on_timer(due));
    assert!(r.escalated);
    assert_eq!(r.next_due(), None);
    r.review(
        true,
        &UserId::parse("ops").unwrap(),
        None,
        "RMA-1".into(),
        due,
    )
    .unwrap();
    let close = r.next_due().unwrap();
    assert_eq!(close, due + Duration::days(7));
    assert!(r.on_timer(close));
    assert_eq!(r.goods, GoodsStatus::Closed);
    assert!(r.released());
}

proptest! {
    /// Whatever the prices, quantities, coupon and order of partial returns, and
    /// whichever of them are released again (rejected, or closed unreturned), a line's
    /// live refunds never exceed what was paid for it, the order's never exceed its
    /// total, and returning everything left refunds exactly the total.
    #[test]
    fn refunds_never_exceed_what_was_paid(
        lines in proptest::collection::vec((1i64..200_000, 1u32..6), 1..5),
        coupon in proptest::option::of((1i64..60_000, 0i64..100_000)),
        steps in proptest::collection::vec((0usize..5, 1u32..4, proptest::bool::weighted(0.3)), 1..24),
    ) {
        let named: Vec<(String, i64, u32)> = lines.iter().enumerate().map(|(i, (p, q))| (format!("S{i}"), *p, *q)).collect();
        let spec: Vec<(&str, i64, u32, bool)> = named.iter().map(|(s, p, q)| (s.as_str(), *p, *q, false)).collect();
        let coupon = coupon.filter(|(off, min)| *min == 0 || off < min);
        let mut o = order(&spec, coupon, at(PICKED));
        // the live refunds, as the ledger keeps them
        let mut live: Vec<Refund> = Vec::new();
        for (line, qty, release) in steps {
            let line = line % spec.len();
            if release && !live.is_empty() {
                // a person rejects (or the goods never come back): units and money free
                let r = live.remove(line % live.len());
                release_from_order(&mut o, &r);
            } else {
                let left = spec[line].2 - o.returned.get(line).copied().unwrap_or(0);
                if left == 0 { continue; }
                let q = qty.min(left);
                let plan = decide(&o, &ask(&[(spec[line].0, q)], good()), 0, "R".into(), at(PICKED)).unwrap();
                live.push(plan.refund);
                o = plan.order;
            }
            for (i, l) in o.lines.iter().enumerate() {
                let held: i64 = live.iter().flat_map(|r| &r.lines).filter(|x| x.line == i).map(|x| x.amount_fen.get()).sum();
                let units: u32 = live.iter().flat_map(|r| &r.lines).filter(|x| x.line == i).map(|x| x.quantity).sum();
                prop_assert!(held <= l.priced.paid_fen.get(), "line {} holds {} of {}", i, held, l.priced.paid_fen.get());
                prop_assert_eq!(o.refunded_lines.get(i).map_or(0, |f| f.get()), held);
                prop_assert_eq!(o.returned.get(i).copied().unwrap_or(0), units);
                if units == l.priced.quantity {
                    prop_assert_eq!(held, l.priced.paid_fen.get());
                }
            }
            let total: i64 = live.iter().map(|r| r.amount_fen.get()).sum();
            prop_assert!(total <= o.total_fen.get());
            prop_assert_eq!(o.refunded_fen.get(), total);
        }
        // return what is left: the live refunds add up to the total, to the fen
        for (i, (sku, _, q, _)) in spec.iter().enumerate() {
            let left = q - o.returned.get(i).copied().unwrap_or(0);
            if left > 0 {
                let plan = decide(&o, &ask(&[(sku, left)], good()), 0, "R".into(), at(PICKED)).unwrap();
                live.push(plan.refund);
                o = plan.order;
            }
        }
        let total: i64 = live.iter().map(|r| r.amount_fen.get()).sum();
        prop_assert_eq!(total, o.total_fen.get());
    }
}
