//! One batch of attribution messages, folded in one transaction: 1 BatchGetItem (each
//! sale's state, the new-buyer markers, the orders whose window is checked) and 1
//! TransactWriteItems (each sale's state on condition it is as read, the new-buyer
//! markers, and one update per guide and per store touched, on one counter shard).
//! A concurrent worker that changed a sale first sends the batch round again; an event
//! seen before changes nothing.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::app::AppState;
use crate::db::attribution::{counter_key, sale_item, sale_key, Counted, SaleRecord, STAT_SHARDS};
use crate::db::orders::{order_key, random, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::attribution::{Sale, SaleFact, Totals};
use crate::domain::ids::CampaignId;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::queue::messages::{AttributionMessage, OrderEventKind};
use crate::table::{from_item, s, AttrPath, Condition, Key, Update, Write};

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events that changed a sale.
    pub applied: usize,
    /// Events seen before (or for a sale not yet known, kept for later).
    pub duplicates: usize,
    /// Sales whose commission was confirmed.
    pub confirmed: usize,
    /// Items in the one transaction (its write cost).
    pub writes: usize,
}

/// How long before a sale not yet received is looked at again.
const RECHECK: i64 = 24;

fn fact(kind: OrderEventKind, id: &str, e: &crate::queue::messages::OrderEvent) -> SaleFact {
    match kind {
        OrderEventKind::Paid => SaleFact::Paid {
            lines: e.lines.iter().map(|l| (l.units, l.amount_fen)).collect(),
            new_buyer: e.new_buyer,
        },
        OrderEventKind::Refunded | OrderEventKind::Cancelled => SaleFact::Refunded {
            refund: id.to_owned(),
            lines: e
                .lines
                .iter()
                .map(|l| (l.line, l.units, l.amount_fen))
                .collect(),
        },
    }
}

impl AppState {
    pub async fn apply_attribution(
        &self,
        batch: &[AttributionMessage],
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        optimistic("attribution", || async {
            // What to read: every sale, every order whose return window is checked.
            let mut wanted: Vec<Key> = Vec::new();
            let push = |k: Key, wanted: &mut Vec<Key>| {
                if !wanted.contains(&k) {
                    wanted.push(k);
                }
            };
            for m in batch {
                match m {
                    AttributionMessage::Event(e) => {
                        push(sale_key(&e.tenant, &e.order), &mut wanted);
                    }
                    AttributionMessage::Confirm { tenant, order } => {
                        push(sale_key(tenant, order), &mut wanted);
                        push(order_key(tenant, order), &mut wanted);
                    }
                }
            }
            let found = self.db.batch_get_map(&wanted, true).await?;
            // The sales as read, and as they become.
            let mut before: BTreeMap<Key, Option<SaleRecord>> = BTreeMap::new();
            let mut after: BTreeMap<Key, SaleRecord> = BTreeMap::new();
            let mut out = Applied::default();
            for m in batch {
                match m {
                    AttributionMessage::Event(e) => {
                        let key = sale_key(&e.tenant, &e.order);
                        if !after.contains_key(&key) {
                            let read: Option<SaleRecord> =
                                found.get(&key).map(|i| from_item(i.clone())).transpose()?;
                            before.insert(key.clone(), read.clone());
                            after.insert(
                                key.clone(),
                                read.unwrap_or_else(|| SaleRecord {
                                    tenant: e.tenant.clone(),
                                    campaign: e.campaign.clone(),
                                    order: e.order.clone(),
                                    buyer: e.buyer.clone(),
                                    guide: e.guide.clone(),
                                    store: e.store.clone(),
                                    commission_bp: e.commission_bp,
                                    window_days: e.window_days,
                                    sale: Sale {
                                        order: Some(e.order.clone()),
                                        ..Sale::default()
                                    },
                                    paid_at: None,
                                    confirm_check_at: None,
                                    version: 0,
                                }),
                            );
                        }
                        let Some(rec) = after.get_mut(&key) else {
                            continue;
                        };
                        let was_paid = !rec.sale.paid.is_empty();
                        if rec.sale.apply(&e.id, &fact(e.kind, &e.id, e)) {
                            out.applied += 1;
                        } else {
                            out.duplicates += 1;
                        }
                        if !was_paid && !rec.sale.paid.is_empty() {
                            rec.paid_at = Some(e.at);
                            rec.confirm_check_at =
                                Some(e.at + Duration::days(i64::from(rec.window_days)));
                        }
                    }
                    AttributionMessage::Confirm { tenant, order } => {
                        let key = sale_key(tenant, order);
                        if !after.contains_key(&key) {
                            let Some(read) = found
                                .get(&key)
                                .map(|i| from_item::<SaleRecord>(i.clone()))
                                .transpose()?
                            else {
                                continue; // nothing credited: nothing to confirm
                            };
                            before.insert(key.clone(), Some(read.clone()));
                            after.insert(key.clone(), read);
                        }
                        let Some(rec) = after.get_mut(&key) else {
                            continue;
                        };
                        if rec.sale.paid.is_empty() || rec.sale.confirmed_at.is_some() {
                            rec.confirm_check_at = None;
                            continue;
                        }
                        let order: Option<Order> = found
                            .get(&order_key(tenant, order))
                            .map(|i| from_item(i.clone()))
                            .transpose()?;
                        let closes = match &order {
                            Some(o) if o.status == OrderStatus::Cancelled => Some(now),
                            Some(o) => o
                                .received_at()
                                .map(|at| at + Duration::days(i64::from(rec.window_days))),
                            None => Some(now),
                        };
                        match closes {
                            Some(at) if now >= at => {
                                rec.sale.apply("confirmed", &SaleFact::Confirmed { at });
                                rec.confirm_check_at = None;
                                out.confirmed += 1;
                            }
                            Some(at) => rec.confirm_check_at = Some(at),
                            None => rec.confirm_check_at = Some(now + Duration::hours(RECHECK)),
                        }
                    }
                }
            }

            // The counters' deltas, per campaign and guide or store.
            let mut deltas: BTreeMap<(String, CampaignId, Counted), (Tenant, Totals)> =
                BTreeMap::new();
            let mut add = |t: &Tenant, c: &CampaignId, who: Counted, d: Totals| {
                let entry = deltas
                    .entry((t.to_string(), c.clone(), who))
                    .or_insert_with(|| (t.clone(), Totals::default()));
                entry.1 = entry.1.plus(&d);
            };
            for (key, rec) in &after {
                let old = before
                    .get(key)
                    .and_then(|b| b.as_ref())
                    .map(|b| b.sale.totals(b.commission_bp))
                    .unwrap_or_default();
                let d = rec.sale.totals(rec.commission_bp).minus(&old);
                if !d.is_zero() {
                    add(
                        &rec.tenant,
                        &rec.campaign,
                        Counted::Guide(rec.guide.clone()),
                        d,
                    );
                    add(
                        &rec.tenant,
                        &rec.campaign,
                        Counted::Store(rec.store.clone()),
                        d,
                    );
                }
            }

            let mut writes = Vec::new();
            for (key, rec) in after.iter_mut() {
                let old = before.get(key).and_then(|b| b.as_ref());
                if old.is_some_and(|o| o == &*rec) {
                    continue; // unchanged
                }
                let condition = match old {
                    Some(o) => version_is(o.version),
                    None => Condition::NotExists,
                };
                rec.version += 1;
                writes.push(Write::Put {
                    item: sale_item(rec)?,
                    condition: Some(condition),
                });
            }
            // One shard for the whole batch: a hot guide's writes spread over the shards
            // batch by batch.
            let shard = (random() % u64::from(STAT_SHARDS)) as u8;
            for ((_, campaign, who), (t, d)) in &deltas {
                if d.is_zero() {
                    continue;
                }
                let (kind, id) = match who {
                    Counted::Guide(g) => ("guide", g.to_string()),
                    Counted::Store(st) => ("store", st.to_string()),
                };
                let fields = [
                    ("orders", d.orders),
                    ("units", d.units),
                    ("gmv_fen", d.gmv_fen),
                    ("refunded_fen", d.refunded_fen),
                    ("commission_pending_fen", d.commission_pending_fen),
                    ("commission_confirmed_fen", d.commission_confirmed_fen),
                    ("commission_reversed_fen", d.commission_reversed_fen),
                    ("new_buyers", d.new_buyers),
                ];
                writes.push(Write::Update {
                    key: counter_key(t, campaign, shard, who),
                    update: Update {
                        set: vec![
                            (AttrPath::top("kind"), s(kind)),
                            (AttrPath::top("id"), s(id)),
                        ],
                        add: fields
                            .iter()
                            .filter(|(_, v)| *v != 0)
                            .map(|(f, v)| (AttrPath::top(f), *v))
                            .collect(),
                        ..Update::default()
                    },
                    condition: None,
                });
            }
            out.writes = writes.len();
            if writes.is_empty() {
                return Ok(Attempt::Done(out));
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(out)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
