//! Dispatching a paid order: each store's units (`W#{sku}` items) are read, the parcels
//! decided ([`plan_parcels`]), and the order's move and every store's conditional
//! decrement written in one transaction. The guide's store comes first: a sale after a
//! try-on visit ships from the visit's store, where its held units were put back for
//! it when it was placed. What no store holds is held for a person.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::campaigns::campaign_key;
use crate::db::groups::group_key;
use crate::db::orders::{order_item, random, version_is, Tally};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::db::store_finder::units_by_store;
use crate::domain::campaign::Campaign;
use crate::domain::fulfillment::{chosen_store, plan_parcels, Holdings};
use crate::domain::group_buy::GroupBuy;
use crate::domain::ids::{OrderId, StoreId};
use crate::domain::order::{pickup_code, Order, OrderStatus};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::queue::messages::{delay_until, TimeoutMessage};
use crate::table::keys;
use crate::table::{from_item, Key, Write};

#[derive(Debug, Clone, PartialEq)]
pub enum DispatchOutcome {
    Dispatched(Order),
    NothingToDo(OrderStatus),
    /// No set of stores holds what was sold: the order waits for a person, listed.
    HeldForAttention(Order),
    /// Paid into a group that has not formed: dispatched when it does.
    HeldForGroup,
}

impl AppState {
    /// 1 GetItem (the order) + 1 BatchGetItem (each SKU's store units, the campaign's
    /// store ranking) + 1 TransactWriteItems (or 1 PutItem when held); a no-op when the
    /// order is not paid.
    pub async fn dispatch(
        &self,
        t: &Tenant,
        id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<DispatchOutcome> {
        optimistic("dispatch", || async {
            let current = self.db.order(t, id, true).await?;
            if current.status != OrderStatus::Paid {
                return Ok(Attempt::Done(DispatchOutcome::NothingToDo(current.status)));
            }
            let cpk = keys::campaign_pk(t, &current.campaign);
            let mut wanted: Vec<Key> = current
                .lines
                .iter()
                .map(|l| Key::new(cpk.clone(), keys::store_stock_sk(&l.priced.sku)))
                .collect();
            wanted.sort();
            wanted.dedup();
            wanted.push(campaign_key(t, &current.campaign));
            if let Some(g) = &current.group {
                wanted.push(group_key(t, g));
            }
            let found = self.db.batch_get_map(&wanted, true).await?;
            if let Some(g) = &current.group {
                // A group seat waits, paid, until its group forms.
                let formed = match found.get(&group_key(t, g)) {
                    Some(item) => from_item::<GroupBuy>(item.clone())?.dispatchable(),
                    None => false,
                };
                if !formed {
                    return Ok(Attempt::Done(DispatchOutcome::HeldForGroup));
                }
            }
            let ranking: Vec<StoreId> = match found.get(&campaign_key(t, &current.campaign)) {
                Some(item) => from_item::<Campaign>(item.clone())?.stores,
                None => Vec::new(),
            };
            let mut holdings = Holdings::default();
            for line in &current.lines {
                let sku = &line.priced.sku;
                let key = Key::new(cpk.clone(), keys::store_stock_sk(sku));
                if holdings.0.values().any(|m| m.keys().any(|(s, _)| s == sku)) {
                    continue; // this SKU's item was read for an earlier line
                }
                let Some(item) = found.get(&key) else {
                    continue;
                };
                for (store, sizes) in units_by_store(item) {
                    for (size, n) in sizes {
                        holdings.add(store.clone(), sku.clone(), size, n);
                    }
                }
            }
            let mut order = current.clone();
            let plan = match chosen_store(&current, &holdings) {
                Some(Ok(parcel)) => Ok(parcel),
                chosen => {
                    if let Some(Err(why)) = chosen {
                        order.note(why, now);
                    }
                    plan_parcels(&current, &holdings, current.guide_store.as_ref(), &ranking)
                }
            };
            let writes = match plan {
                Ok(parcels) => {
                    let mut taken = Tally::default();
                    for (store, items) in &parcels {
                        for it in items {
                            taken.add(
                                keys::store_stock_sk(&it.sku),
                                &["units", store.as_str(), it.size.as_str()],
                                i64::from(it.quantity),
                            );
                        }
                    }
                    order.dispatch(parcels, || pickup_code(random()), now)?;
                    let mut writes = vec![Write::Put {
                        item: order_item(&order)?,
                        condition: Some(version_is(current.version)),
                    }];
                    writes.extend(taken.take(&cpk));
                    writes
                }
                Err(shortfall) => {
                    order.hold_for_attention(shortfall.to_string(), now)?;
                    vec![Write::Put {
                        item: order_item(&order)?,
                        condition: Some(version_is(current.version)),
                    }]
                }
            };
            let held = order.status == OrderStatus::NeedsAttention;
            match self.db.table().transact(writes).await {
                Ok(()) if held => Ok(Attempt::Done(DispatchOutcome::HeldForAttention(order))),
                Ok(()) => {
                    // A pickup parcel's window (the reminder, then its end), or a
                    // shipped parcel's handover deadline (the sweeper is behind this
                    // message).
                    if let Some(due) = order.pickup_due().or(order.shipping_due()) {
                        self.queue
                            .post(
                                &TimeoutMessage::at(&order, due),
                                Some(delay_until(due, now)),
                            )
                            .await?;
                    }
                    Ok(Attempt::Done(DispatchOutcome::Dispatched(order)))
                }
                // A store's units or the order moved: read again (maybe done already).
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
