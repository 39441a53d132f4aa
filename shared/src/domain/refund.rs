//! Refunds: the rules that decide a refund request in the request itself, and the
//! ledger entry each refund is.
//!
//! A refund's **decision** (approved, pending review, rejected) is kept apart from its
//! **money** (not due, queued, submitted, succeeded, failed) and, for a return, from the
//! **goods** (awaiting return, received, closed). Its id is deterministic
//! (`{order}-R{nn}`), and the payment provider refunds once per id, so a retry anywhere
//! is the same refund, never a second one.
//!
//! The rules, each with a reason code:
//!
//! | rule | code | when it fails |
//! |---|---|---|
//! | order state | `order-not-paid` | refused (409): nothing was paid |
//! | final sale | `final-sale` | rejected (absolute) |
//! | return window | `window-closed` | rejected (absolute) |
//! | quantity | — | 422: more than was bought less what is already being returned |
//! | declared condition | `condition-not-resaleable` | pending review |
//! | frequent returns | `frequent-returns` | pending review |
//!
//! A paid order not yet dispatched is cancelled outright (stock, coupons and purchase
//! limits come back) and refunded in full. Otherwise it is a return of units, refunded
//! their **allocated paid amount** once received.
//!
//! **Coupon policy on partial returns.** A coupon's discount was spread over the lines
//! when the order was paid; a return refunds exactly what the returned units cost after
//! that spread. If what the buyer keeps falls below the coupon's minimum spend, the
//! discount on the kept units is not clawed back: the refund is never less than, nor
//! more than, what those units cost the buyer. Every unit's share sums, over all of a
//! line's returns, to exactly the line's paid amount.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::Address;
use super::ids::{CampaignId, OrderId, PaymentRef, RefundId, Size, Sku, StoreId, UserId};
use super::money::Fen;
use super::order::{DeliveryMode, Order, OrderStatus, Parcel, ParcelStatus};
use super::tenancy::Tenant;
use super::DomainError;

pub use super::terms::ReturnPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    /// Paid, not yet dispatched: the whole order is cancelled and refunded. Or (with
    /// its `parcel`) a parcel never collected: cancelled whole, refunded in full.
    Cancellation,
    /// Units sent back, refunded once received.
    Return,
    /// A payment the order could not take (a second one, a wrong amount, one after the
    /// order was cancelled): given back whole.
    UnappliedPayment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    PendingReview,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoneyStatus {
    /// Nothing to pay yet (waiting for a decision or for the goods).
    NotDue,
    Queued,
    /// The provider accepted it; its result is awaited.
    Submitted,
    Succeeded,
    /// The provider refused it: asked again with backoff, then listed for a person.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoodsStatus {
    /// Nothing to send back (a cancellation, an unapplied payment, a rejection).
    NotNeeded,
    AwaitingReturn,
    Received,
    /// Not sent back in time: closed without a refund.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    FinalSale,
    WindowClosed,
    ConditionNotResaleable,
    FrequentReturns,
}

/// A rule that did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub code: ReasonCode,
    pub detail: String,
}

/// Why the buyer returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    ChangedMind,
    WrongSize,
    /// Fit reasons a buyer may give more precisely: size advice reads them.
    TooSmall,
    TooLarge,
    NotAsDescribed,
    Defective,
    Other,
}

/// What the buyer declares about the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredCondition {
    pub unworn: bool,
    pub tags_on: bool,
    pub original_box: bool,
}

impl DeclaredCondition {
    fn resaleable(&self) -> bool {
        self.unworn && self.tags_on && self.original_box
    }
}

/// Units of one order line in a refund, and what they are refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefundLine {
    pub line: usize,
    pub sku: Sku,
    pub size: Size,
    pub quantity: u32,
    pub amount_fen: Fen,
}

/// A clerk's inspection of the received units of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspection {
    pub line: usize,
    /// Back to stock.
    pub resaleable: u32,
    /// Not sellable again.
    pub damaged: u32,
}

/// Who decided, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Decided {
    /// `rules` for an automatic decision, else the staff member's subject.
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// One refund: the ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    pub id: RefundId,
    #[schema(value_type = String)]
    pub tenant: Tenant,
    pub order: OrderId,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub kind: RefundKind,
    /// The parcel its units come from (a return, or a parcel cancelled before pickup).
    #[serde(default)]
    pub parcel: Option<u8>,
    pub lines: Vec<RefundLine>,
    pub amount_fen: Fen,
    /// The payment it gives back.
    pub payment_ref: PaymentRef,
    pub reason: Option<ReturnReason>,
    pub condition: Option<DeclaredCondition>,
    /// Keys of photos the buyer uploaded.
    pub photos: Vec<String>,
    pub decision: Decision,
    /// Every rule that did not pass.
    pub findings: Vec<Finding>,
    pub decided: Option<Decided>,
    pub money: MoneyStatus,
    /// Asks the provider refused or failed.
    #[serde(default)]
    pub attempts: u32,
    /// A refused refund is asked again then (with backoff); none once the automatic
    /// attempts are spent and it waits on the staff list for a person's retry.
    #[serde(default)]
    pub retry_at: Option<DateTime<Utc>>,
    pub goods: GoodsStatus,
    /// Where the goods go back: the store that fulfilled them.
    pub return_store: Option<StoreId>,
    pub return_address: Option<Address>,
    /// The code on the return parcel and the RMA document.
    pub rma_code: Option<String>,
    pub inspection: Vec<Inspection>,
    pub received: Option<Decided>,
    /// Whether the units that came back to the store (resaleable returns, a cancelled
    /// parcel's units) also went back on sale: they do while the campaign sells.
    #[serde(default)]
    pub back_on_sale: bool,
    /// Waited for a person too long: listed first.
    pub escalated: bool,
    /// Asked by a member in the after-sales fast lane: the returns-count rule skipped,
    /// listed first for review.
    #[serde(default)]
    pub fast_lane: bool,
    /// The campaign's return terms when it was asked (its timers follow them).
    #[serde(default)]
    pub policy: ReturnPolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// What the buyer asks for: units of the order's lines, or a whole parcel (`parcel`
/// with no lines), or nothing at all before dispatch (the order's cancellation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub lines: Vec<(Sku, Size, u32)>,
    /// The parcel the units come back from: needed when a line's units were handed
    /// over in more than one parcel.
    pub parcel: Option<u8>,
    pub reason: ReturnReason,
    /// What the buyer declares of goods sent back (a return needs it).
    pub condition: Option<DeclaredCondition>,
    pub photos: Vec<String>,
}

impl RefundRequest {
    /// The system's own request to cancel a parcel (its pickup window passed).
    pub fn parcel_cancellation(parcel: u8) -> Self {
        RefundRequest {
            lines: Vec::new(),
            parcel: Some(parcel),
            reason: ReturnReason::Other,
            condition: None,
            photos: Vec::new(),
        }
    }
}

/// The allocated paid amount of `quantity` more units of a line of `paid` over `bought`
/// units, after `before` were returned: the difference of two floors, so the shares of
/// all of a line's units sum to exactly `paid`, and never more. (The report spreads a
/// line's amount over its parcels with it.)
pub fn units_amount(paid: Fen, bought: u32, before: u32, quantity: u32) -> Fen {
    if bought == 0 {
        return Fen::ZERO;
    }
    let upto = |k: u32| i128::from(paid.get()) * i128::from(k.min(bought)) / i128::from(bought);
    let share = upto(before.saturating_add(quantity)) - upto(before);
    Fen::new(share as i64).unwrap_or(Fen::ZERO)
}

/// What `quantity` more units of a line cost the buyer, given what its live refunds
/// already hold: the units left share what is left of the line's paid amount, and the
/// last of them take exactly the rest. Pricing by what is left (never by a unit's
/// position) keeps the line exact when an earlier refund is rejected and its units are
/// returned again.
pub fn share_of_rest(paid: Fen, bought: u32, held_units: u32, held: Fen, quantity: u32) -> Fen {
    let units_left = bought.saturating_sub(held_units);
    let rest = paid.saturating_sub(held);
    if quantity == 0 || units_left == 0 {
        return Fen::ZERO;
    }
    if quantity >= units_left {
        return rest;
    }
    let share = i128::from(rest.get()) * i128::from(quantity) / i128::from(units_left);
    Fen::new(share as i64).unwrap_or(Fen::ZERO)
}

/// The deterministic id of an order's `n`-th refund request.
pub fn refund_id(order: &OrderId, n: u8) -> RefundId {
    // An order id is a ULID: with the suffix it always parses.
    RefundId::parse(&format!("{order}-R{n:02}"))
        .unwrap_or_else(|_| unreachable!("order ids are ULIDs"))
}

/// The id of the refund of a payment the order could not take: one per payment.
pub fn unapplied_refund_id(order: &OrderId, payment: &PaymentRef) -> RefundId {
    let digest = super::signing::digest(payment.as_str().as_bytes());
    RefundId::parse(&format!("{order}-P{}", &digest[..16]))
        .unwrap_or_else(|_| unreachable!("hex and a ULID always parse"))
}

/// Reads `{order}-R{nn}` or `{order}-P{hash}` back into the order and the suffix
/// (`R{nn}` or `P{hash}`) that names the refund within it.
pub fn parse_refund_id(id: &RefundId) -> Option<(OrderId, &str)> {
    let (order, suffix) = id.as_str().rsplit_once('-')?;
    let order = OrderId::parse(order).ok()?;
    let ok = match suffix.split_at_checked(1)? {
        ("R", n) => n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()),
        ("P", h) => h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => false,
    };
    ok.then_some((order, suffix))
}

/// What a refund request becomes, decided from the order as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    pub refund: Refund,
    /// The order with its returned units, refunded amounts and request count moved on
    /// (and, for a cancellation, cancelled).
    pub order: Order,
}

impl RefundPlan {
    /// A parcel cancelled before pickup: its units go back to the store's count.
    pub fn cancels_parcel(&self) -> bool {
        self.refund.kind == RefundKind::Cancellation && self.refund.parcel.is_some()
    }
}

/// Decides a buyer's refund request under the return terms the order was bought with.
/// The earlier returns the returns-count rule sees: none for a member whose level
/// gives the after-sales fast lane.
pub fn counted_returns(returns_before: u32, fast_lane: bool) -> u32 {
    if fast_lane {
        0
    } else {
        returns_before
    }
}

/// `returns_before` is how many returns the buyer has asked for in this campaign;
/// `rma_code` the code an approved return will carry.
///
/// - Paid, not dispatched: the whole order is cancelled and refunded.
/// - A parcel still waiting at its store: cancelled whole.
/// - Units handed over: a return, decided by the rules.
pub fn decide(
    order: &Order,
    req: &RefundRequest,
    returns_before: u32,
    rma_code: String,
    now: DateTime<Utc>,
) -> Result<RefundPlan, DomainError> {
    let (refund, next) = open_request(order, req, now)?;
    match order.status {
        OrderStatus::Paid | OrderStatus::NeedsAttention => {
            Ok(cancel_order(order, refund, next, now))
        }
        OrderStatus::Shipped
        | OrderStatus::Delivered
        | OrderStatus::ReadyForPickup
        | OrderStatus::PickedUp => {
            let (parcel, units) = units_asked(order, req)?;
            let p = order
                .parcels
                .iter()
                .find(|p| p.id == parcel)
                .ok_or(DomainError::NotFound { what: "parcel" })?;
            if p.at_store() {
                cancel_parcel(order, p, &units, refund, next, now)
            } else if matches!(
                p.status,
                ParcelStatus::HandedOver | ParcelStatus::InTransit | ParcelStatus::DeliveryFailed
            ) {
                Err(DomainError::conflict(
                    "parcel-not-delivered",
                    format!(
                        "parcel {} is with the carrier: ask once it is delivered (a parcel refused at the door goes back to its store and is refunded in full)",
                        p.id
                    ),
                ))
            } else {
                return_units(
                    order,
                    p,
                    req,
                    &units,
                    returns_before,
                    rma_code,
                    refund,
                    next,
                    now,
                )
            }
        }
        OrderStatus::AwaitingPayment | OrderStatus::Cancelled => Err(DomainError::conflict(
            "order-not-paid",
            "only a paid order is refunded",
        )),
    }
}

/// A shipped parcel that ended without reaching the buyer: back at its store unclaimed
/// (its units return to the store's count) or lost by the carrier (its units are gone).
/// Either way every unit of it not yet refunded is refunded in full, by rule, at once;
/// the order's parcel ends in the same change, so the refund is paid once.
pub fn decide_parcel_end(
    order: &Order,
    parcel: u8,
    end: super::shipping::ParcelEnd,
    why: &str,
    now: DateTime<Utc>,
) -> Result<RefundPlan, DomainError> {
    use super::shipping::ParcelEnd;
    let (mut refund, mut next) =
        open_request(order, &RefundRequest::parcel_cancellation(parcel), now)?;
    let p = order
        .parcels
        .iter()
        .find(|p| p.id == parcel)
        .ok_or(DomainError::NotFound { what: "parcel" })?;
    let units: Vec<(usize, u32)> = p
        .items
        .iter()
        .filter(|it| it.left() > 0)
        .map(|it| (it.line, it.left()))
        .collect();
    refund.kind = RefundKind::Cancellation;
    refund.reason = None;
    refund.condition = None;
    take_units(order, parcel, &units, &mut refund, &mut next, true)?;
    refund.return_store = (end == ParcelEnd::ReturnedToStore).then(|| p.store.clone());
    refund.money = if refund.amount_fen.get() > 0 {
        MoneyStatus::Queued
    } else {
        MoneyStatus::NotDue
    };
    refund.decided = by_rules(now, Some(format!("parcel {parcel} {why}")));
    next.end_parcel(parcel, end, now, &format!("{why}; refund {}", refund.id))?;
    Ok(RefundPlan {
        refund,
        order: next,
    })
}

/// The refund as first written (its id the order's next request number), and the
/// order with that number taken.
fn open_request(
    order: &Order,
    req: &RefundRequest,
    now: DateTime<Utc>,
) -> Result<(Refund, Order), DomainError> {
    let payment_ref = order
        .payment_ref
        .as_deref()
        .and_then(|p| PaymentRef::parse(p).ok())
        .ok_or_else(|| DomainError::conflict("order-not-paid", "the order was not paid"))?;
    let n = order
        .refund_requests
        .checked_add(1)
        .filter(|n| *n < 100)
        .ok_or_else(|| {
            DomainError::conflict("too-many-refunds", "this order has had 99 refund requests")
        })?;
    let mut next = order.clone();
    next.refund_requests = n;
    next.returned.resize(order.lines.len(), 0);
    next.refunded_lines.resize(order.lines.len(), Fen::ZERO);
    next.version += 1;
    let refund = Refund {
        id: refund_id(&order.id, n),
        tenant: order.tenant.clone(),
        order: order.id.clone(),
        campaign: order.campaign.clone(),
        buyer: order.buyer.clone(),
        kind: RefundKind::Return,
        parcel: None,
        lines: Vec::new(),
        amount_fen: Fen::ZERO,
        payment_ref,
        reason: Some(req.reason),
        condition: req.condition,
        photos: req.photos.clone(),
        decision: Decision::Approved,
        findings: Vec::new(),
        decided: None,
        money: MoneyStatus::NotDue,
        attempts: 0,
        retry_at: None,
        goods: GoodsStatus::NotNeeded,
        return_store: None,
        return_address: None,
        rma_code: None,
        inspection: Vec::new(),
        received: None,
        back_on_sale: false,
        escalated: false,
        fast_lane: false,
        policy: order.returns_policy,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    Ok((refund, next))
}

fn by_rules(now: DateTime<Utc>, note: Option<String>) -> Option<Decided> {
    Some(Decided {
        by: "rules".into(),
        at: now,
        note,
    })
}

/// Paid, not dispatched: cancel outright, refund everything not refunded yet.
fn cancel_order(
    order: &Order,
    mut refund: Refund,
    mut next: Order,
    now: DateTime<Utc>,
) -> RefundPlan {
    refund.kind = RefundKind::Cancellation;
    refund.reason = None;
    refund.condition = None;
    refund.lines = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| RefundLine {
            line: i,
            sku: l.priced.sku.clone(),
            size: l.priced.size.clone(),
            quantity: l.priced.quantity,
            amount_fen: l
                .priced
                .paid_fen
                .saturating_sub(order.refunded_lines.get(i).copied().unwrap_or(Fen::ZERO)),
        })
        .collect();
    refund.amount_fen = order.total_fen.saturating_sub(order.refunded_fen);
    refund.money = MoneyStatus::Queued;
    refund.decided = by_rules(now, Some("cancelled before dispatch".into()));
    next.returned = order.lines.iter().map(|l| l.priced.quantity).collect();
    next.refunded_lines = order.lines.iter().map(|l| l.priced.paid_fen).collect();
    next.refunded_fen = order.total_fen;
    next.status = OrderStatus::Cancelled;
    next.attention = None;
    next.history.push(super::order::StatusChange {
        status: OrderStatus::Cancelled,
        at: now,
        note: Some(format!(
            "cancelled by the buyer before dispatch; refund {}",
            refund.id
        )),
    });
    RefundPlan {
        refund,
        order: next,
    }
}

/// Units asked for, as (order line, quantity), all from one parcel: the one named, or
/// the only one holding them. A whole parcel when only the parcel is named.
fn units_asked(order: &Order, req: &RefundRequest) -> Result<(u8, Vec<(usize, u32)>), DomainError> {
    if req.lines.is_empty() {
        let n = req.parcel.ok_or_else(|| {
            DomainError::invalid("lines", "name the units (or the parcel) to return")
        })?;
        let p = order
            .parcels
            .iter()
            .find(|p| p.id == n)
            .ok_or_else(|| DomainError::invalid("parcel", "not a parcel of this order"))?;
        let units: Vec<(usize, u32)> = p
            .items
            .iter()
            .filter(|it| it.left() > 0)
            .map(|it| (it.line, it.left()))
            .collect();
        if units.is_empty() {
            return Err(DomainError::invalid(
                "parcel",
                "every unit of this parcel is already being refunded",
            ));
        }
        return Ok((n, units));
    }
    if let Some(n) = req.parcel {
        if !order.parcels.iter().any(|p| p.id == n) {
            return Err(DomainError::invalid("parcel", "not a parcel of this order"));
        }
    }
    let mut parcel: Option<u8> = req.parcel;
    let mut units = Vec::new();
    for (i, (sku, size, quantity)) in req.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        let idx = order
            .lines
            .iter()
            .position(|l| &l.priced.sku == sku && &l.priced.size == size)
            .ok_or_else(|| {
                DomainError::invalid(format!("{field}.sku"), "not a line of this order")
            })?;
        if req.lines[..i].iter().any(|(s, z, _)| s == sku && z == size) {
            return Err(DomainError::invalid(field, "the same line twice"));
        }
        // The parcels still holding units of this line.
        let holding: Vec<u8> = order
            .parcels
            .iter()
            .filter(|p| p.items.iter().any(|it| it.line == idx && it.left() > 0))
            .map(|p| p.id)
            .collect();
        let here = match (parcel, holding.as_slice()) {
            (Some(n), _) => n,
            (None, [one]) => *one,
            (None, []) => {
                if order.parcels.is_empty() {
                    return Err(DomainError::conflict(
                        "order-not-dispatched",
                        "the order has no parcels yet",
                    ));
                }
                return Err(DomainError::invalid(
                    format!("{field}.quantity"),
                    "every unit of this line is already being refunded",
                ));
            }
            (None, _) => {
                return Err(DomainError::invalid(
                    "parcel",
                    format!(
                        "{sku} size {size} came in parcels {}: name the parcel the units come back from",
                        holding.iter().map(u8::to_string).collect::<Vec<_>>().join(" and ")
                    ),
                ))
            }
        };
        parcel = Some(here);
        let left = order
            .parcels
            .iter()
            .find(|p| p.id == here)
            .and_then(|p| p.items.iter().find(|it| it.line == idx))
            .map_or(0, |it| it.left());
        if *quantity == 0 || *quantity > left {
            return Err(DomainError::invalid(
                format!("{field}.quantity"),
                format!("between 1 and {left}: the units in parcel {here} less those already being refunded"),
            ));
        }
        units.push((idx, *quantity));
    }
    let parcel = parcel.ok_or_else(|| DomainError::invalid("lines", "name the units to return"))?;
    Ok((parcel, units))
}

/// Prices `units` against what the order's live refunds already hold, and (when
/// `hold`) puts them under this refund in `next`: its lines, counts and amounts.
fn take_units(
    order: &Order,
    parcel: u8,
    units: &[(usize, u32)],
    refund: &mut Refund,
    next: &mut Order,
    hold: bool,
) -> Result<(), DomainError> {
    for &(idx, quantity) in units {
        let line = order
            .lines
            .get(idx)
            .ok_or(DomainError::NotFound { what: "order line" })?;
        let amount = share_of_rest(
            line.priced.paid_fen,
            line.priced.quantity,
            order.returned.get(idx).copied().unwrap_or(0),
            order.refunded_lines.get(idx).copied().unwrap_or(Fen::ZERO),
            quantity,
        );
        refund.lines.push(RefundLine {
            line: idx,
            sku: line.priced.sku.clone(),
            size: line.priced.size.clone(),
            quantity,
            amount_fen: amount,
        });
        if hold {
            next.returned[idx] = next.returned[idx].saturating_add(quantity);
            next.refunded_lines[idx] = next.refunded_lines[idx]
                .checked_add(amount)
                .ok_or_else(|| DomainError::invalid("lines", "amount out of range"))?;
            if let Some(it) = next
                .parcels
                .iter_mut()
                .find(|p| p.id == parcel)
                .and_then(|p| p.items.iter_mut().find(|it| it.line == idx))
            {
                it.returned = it.returned.saturating_add(quantity);
            }
        }
    }
    refund.amount_fen = refund
        .lines
        .iter()
        .try_fold(Fen::ZERO, |a, l| a.checked_add(l.amount_fen))
        .ok_or_else(|| DomainError::invalid("lines", "amount out of range"))?;
    if hold {
        next.refunded_fen = next
            .refunded_fen
            .checked_add(refund.amount_fen)
            .filter(|total| *total <= order.total_fen)
            .ok_or_else(|| {
                DomainError::conflict(
                    "refund-exceeds-payment",
                    "the order's refunds would exceed what was paid",
                )
            })?;
    }
    refund.parcel = Some(parcel);
    Ok(())
}

/// A parcel still waiting at its store is not returned but cancelled, whole: refunded
/// in full at once, its code dead, its units back in the store's count.
fn cancel_parcel(
    order: &Order,
    parcel: &Parcel,
    units: &[(usize, u32)],
    mut refund: Refund,
    mut next: Order,
    now: DateTime<Utc>,
) -> Result<RefundPlan, DomainError> {
    let whole = parcel
        .items
        .iter()
        .all(|it| units.iter().any(|(l, q)| *l == it.line && *q == it.left()) || it.left() == 0);
    if !whole {
        return Err(DomainError::invalid(
            "lines",
            format!(
                "parcel {} has not left its store: it is cancelled whole (ask with \"parcel\": {} and no lines)",
                parcel.id, parcel.id
            ),
        ));
    }
    refund.kind = RefundKind::Cancellation;
    refund.condition = None;
    take_units(order, parcel.id, units, &mut refund, &mut next, true)?;
    refund.return_store = Some(parcel.store.clone());
    refund.money = MoneyStatus::Queued;
    let before = if parcel.ships() {
        "it left its store"
    } else {
        "pickup"
    };
    refund.decided = by_rules(
        now,
        Some(format!("parcel {} cancelled before {before}", parcel.id)),
    );
    next.cancel_parcel(parcel.id, now, &format!("refund {}", refund.id))?;
    Ok(RefundPlan {
        refund,
        order: next,
    })
}

/// Units the buyer has: a return, decided by the rules (each that fails is a finding).
#[allow(clippy::too_many_arguments)]
fn return_units(
    order: &Order,
    parcel: &Parcel,
    req: &RefundRequest,
    units: &[(usize, u32)],
    returns_before: u32,
    rma_code: String,
    mut refund: Refund,
    mut next: Order,
    now: DateTime<Utc>,
) -> Result<RefundPlan, DomainError> {
    let condition = req.condition.ok_or_else(|| {
        DomainError::invalid("condition", "declare the condition of what you return")
    })?;
    refund.findings = findings(order, parcel, units, condition, returns_before, now);
    let absolute = refund
        .findings
        .iter()
        .any(|f| matches!(f.code, ReasonCode::FinalSale | ReasonCode::WindowClosed));
    refund.decision = if absolute {
        Decision::Rejected
    } else if refund.findings.is_empty() {
        Decision::Approved
    } else {
        Decision::PendingReview
    };
    // A rejected request holds nothing: the units and amounts stay free.
    let holds = refund.decision != Decision::Rejected;
    take_units(order, parcel.id, units, &mut refund, &mut next, holds)?;
    refund.return_store = Some(parcel.store.clone());
    match refund.decision {
        Decision::Rejected => refund.decided = by_rules(now, None),
        Decision::Approved => {
            refund.decided = by_rules(now, None);
            refund.goods = GoodsStatus::AwaitingReturn;
            refund.rma_code = Some(rma_code);
        }
        Decision::PendingReview => {}
    }
    Ok(RefundPlan {
        refund,
        order: next,
    })
}

/// Every rule the return does not pass.
fn findings(
    order: &Order,
    parcel: &Parcel,
    units: &[(usize, u32)],
    condition: DeclaredCondition,
    returns_before: u32,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let policy = &order.returns_policy;
    let mut out = Vec::new();
    for &(idx, _) in units {
        if let Some(line) = order.lines.get(idx).filter(|l| l.final_sale) {
            out.push(Finding {
                code: ReasonCode::FinalSale,
                detail: format!("{} was sold as final sale", line.priced.sku),
            });
        }
    }
    // Received: handed over at the counter, or (shipping) delivered to the door.
    let received = match order.delivery.mode {
        DeliveryMode::Pickup => parcel.handed_over.as_ref().map(|h| h.at),
        DeliveryMode::Shipping => parcel.shipment.as_ref().and_then(|s| s.delivered_at),
    };
    if let Some(start) = received {
        let closes = start + Duration::days(i64::from(policy.window_days));
        if now > closes {
            out.push(Finding {
                code: ReasonCode::WindowClosed,
                detail: format!(
                    "returns closed {} days after receipt, at {closes}",
                    policy.window_days
                ),
            });
        }
    }
    if !condition.resaleable() {
        out.push(Finding {
            code: ReasonCode::ConditionNotResaleable,
            detail: "declared worn, without tags or without the box".into(),
        });
    }
    if returns_before >= policy.review_after_returns {
        out.push(Finding {
            code: ReasonCode::FrequentReturns,
            detail: format!("{returns_before} earlier returns in this campaign"),
        });
    }
    out
}

impl Refund {
    /// A staff member decides a refund waiting for review.
    pub fn review(
        &mut self,
        approve: bool,
        by: &UserId,
        note: Option<String>,
        rma_code: String,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.decision != Decision::PendingReview {
            return Err(DomainError::conflict(
                "refund-not-pending",
                "only a refund waiting for review is decided",
            ));
        }
        self.decided = Some(Decided {
            by: by.to_string(),
            at: now,
            note,
        });
        if approve {
            self.decision = Decision::Approved;
            self.goods = GoodsStatus::AwaitingReturn;
            self.rma_code = Some(rma_code);
        } else {
            self.decision = Decision::Rejected;
        }
        self.touch(now);
        Ok(())
    }

    /// A clerk of the return store receives the goods; the money is then due. Every
    /// count is checked against the units this refund covers, with checked sums.
    pub fn receive(
        &mut self,
        inspection: Vec<Inspection>,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.goods != GoodsStatus::AwaitingReturn {
            return Err(DomainError::conflict(
                "refund-not-awaiting-return",
                "no return is expected for this refund",
            ));
        }
        for (i, x) in inspection.iter().enumerate() {
            let Some(l) = self.lines.iter().find(|l| l.line == x.line) else {
                return Err(DomainError::invalid(
                    format!("units[{i}].line"),
                    format!("line {} is not part of this return", x.line),
                ));
            };
            if inspection[..i].iter().any(|o| o.line == x.line) {
                return Err(DomainError::invalid(
                    format!("units[{i}].line"),
                    "the same line twice",
                ));
            }
            let counted = x.resaleable.checked_add(x.damaged);
            if counted != Some(l.quantity) {
                return Err(DomainError::invalid(
                    format!("units[{i}]"),
                    format!(
                        "line {}: resaleable and damaged must add up to the {} unit(s) returned",
                        l.line, l.quantity
                    ),
                ));
            }
        }
        if let Some(l) = self
            .lines
            .iter()
            .find(|l| !inspection.iter().any(|x| x.line == l.line))
        {
            return Err(DomainError::invalid(
                "units",
                format!("line {} expects {} unit(s) inspected", l.line, l.quantity),
            ));
        }
        self.inspection = inspection;
        self.goods = GoodsStatus::Received;
        self.money = MoneyStatus::Queued;
        self.received = Some(Decided {
            by: by.to_string(),
            at: now,
            note: None,
        });
        self.touch(now);
        Ok(())
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.version += 1;
    }

    /// When the refund's next timer falls due, if it has one: a review waiting too
    /// long, a return not sent back in time, money to (re)check with the provider, a
    /// refused refund to ask again.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let policy = &self.policy;
        let mut due: Vec<DateTime<Utc>> = Vec::new();
        if self.decision == Decision::PendingReview && !self.escalated {
            due.push(self.created_at + Duration::hours(i64::from(policy.escalate_after_hours)));
        }
        if self.goods == GoodsStatus::AwaitingReturn {
            due.push(self.send_back_by());
        }
        if matches!(self.money, MoneyStatus::Queued | MoneyStatus::Submitted) {
            due.push(self.updated_at + Duration::minutes(MONEY_RECHECK_MINUTES));
        }
        if self.money == MoneyStatus::Failed {
            due.extend(self.retry_at);
        }
        due.into_iter().min()
    }

    fn send_back_by(&self) -> DateTime<Utc> {
        let from = self
            .decided
            .as_ref()
            .map(|d| d.at)
            .unwrap_or(self.created_at);
        from + Duration::days(i64::from(self.policy.send_back_days))
    }

    /// What the timers do at `now`: escalate, close an unreturned return, queue a
    /// refused refund again. Returns whether anything changed.
    pub fn on_timer(&mut self, now: DateTime<Utc>) -> bool {
        let policy = self.policy;
        let mut changed = false;
        if self.decision == Decision::PendingReview
            && !self.escalated
            && now >= self.created_at + Duration::hours(i64::from(policy.escalate_after_hours))
        {
            self.escalated = true;
            changed = true;
        }
        if self.goods == GoodsStatus::AwaitingReturn && now >= self.send_back_by() {
            self.goods = GoodsStatus::Closed;
            changed = true;
        }
        if self.money == MoneyStatus::Failed && self.retry_at.is_some_and(|at| now >= at) {
            self.money = MoneyStatus::Queued;
            self.retry_at = None;
            changed = true;
        }
        if changed {
            self.touch(now);
        }
        changed
    }

    /// The list a person works through that this refund is on, if any; a payment the
    /// order could not take is listed for staff whatever its money.
    pub fn work_queue(&self) -> Option<&'static str> {
        if self.decision == Decision::PendingReview {
            Some("pending_review")
        } else if self.goods == GoodsStatus::AwaitingReturn {
            Some("awaiting_return")
        } else if self.money == MoneyStatus::Failed && self.retry_at.is_none() {
            Some("refund_failed")
        } else if self.kind == RefundKind::UnappliedPayment {
            Some("unapplied_payment")
        } else {
            None
        }
    }

    /// The provider took the request.
    pub fn submitted(&mut self, now: DateTime<Utc>) {
        if self.money == MoneyStatus::Queued {
            self.money = MoneyStatus::Submitted;
            self.touch(now);
        }
    }

    /// The provider paid it. Returns whether it changed.
    pub fn succeeded(&mut self, now: DateTime<Utc>) -> bool {
        if !matches!(
            self.money,
            MoneyStatus::Queued | MoneyStatus::Submitted | MoneyStatus::Failed
        ) {
            return false;
        }
        self.money = MoneyStatus::Succeeded;
        self.retry_at = None;
        self.touch(now);
        true
    }

    /// The provider refused or failed it: asked again after a backoff, until the
    /// automatic attempts are spent; then it waits on the staff list. Returns whether
    /// it changed.
    pub fn refused(&mut self, now: DateTime<Utc>) -> bool {
        if !matches!(self.money, MoneyStatus::Queued | MoneyStatus::Submitted) {
            return false;
        }
        self.money = MoneyStatus::Failed;
        self.attempts = self.attempts.saturating_add(1);
        self.retry_at = (self.attempts < AUTO_ATTEMPTS).then(|| now + retry_backoff(self.attempts));
        self.touch(now);
        true
    }

    /// A person asks again for a refund the provider refused: the same refund id, so
    /// the provider still pays it at most once.
    pub fn retry(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.money != MoneyStatus::Failed {
            return Err(DomainError::conflict(
                "refund-not-failed",
                "only a refund the provider refused is asked again",
            ));
        }
        self.money = MoneyStatus::Queued;
        self.retry_at = None;
        self.touch(now);
        Ok(())
    }

    /// The provider's signed notice on this refund: it may only settle a refund the
    /// provider was asked for, for exactly its amount. Returns whether it changed (a
    /// replayed notice changes nothing).
    pub fn on_notice(
        &mut self,
        succeeded: bool,
        amount: Fen,
        now: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        if amount != self.amount_fen {
            return Err(DomainError::invalid(
                "amount_fen",
                format!("refund {} is {} fen", self.id, self.amount_fen.get()),
            ));
        }
        match (self.money, succeeded) {
            (MoneyStatus::Succeeded, true) | (MoneyStatus::Failed, false) => Ok(false),
            (MoneyStatus::Submitted | MoneyStatus::Failed, true) => Ok(self.succeeded(now)),
            (MoneyStatus::Submitted, false) => Ok(self.refused(now)),
            _ => Err(DomainError::conflict(
                "refund-not-submitted",
                "the provider was not asked for this refund",
            )),
        }
    }

    /// Whether this refund no longer holds units or money of its order (rejected, or
    /// a return closed unreturned): the order's counters give them back.
    pub fn released(&self) -> bool {
        self.decision == Decision::Rejected || self.goods == GoodsStatus::Closed
    }
}

/// The provider is asked this many times on its own before a refused refund waits
/// for a person.
pub const AUTO_ATTEMPTS: u32 = 3;

/// The wait before asking again after the `attempts`-th refusal: 5 minutes, then 30,
/// then 3 hours.
pub fn retry_backoff(attempts: u32) -> Duration {
    Duration::minutes(5 * 6_i64.pow(attempts.saturating_sub(1).min(4)))
}

/// How long queued or submitted money waits before the timers look at it again (a
/// lost message, a provider notice that never came).
pub const MONEY_RECHECK_MINUTES: i64 = 5;

/// Gives an order back the units and amounts of a refund that no longer holds them.
pub fn release_from_order(order: &mut Order, refund: &Refund) {
    order.returned.resize(order.lines.len(), 0);
    order.refunded_lines.resize(order.lines.len(), Fen::ZERO);
    for l in &refund.lines {
        if let Some(r) = order.returned.get_mut(l.line) {
            *r = r.saturating_sub(l.quantity);
        }
        if let Some(a) = order.refunded_lines.get_mut(l.line) {
            *a = a.saturating_sub(l.amount_fen);
        }
        if let Some(it) = order
            .parcels
            .iter_mut()
            .filter(|p| Some(p.id) == refund.parcel)
            .flat_map(|p| p.items.iter_mut())
            .find(|it| it.line == l.line)
        {
            it.returned = it.returned.saturating_sub(l.quantity);
        }
    }
    order.refunded_fen = order.refunded_fen.saturating_sub(refund.amount_fen);
    order.version += 1;
}

/// A refund of a payment the order could not take.
pub fn unapplied(
    order: &Order,
    payment: &PaymentRef,
    amount: Fen,
    why: &str,
    now: DateTime<Utc>,
) -> Refund {
    Refund {
        id: unapplied_refund_id(&order.id, payment),
        tenant: order.tenant.clone(),
        order: order.id.clone(),
        campaign: order.campaign.clone(),
        buyer: order.buyer.clone(),
        kind: RefundKind::UnappliedPayment,
        parcel: None,
        lines: Vec::new(),
        amount_fen: amount,
        payment_ref: payment.clone(),
        reason: None,
        condition: None,
        photos: Vec::new(),
        decision: Decision::Approved,
        findings: Vec::new(),
        decided: Some(Decided {
            by: "rules".into(),
            at: now,
            note: Some(why.to_owned()),
        }),
        money: MoneyStatus::Queued,
        attempts: 0,
        retry_at: None,
        goods: GoodsStatus::NotNeeded,
        return_store: None,
        return_address: None,
        rma_code: None,
        inspection: Vec::new(),
        received: None,
        back_on_sale: false,
        escalated: false,
        fast_lane: false,
        policy: ReturnPolicy::default(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A return code for the parcel and the RMA document: `RMA-` and 8 characters from an
/// alphabet without look-alikes (the caller supplies the randomness).
pub fn rma_code(random: u64) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut r = random;
    let code: String = (0..8)
        .map(|_| {
            let c = ALPHABET[(r % 32) as usize] as char;
            r /= 32;
            c
        })
        .collect();
    format!("RMA-{code}")
}

#[cfg(test)]
mod tests;
