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
use super::order::{DeliveryMode, Order, OrderStatus, ParcelStatus};
use super::tenancy::Tenant;
use super::DomainError;

/// A campaign's return terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicy {
    /// Days after pickup (or dispatch, for shipped orders) a return may be asked.
    pub window_days: u32,
    /// A buyer with this many returns in the campaign goes to a person.
    pub review_after_returns: u32,
    /// Days an approved return may take to come back before it closes unrefunded.
    pub send_back_days: u32,
    /// Hours a return may wait for a person before it is escalated.
    pub escalate_after_hours: u32,
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        ReturnPolicy {
            window_days: 7,
            review_after_returns: 3,
            send_back_days: 7,
            escalate_after_hours: 4,
        }
    }
}

impl ReturnPolicy {
    pub fn validate(&self) -> Result<(), DomainError> {
        let check = |field: &str, v: u32, max: u32| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    format!("returns.{field}"),
                    format!("must be between 1 and {max}"),
                ))
            }
        };
        check("window_days", self.window_days, 60)?;
        check("review_after_returns", self.review_after_returns, 100)?;
        check("send_back_days", self.send_back_days, 60)?;
        check("escalate_after_hours", self.escalate_after_hours, 168)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    /// Paid, not yet dispatched: the whole order is cancelled and refunded.
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
    /// The provider refused it: listed for a person.
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
    pub goods: GoodsStatus,
    /// Where the goods go back: the store that fulfilled them.
    pub return_store: Option<StoreId>,
    pub return_address: Option<Address>,
    /// The code on the return parcel and the RMA document.
    pub rma_code: Option<String>,
    pub inspection: Vec<Inspection>,
    pub received: Option<Decided>,
    /// Waited for a person too long: listed first.
    pub escalated: bool,
    /// The campaign's return terms when it was asked (its timers follow them).
    #[serde(default)]
    pub policy: ReturnPolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// What the buyer asks for: units of the order's lines (empty for a cancellation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub lines: Vec<(Sku, Size, u32)>,
    pub reason: ReturnReason,
    pub condition: DeclaredCondition,
    pub photos: Vec<String>,
}

/// The allocated paid amount of `quantity` more units of a line of `paid` over `bought`
/// units, after `before` were returned: the difference of two floors, so the shares of
/// all of a line's returns sum to exactly `paid`, and never more.
pub fn units_amount(paid: Fen, bought: u32, before: u32, quantity: u32) -> Fen {
    if bought == 0 {
        return Fen::ZERO;
    }
    let upto = |k: u32| i128::from(paid.get()) * i128::from(k.min(bought)) / i128::from(bought);
    let share = upto(before + quantity) - upto(before);
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
    /// The order with its returned units, refunded amount and request count moved on
    /// (and, for a cancellation, cancelled).
    pub order: Order,
}

/// Decides a buyer's refund request under the return terms the order was bought with.
/// `returns_before` is how many returns the buyer has asked for in this campaign;
/// `rma_code` the code an approved return will carry.
pub fn decide(
    order: &Order,
    req: &RefundRequest,
    returns_before: u32,
    rma_code: String,
    now: DateTime<Utc>,
) -> Result<RefundPlan, DomainError> {
    let policy = &order.returns_policy;
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
    next.version += 1;
    let mut refund = Refund {
        id: refund_id(&order.id, n),
        tenant: order.tenant.clone(),
        order: order.id.clone(),
        campaign: order.campaign.clone(),
        buyer: order.buyer.clone(),
        kind: RefundKind::Return,
        lines: Vec::new(),
        amount_fen: Fen::ZERO,
        payment_ref,
        reason: Some(req.reason),
        condition: Some(req.condition),
        photos: req.photos.clone(),
        decision: Decision::Approved,
        findings: Vec::new(),
        decided: None,
        money: MoneyStatus::NotDue,
        goods: GoodsStatus::NotNeeded,
        return_store: None,
        return_address: None,
        rma_code: None,
        inspection: Vec::new(),
        received: None,
        escalated: false,
        policy: *policy,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    match order.status {
        OrderStatus::Paid | OrderStatus::NeedsAttention => {
            // Not dispatched: cancel outright, refund everything not refunded yet.
            refund.kind = RefundKind::Cancellation;
            refund.lines = order
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| RefundLine {
                    line: i,
                    sku: l.priced.sku.clone(),
                    size: l.priced.size.clone(),
                    quantity: l.priced.quantity,
                    amount_fen: l.priced.paid_fen,
                })
                .collect();
            refund.amount_fen = order.total_fen.saturating_sub(order.refunded_fen);
            refund.money = MoneyStatus::Queued;
            refund.decided = Some(Decided {
                by: "rules".into(),
                at: now,
                note: Some("cancelled before dispatch".into()),
            });
            next.returned = order.lines.iter().map(|l| l.priced.quantity).collect();
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
            return Ok(RefundPlan {
                refund,
                order: next,
            });
        }
        OrderStatus::Shipped | OrderStatus::ReadyForPickup | OrderStatus::PickedUp => {}
        OrderStatus::AwaitingPayment | OrderStatus::Cancelled => {
            return Err(DomainError::conflict(
                "order-not-paid",
                "only a paid order is refunded",
            ))
        }
    }

    if req.lines.is_empty() {
        return Err(DomainError::invalid("lines", "name the units to return"));
    }
    let mut store: Option<StoreId> = None;
    let mut window_start: Option<DateTime<Utc>> = None;
    for (i, (sku, size, quantity)) in req.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        let (idx, line) = order
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| &l.priced.sku == sku && &l.priced.size == size)
            .ok_or_else(|| {
                DomainError::invalid(format!("{field}.sku"), "not a line of this order")
            })?;
        if req.lines[..i].iter().any(|(s, z, _)| s == sku && z == size) {
            return Err(DomainError::invalid(field, "the same line twice"));
        }
        let before = next.returned[idx];
        let left = line.priced.quantity - before.min(line.priced.quantity);
        if *quantity == 0 || *quantity > left {
            return Err(DomainError::invalid(
                format!("{field}.quantity"),
                format!("between 1 and {left}: the units bought less those already being returned"),
            ));
        }
        // The store that fulfilled these units takes them back.
        let parcel = order
            .parcels
            .iter()
            .find(|p| p.items.iter().any(|it| it.line == idx))
            .ok_or_else(|| {
                DomainError::conflict("order-not-dispatched", "the order has no parcels yet")
            })?;
        let holding: Vec<&StoreId> = order
            .parcels
            .iter()
            .filter(|p| p.items.iter().any(|it| it.line == idx))
            .map(|p| &p.store)
            .collect();
        if holding.len() > 1 || store.as_ref().is_some_and(|s| s != &parcel.store) {
            return Err(DomainError::invalid(
                "lines",
                "these units came from more than one store: return each store's parcel separately",
            ));
        }
        store = Some(parcel.store.clone());
        let received = match order.delivery.mode {
            DeliveryMode::Pickup => match parcel.status {
                ParcelStatus::PickedUp => parcel.handed_over.as_ref().map(|h| h.at),
                _ => None, // still at the store: nothing to wait for
            },
            DeliveryMode::Shipping => order
                .history
                .iter()
                .find(|h| h.status == OrderStatus::Shipped)
                .map(|h| h.at),
        };
        window_start = window_start.max(received);
        let amount = units_amount(
            line.priced.paid_fen,
            line.priced.quantity,
            before,
            *quantity,
        );
        next.returned[idx] += quantity;
        refund.lines.push(RefundLine {
            line: idx,
            sku: sku.clone(),
            size: size.clone(),
            quantity: *quantity,
            amount_fen: amount,
        });
        if line.final_sale {
            refund.findings.push(Finding {
                code: ReasonCode::FinalSale,
                detail: format!("{sku} was sold as final sale"),
            });
        }
    }
    refund.amount_fen = refund
        .lines
        .iter()
        .try_fold(Fen::ZERO, |a, l| a.checked_add(l.amount_fen))
        .unwrap_or(Fen::ZERO);
    if let Some(start) = window_start {
        let closes = start + Duration::days(i64::from(policy.window_days));
        if now > closes {
            refund.findings.push(Finding {
                code: ReasonCode::WindowClosed,
                detail: format!(
                    "returns closed {} days after receipt, at {closes}",
                    policy.window_days
                ),
            });
        }
    }
    if !req.condition.resaleable() {
        refund.findings.push(Finding {
            code: ReasonCode::ConditionNotResaleable,
            detail: "declared worn, without tags or without the box".into(),
        });
    }
    if returns_before >= policy.review_after_returns {
        refund.findings.push(Finding {
            code: ReasonCode::FrequentReturns,
            detail: format!("{returns_before} earlier returns in this campaign"),
        });
    }
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
    refund.return_store = store;
    match refund.decision {
        Decision::Rejected => {
            refund.decided = Some(Decided {
                by: "rules".into(),
                at: now,
                note: None,
            });
            // A rejected request holds nothing.
            next.returned = order.returned.clone();
            next.returned.resize(order.lines.len(), 0);
        }
        Decision::Approved => {
            refund.decided = Some(Decided {
                by: "rules".into(),
                at: now,
                note: None,
            });
            refund.goods = GoodsStatus::AwaitingReturn;
            refund.rma_code = Some(rma_code);
            next.refunded_fen = next
                .refunded_fen
                .checked_add(refund.amount_fen)
                .unwrap_or(next.refunded_fen);
        }
        Decision::PendingReview => {
            next.refunded_fen = next
                .refunded_fen
                .checked_add(refund.amount_fen)
                .unwrap_or(next.refunded_fen);
        }
    }
    if next.refunded_fen > order.total_fen {
        return Err(DomainError::conflict(
            "refund-exceeds-payment",
            "the order's refunds would exceed what was paid",
        ));
    }
    Ok(RefundPlan {
        refund,
        order: next,
    })
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

    /// A clerk of the return store receives the goods; the money is then due.
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
        for (i, l) in self.lines.iter().enumerate() {
            let got = inspection.iter().filter(|x| x.line == l.line);
            let units: u32 = got.map(|x| x.resaleable + x.damaged).sum();
            if units != l.quantity {
                return Err(DomainError::invalid(
                    format!("units[{i}]"),
                    format!("line {} expects {} unit(s) inspected", l.line, l.quantity),
                ));
            }
        }
        if let Some(x) = inspection
            .iter()
            .find(|x| !self.lines.iter().any(|l| l.line == x.line))
        {
            return Err(DomainError::invalid(
                "units",
                format!("line {} is not part of this return", x.line),
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
    /// long, a return not sent back in time, money to (re)check with the provider.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let policy = &self.policy;
        let mut due: Vec<DateTime<Utc>> = Vec::new();
        if self.decision == Decision::PendingReview && !self.escalated {
            due.push(self.created_at + Duration::hours(i64::from(policy.escalate_after_hours)));
        }
        if self.goods == GoodsStatus::AwaitingReturn {
            let from = self
                .decided
                .as_ref()
                .map(|d| d.at)
                .unwrap_or(self.created_at);
            due.push(from + Duration::days(i64::from(policy.send_back_days)));
        }
        if matches!(self.money, MoneyStatus::Queued | MoneyStatus::Submitted) {
            due.push(self.updated_at + Duration::minutes(MONEY_RECHECK_MINUTES));
        }
        due.into_iter().min()
    }

    /// What the timers do at `now`: escalate, close an unreturned return. Returns
    /// whether anything changed.
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
        if self.goods == GoodsStatus::AwaitingReturn {
            let from = self
                .decided
                .as_ref()
                .map(|d| d.at)
                .unwrap_or(self.created_at);
            if now >= from + Duration::days(i64::from(policy.send_back_days)) {
                self.goods = GoodsStatus::Closed;
                changed = true;
            }
        }
        if changed {
            self.touch(now);
        }
        changed
    }

    /// The list a person works through that this refund is on, if any.
    pub fn work_queue(&self) -> Option<&'static str> {
        if self.decision == Decision::PendingReview {
            Some("pending_review")
        } else if self.goods == GoodsStatus::AwaitingReturn {
            Some("awaiting_return")
        } else if self.money == MoneyStatus::Failed {
            Some("refund_failed")
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

    /// The provider settled it, one way or the other. Returns whether it changed.
    pub fn settled(&mut self, succeeded: bool, now: DateTime<Utc>) -> bool {
        if !matches!(self.money, MoneyStatus::Queued | MoneyStatus::Submitted) {
            return false;
        }
        self.money = if succeeded {
            MoneyStatus::Succeeded
        } else {
            MoneyStatus::Failed
        };
        self.touch(now);
        true
    }

    /// Whether this refund no longer holds units or money of its order (rejected, or
    /// a return closed unreturned): the order's counters give them back.
    pub fn released(&self) -> bool {
        self.decision == Decision::Rejected || self.goods == GoodsStatus::Closed
    }
}

/// How long queued or submitted money waits before the timers look at it again (a
/// lost message, a provider notice that never came).
pub const MONEY_RECHECK_MINUTES: i64 = 5;

/// Gives an order back the units and amount of a refund that no longer holds them.
pub fn release_from_order(order: &mut Order, refund: &Refund) {
    order.returned.resize(order.lines.len(), 0);
    for l in &refund.lines {
        if let Some(r) = order.returned.get_mut(l.line) {
            *r = r.saturating_sub(l.quantity);
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
        goods: GoodsStatus::NotNeeded,
        return_store: None,
        return_address: None,
        rma_code: None,
        inspection: Vec::new(),
        received: None,
        escalated: false,
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
