//! A person decides a refund the rules sent to review.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::orders::{order_item, order_key, random};
use crate::db::refunds::{refund_item, refund_key, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::ids::{RefundId, UserId};
use crate::domain::order::Order;
use crate::domain::refund::parse_refund_id;
use crate::domain::refund::{release_from_order, rma_code, Decision, Refund};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{from_item, Key, Write};

impl AppState {
    /// A refund and its order, read together (the refund's id names its order).
    /// 1 BatchGetItem.
    pub(crate) async fn refund_and_order(
        &self,
        t: &Tenant,
        id: &RefundId,
    ) -> Result<(Refund, Order)> {
        let key = refund_key(t, id)?;
        let (order_id, _) = parse_refund_id(id).ok_or(DomainError::NotFound { what: "refund" })?;
        let okey = order_key(t, &order_id);
        let mut refund = None;
        let mut order = None;
        for item in self
            .db
            .table()
            .batch_get(&[key.clone(), okey.clone()], true)
            .await?
        {
            match Key::of(&item) {
                Some(k) if k == key => refund = Some(from_item::<Refund>(item)?),
                Some(k) if k == okey => order = Some(from_item::<Order>(item)?),
                _ => {}
            }
        }
        match (refund, order) {
            (Some(r), Some(o)) => Ok((r, o)),
            _ => Err(DomainError::NotFound { what: "refund" }.into()),
        }
    }

    /// 1 BatchGetItem (the refund and its order) + 1 GetItem (the return store's
    /// address, when approved) + 1 TransactWriteItems (the refund; on a rejection also
    /// the order, which gets the units and amount back).
    pub async fn review_refund(
        &self,
        t: &Tenant,
        id: &RefundId,
        by: &UserId,
        approve: bool,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        optimistic("this refund", || async {
            let (current, order) = self.refund_and_order(t, id).await?;
            let mut refund = current.clone();
            refund.review(approve, by, note.clone(), rma_code(random()), now)?;
            let mut writes = Vec::new();
            if refund.decision == Decision::Approved {
                if let Some(store) = &refund.return_store {
                    let skey = Key::new(keys::tenant_pk(t), keys::store_sk(store));
                    if let Some(item) = self.db.table().get(&skey, false).await? {
                        refund.return_address =
                            Some(from_item::<crate::db::stores::StoreCounter>(item)?.address);
                    }
                }
            } else {
                let mut next = order.clone();
                release_from_order(&mut next, &refund);
                writes.push(Write::Put {
                    item: order_item(&next)?,
                    condition: Some(version_is(order.version)),
                });
            }
            writes.push(Write::Put {
                item: refund_item(&refund)?,
                condition: Some(version_is(current.version)),
            });
            match self.db.table().transact(writes).await {
                Ok(()) => {
                    self.announce_refund(&refund).await;
                    Ok(Attempt::Done(refund))
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
