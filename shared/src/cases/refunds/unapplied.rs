//! Payments an order cannot take (a second payment, a wrong amount, a payment after the
//! order was cancelled): each recorded once, by its payment reference, as a refund in
//! the ledger. A replayed notice finds its record and changes nothing.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::refunds::refund_item;
use crate::domain::ids::PaymentRef;
use crate::domain::money::Fen;
use crate::domain::order::Order;
use crate::domain::refund::{unapplied, Refund};
use crate::error::Result;
use crate::table::{Condition, TableError};

impl AppState {
    /// Records `payment` of `order` as owed back. Returns the refund, and whether this
    /// call recorded it (false: a replay). 1 conditional PutItem (+ 1 GetItem on a
    /// replay).
    pub async fn record_unapplied(
        &self,
        order: &Order,
        payment: &PaymentRef,
        amount: Fen,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<(Refund, bool)> {
        let refund = unapplied(order, payment, amount, why, now);
        match self
            .db
            .table()
            .put(refund_item(&refund)?, Some(Condition::NotExists))
            .await
        {
            Ok(()) => Ok((refund, true)),
            Err(TableError::ConditionFailed) => Ok((
                self.db.refund(&order.tenant, &refund.id, true).await?,
                false,
            )),
            Err(e) => Err(e.into()),
        }
    }
}
