//! A paid order cancelled before dispatch by the system (its group failed): refunded in
//! full through the ledger, exactly as a buyer's cancellation is.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::orders::{random, release_writes};
use crate::db::refunds::new_refund_writes;
use crate::domain::order::Order;
use crate::domain::refund::{decide, rma_code, Refund, RefundKind, RefundRequest, ReturnReason};
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::{Item, Write};

impl AppState {
    /// 1 TransactWriteItems: the refund (its id the order's next refund number), the
    /// order cancelled, what it held given back, and `also` (a member item, say).
    /// A lost race (the order moved) is a store error the caller may treat as done.
    pub(crate) async fn cancel_and_refund(
        &self,
        order: &Order,
        why: &str,
        also: Option<Item>,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        let req = RefundRequest {
            lines: Vec::new(),
            parcel: None,
            reason: ReturnReason::Other,
            condition: None,
            photos: Vec::new(),
        };
        let mut plan = decide(order, &req, 0, rma_code(random()), now)?;
        if plan.refund.kind != RefundKind::Cancellation {
            return Err(DomainError::conflict(
                "order-not-cancellable",
                "only an order not yet dispatched is cancelled",
            )
            .into());
        }
        plan.refund.reason = None;
        if let Some(d) = plan.refund.decided.as_mut() {
            d.note = Some(why.to_owned());
        }
        let mut writes = new_refund_writes(&plan.refund, &plan.order, order.version)?;
        writes.extend(release_writes(order));
        if let Some(item) = also {
            writes.push(Write::Put {
                item,
                condition: None,
            });
        }
        self.db.table().transact(writes).await?;
        Ok(plan.refund)
    }
}
