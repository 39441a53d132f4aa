//! What each queue carries, typed: a message names its queue, so it can only be sent
//! where its consumer listens, and its ids are parsed domain types on both sides.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{Queue, QueueError, QueueName, MAX_DELAY};
use crate::domain::ids::{
    BrandId, CampaignId, GroupBuyId, GuideId, OrderId, RefundId, Size, Sku, StoreId, UserId,
};
use crate::domain::money::Fen;
use crate::domain::tenancy::Tenant;

/// A message body of one queue.
pub trait QueueMessage: Serialize + DeserializeOwned {
    const QUEUE: QueueName;

    fn to_json(&self) -> String {
        // Plain structs of strings and numbers: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl dyn Queue {
    /// Sends `msg` to its own queue, visible after `delay` (at most 15 minutes).
    pub async fn post<M: QueueMessage + Sync>(
        &self,
        msg: &M,
        delay: Option<Duration>,
    ) -> Result<(), QueueError> {
        self.send(M::QUEUE, &msg.to_json(), delay).await
    }
}

/// A paid order to dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderMessage {
    pub tenant: Tenant,
    pub order: OrderId,
}

impl QueueMessage for OrderMessage {
    const QUEUE: QueueName = QueueName::Fulfillment;
}

impl OrderMessage {
    /// Dispatch this paid order.
    pub fn dispatch(tenant: &Tenant, order: &OrderId) -> Self {
        OrderMessage {
            tenant: tenant.clone(),
            order: order.clone(),
        }
    }
}

/// Check an unpaid order at its payment deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeoutMessage {
    pub tenant: Tenant,
    pub order: OrderId,
    pub deadline: DateTime<Utc>,
}

impl QueueMessage for TimeoutMessage {
    const QUEUE: QueueName = QueueName::OrderTimeouts;
}

impl TimeoutMessage {
    /// The order's timer, due `at` (its payment deadline, a parcel's pickup window).
    pub fn at(order: &crate::domain::order::Order, at: DateTime<Utc>) -> Self {
        TimeoutMessage {
            tenant: order.tenant.clone(),
            order: order.id.clone(),
            deadline: at,
        }
    }
}

/// A try-on visit at its slot's end (consumed by the order-timeout worker beside the
/// orders' timers): its unused holds go back. Re-sent in hops until due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitTimer {
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub buyer: UserId,
    pub due: DateTime<Utc>,
}

impl QueueMessage for VisitTimer {
    const QUEUE: QueueName = QueueName::OrderTimeouts;
}

/// Move a refund on (consumed by the refund worker): pay it if its money is due, fire
/// its timers. With `due`, it is a timer: re-sent in 15-minute hops until then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundMessage {
    pub tenant: Tenant,
    pub refund: RefundId,
    #[serde(default)]
    pub due: Option<DateTime<Utc>>,
}

impl QueueMessage for RefundMessage {
    const QUEUE: QueueName = QueueName::Refunds;
}

impl RefundMessage {
    /// Move this refund on now (its money is due).
    pub fn now(refund: &crate::domain::refund::Refund) -> Self {
        RefundMessage {
            tenant: refund.tenant.clone(),
            refund: refund.id.clone(),
            due: None,
        }
    }

    /// Its timer, due `at`.
    pub fn at(refund: &crate::domain::refund::Refund, at: DateTime<Utc>) -> Self {
        RefundMessage {
            due: Some(at),
            ..RefundMessage::now(refund)
        }
    }
}

/// Move a campaign's close on (consumed by the close worker): the step it is for, or
/// none for the schedule's nudge (close at the end, or re-send a lost step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseMessage {
    pub tenant: Tenant,
    pub campaign: CampaignId,
    #[serde(default)]
    pub step: Option<u64>,
}

impl QueueMessage for CloseMessage {
    const QUEUE: QueueName = QueueName::CloseCampaign;
}

/// Settle a group buy at its expiry (consumed by the group-expiry worker). With `due`,
/// re-sent in 15-minute hops until then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMessage {
    pub tenant: Tenant,
    pub group: GroupBuyId,
    #[serde(default)]
    pub due: Option<DateTime<Utc>>,
}

impl QueueMessage for GroupMessage {
    const QUEUE: QueueName = QueueName::GroupExpiry;
}

impl GroupMessage {
    /// The group's expiry timer.
    pub fn expiry(group: &crate::domain::group_buy::GroupBuy) -> Self {
        GroupMessage {
            tenant: group.tenant.clone(),
            group: group.id.clone(),
            due: Some(group.expires_at),
        }
    }
}

/// What happened to an order's money, published once through the outbox
/// ([`crate::db::outbox`]) to every consumer (guide attribution, members): idempotent
/// by `id`, and carrying everything its consumers need, so events may arrive in any
/// order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// `{order}-paid`, or the refund id for a refund.
    pub id: String,
    pub tenant: Tenant,
    pub order: OrderId,
    pub campaign: CampaignId,
    pub buyer: UserId,
    /// The guide credited with the sale, if any (attribution skips a sale no one is
    /// credited with).
    #[serde(default)]
    pub guide: Option<GuideId>,
    #[serde(default)]
    pub store: Option<StoreId>,
    #[serde(default)]
    pub commission_bp: u32,
    /// Days the order's returns stay open after it is received.
    pub window_days: u32,
    pub kind: OrderEventKind,
    pub lines: Vec<EventLine>,
    pub amount_fen: Fen,
    /// A payment event: the buyer's first paid order in the tenant (a new buyer).
    #[serde(default)]
    pub new_buyer: bool,
    pub at: DateTime<Utc>,
}

impl OrderEvent {
    /// The event of an order's payment.
    pub fn paid(order: &crate::domain::order::Order, at: DateTime<Utc>) -> OrderEvent {
        let a = order.attribution.as_ref();
        OrderEvent {
            id: format!("{}-paid", order.id),
            tenant: order.tenant.clone(),
            order: order.id.clone(),
            campaign: order.campaign.clone(),
            buyer: order.buyer.clone(),
            guide: a.and_then(|a| a.guide.clone()),
            store: a.and_then(|a| a.store.clone()),
            commission_bp: a.map_or(0, |a| a.commission_bp),
            window_days: order.returns_policy.window_days,
            kind: OrderEventKind::Paid,
            lines: order
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| EventLine {
                    line: i,
                    sku: l.priced.sku.clone(),
                    size: l.priced.size.clone(),
                    units: l.priced.quantity,
                    amount_fen: l.priced.paid_fen,
                })
                .collect(),
            amount_fen: order.total_fen,
            new_buyer: order.first_in_tenant,
            at,
        }
    }
}

/// The one publication of order events: what the outbox carries to every consumer's
/// queue. Each consumer's own message type reads it as its `event` variant (same
/// tag), so adding a consumer touches no producer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Published {
    Event(OrderEvent),
}

/// The queues subscribed to the order events (one pipe each in the template).
pub const ORDER_EVENT_QUEUES: [QueueName; 2] = [QueueName::Attribution, QueueName::Members];

/// What the attribution worker consumes: an order event, or a check whether a sale's
/// return window has closed (sent by the sweeper over the timer index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttributionMessage {
    Event(OrderEvent),
    Confirm { tenant: Tenant, order: OrderId },
}

impl QueueMessage for AttributionMessage {
    const QUEUE: QueueName = QueueName::Attribution;
}

impl OrderEvent {
    /// The event of a refund the provider paid (a payment the order never took is no
    /// sale: none).
    pub fn refunded(
        order: &crate::domain::order::Order,
        refund: &crate::domain::refund::Refund,
        at: DateTime<Utc>,
    ) -> Option<OrderEvent> {
        if refund.kind == crate::domain::refund::RefundKind::UnappliedPayment {
            return None;
        }
        let paid = OrderEvent::paid(order, at);
        Some(OrderEvent {
            id: refund.id.to_string(),
            kind: OrderEventKind::Refunded,
            lines: refund
                .lines
                .iter()
                .map(|l| EventLine {
                    line: l.line,
                    sku: l.sku.clone(),
                    size: l.size.clone(),
                    units: l.quantity,
                    amount_fen: l.amount_fen,
                })
                .collect(),
            amount_fen: refund.amount_fen,
            new_buyer: false,
            ..paid
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEventKind {
    Paid,
    Cancelled,
    Refunded,
}

/// Units of one order line in an event, and their money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    pub line: usize,
    pub sku: Sku,
    pub size: Size,
    pub units: u32,
    pub amount_fen: Fen,
}

/// What the member worker consumes: an order event, or a look at a member's orders in
/// a brand whose return windows may have closed (their points released; sent by the
/// sweeper over the timer index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MemberMessage {
    Event(OrderEvent),
    Release {
        member: UserId,
        brand: BrandId,
    },
    /// An open assist at (or before: re-sent until) its expiry.
    ExpireAssist {
        tenant: Tenant,
        assist: crate::domain::ids::AssistId,
        due: DateTime<Utc>,
    },
}

impl QueueMessage for MemberMessage {
    const QUEUE: QueueName = QueueName::Members;
}

/// The SQS delay that brings a message back at `at` (or as close as SQS allows: a
/// longer wait is made of several hops, each re-sent by the consumer).
pub fn delay_until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or_default().min(MAX_DELAY)
}

/// Follow a handed-over parcel's waybill at the courier aggregator (consumed by the
/// courier worker): asked again until the aggregator takes it, harmless twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourierMessage {
    pub subscribe: crate::couriers::Subscription,
}

impl QueueMessage for CourierMessage {
    const QUEUE: QueueName = QueueName::Couriers;
}
