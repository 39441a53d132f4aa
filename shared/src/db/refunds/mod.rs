//! Refunds as records: the codec every refund use case of `cases::refunds` shares, the
//! refund read and [`lists`] (the staff's work lists, an order's refunds).
//!
//! A refund lives in its order's partition (`REFUND#R{nn}` / `REFUND#P{hash}`), on the
//! work list it waits in (GSI2: pending review, awaiting return, refund failed) and on
//! the timer index (GSI3) at its next due time, so the sweeper finds every timer whose
//! delayed message was lost.

pub mod lists;

use super::Db;
use crate::domain::ids::RefundId;
use crate::domain::refund::{parse_refund_id, Refund};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, to_item, Item, Key, TableError, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK,
    SK,
};

/// Where a refund lives; an id that is not one of ours is simply not found.
pub(crate) fn refund_key(t: &Tenant, id: &RefundId) -> Result<Key, DomainError> {
    let (order, suffix) = parse_refund_id(id).ok_or(DomainError::NotFound { what: "refund" })?;
    Ok(Key::new(keys::order_pk(t, &order), keys::refund_sk(suffix)))
}

pub(crate) fn refund_item(r: &Refund) -> Result<Item, TableError> {
    let key = refund_key(&r.tenant, &r.id).map_err(|e| TableError::Invalid(e.to_string()))?;
    // No `kind` marker: a refund's own `kind` field (cancellation, return, ...) is it.
    let mut k = vec![
        (PK, key.pk.clone()),
        (SK, key.sk.clone()),
        (
            GSI4PK,
            keys::records_gsi4pk(&r.tenant, &r.campaign, &key.pk),
        ),
        (GSI4SK, keys::records_gsi4sk(&key.pk, &key.sk)),
    ];
    if let Some(queue) = r.work_queue() {
        k.push((GSI2PK, keys::refunds_gsi2pk(&r.tenant, queue)));
        // Escalated first, then the fast lane's, then by age.
        let first = if r.escalated {
            "0"
        } else if r.fast_lane {
            "1"
        } else {
            "2"
        };
        k.push((
            GSI2SK,
            format!("{first}#{}#{}", keys::instant(r.created_at), r.id),
        ));
    }
    if let Some(due) = r.next_due() {
        k.push((GSI3PK, keys::due_gsi3pk(&key.pk)));
        k.push((GSI3SK, keys::due_gsi3sk(due, &key.pk)));
    }
    to_item(r, &k)
}

/// A new refund and its order as the refund changed it: the refund written once, the
/// order only at the version it was read at.
pub(crate) fn new_refund_writes(
    refund: &Refund,
    order: &crate::domain::order::Order,
    read_version: u64,
) -> Result<Vec<crate::table::Write>, TableError> {
    use crate::table::{Condition, Write};
    Ok(vec![
        Write::Put {
            item: refund_item(refund)?,
            condition: Some(Condition::NotExists),
        },
        Write::Put {
            item: super::orders::order_item(order)?,
            condition: Some(version_is(read_version)),
        },
    ])
}

pub(crate) fn version_is(v: u64) -> crate::table::Condition {
    super::orders::version_is(v)
}

impl Db {
    /// 1 GetItem.
    pub async fn refund(&self, t: &Tenant, id: &RefundId, consistent: bool) -> Result<Refund> {
        let item = self.table.get(&refund_key(t, id)?, consistent).await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "refund" })?,
        )?)
    }

    /// Writes a refund whose version moved on from `expected`. 1 PutItem.
    pub(crate) async fn save_refund(&self, r: &Refund, expected: u64) -> Result<(), TableError> {
        self.table
            .put(refund_item(r)?, Some(version_is(expected)))
            .await
    }
}
