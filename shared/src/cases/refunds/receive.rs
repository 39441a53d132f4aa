//! The goods back at the counter: a clerk of the return store inspects each unit;
//! resaleable units go back to that store's stock (and, while the campaign sells, to
//! its sellable stock), and the money falls due.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::orders::restock_writes;
use crate::db::refunds::{refund_item, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::ids::{RefundId, UserId};
use crate::domain::refund::{Inspection, Refund};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::Write;

impl AppState {
    /// 1 BatchGetItem (the refund and its order) + 1 TransactWriteItems (the refund,
    /// the store's units, and while `selling` the first stock shard of each SKU).
    pub async fn receive_refund(
        &self,
        t: &Tenant,
        id: &RefundId,
        by: &UserId,
        inspection: &[Inspection],
        selling: bool,
        now: DateTime<Utc>,
    ) -> Result<Refund> {
        optimistic("this refund", || async {
            let (current, _order) = self.refund_and_order(t, id).await?;
            let mut refund = current.clone();
            refund.receive(inspection.to_vec(), by, now)?;
            refund.back_on_sale = selling && refund.return_store.is_some();
            let mut writes = vec![Write::Put {
                item: refund_item(&refund)?,
                condition: Some(version_is(current.version)),
            }];
            if let Some(store) = &refund.return_store {
                let units: Vec<_> = refund
                    .inspection
                    .iter()
                    .filter_map(|x| {
                        let line = refund.lines.iter().find(|l| l.line == x.line)?;
                        Some((line.sku.clone(), line.size.clone(), x.resaleable))
                    })
                    .collect();
                writes.extend(restock_writes(t, &refund.campaign, store, &units, selling));
            }
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
