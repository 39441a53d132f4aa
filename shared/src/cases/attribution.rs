//! One batch of attribution messages, folded in one transaction: 1 BatchGetItem (each
//! sale's state, the new-buyer markers, the orders whose window is checked) and 1
//! TransactWriteItems (each sale's state on condition it is as read, the new-buyer
//! markers, and one update per guide and per store touched, on one counter shard).
//! A concurrent worker that changed a sale first sends the batch round again; an event
//! seen before changes nothing.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::app::AppState;
use crate::db::attribution::{counter_add, sale_item, sale_key, Counted, SaleRecord, STAT_SHARDS};
use crate::db::orders::{order_key, random, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::attribution::{Sale, SaleFact, ShareClaims, ShareLink, ShareTarget, Totals};
use crate::domain::campaign::Campaign;
use crate::domain::catalog::Guide;
use crate::domain::ids::{CampaignId, OrderId};
use crate::domain::order::Order;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{AttributionMessage, OrderEvent, OrderEventKind};
use crate::table::{from_item, Condition, Item, Key, Write};

/// The items a batch read, by key.
type Items = std::collections::HashMap<Key, Item>;

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events that changed a sale.
    pub applied: usize,
    /// Events seen before (or for a sale not yet known, kept for later).
    pub duplicates: usize,
    /// Events of sales no guide is credited with (nothing to do).
    pub uncredited: usize,
    /// Sales whose commission was confirmed.
    pub confirmed: usize,
    /// Items in the one transaction (its write cost).
    pub writes: usize,
}

/// How long before a sale not yet received is looked at again.
const RECHECK: i64 = 24;

fn fact(kind: OrderEventKind, id: &str, e: &OrderEvent) -> SaleFact {
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

/// The sales of one batch as read and as they become, with what the batch did.
#[derive(Default)]
struct Folded {
    before: BTreeMap<Key, Option<SaleRecord>>,
    after: BTreeMap<Key, SaleRecord>,
    out: Applied,
}

/// What a batch reads: every sale, and every order whose return window is checked.
fn wanted_keys(batch: &[AttributionMessage]) -> Vec<Key> {
    let mut wanted: Vec<Key> = Vec::new();
    let mut push = |k: Key| {
        if !wanted.contains(&k) {
            wanted.push(k);
        }
    };
    for m in batch {
        match m {
            AttributionMessage::Event(e) => push(sale_key(&e.tenant, &e.order)),
            AttributionMessage::Confirm { tenant, order } => {
                push(sale_key(tenant, order));
                push(order_key(tenant, order));
            }
        }
    }
    wanted
}

/// The sale a first event of an order starts, if a guide is credited with it.
fn new_sale(e: &OrderEvent) -> Option<SaleRecord> {
    Some(SaleRecord {
        tenant: e.tenant.clone(),
        campaign: e.campaign.clone(),
        order: e.order.clone(),
        buyer: e.buyer.clone(),
        guide: e.guide.clone()?,
        store: e.store.clone()?,
        commission_bp: e.commission_bp,
        window_days: e.window_days,
        sale: Sale {
            order: Some(e.order.clone()),
            ..Sale::default()
        },
        paid_at: None,
        confirm_check_at: None,
        version: 0,
    })
}

impl Folded {
    /// An order event applied to its sale (once per event id); a sale no guide is
    /// credited with is none of attribution's business.
    fn event(&mut self, found: &Items, e: &OrderEvent) -> Result<()> {
        let key = sale_key(&e.tenant, &e.order);
        if !self.after.contains_key(&key) {
            let read: Option<SaleRecord> =
                found.get(&key).map(|i| from_item(i.clone())).transpose()?;
            let Some(sale) = read.clone().or_else(|| new_sale(e)) else {
                self.out.uncredited += 1;
                return Ok(());
            };
            self.before.insert(key.clone(), read);
            self.after.insert(key.clone(), sale);
        }
        let Some(rec) = self.after.get_mut(&key) else {
            return Ok(());
        };
        let was_paid = !rec.sale.paid.is_empty();
        if rec.sale.apply(&e.id, &fact(e.kind, &e.id, e)) {
            self.out.applied += 1;
        } else {
            self.out.duplicates += 1;
        }
        if !was_paid && !rec.sale.paid.is_empty() {
            rec.paid_at = Some(e.at);
            rec.confirm_check_at = Some(e.at + Duration::days(i64::from(rec.window_days)));
        }
        Ok(())
    }

    /// A sale's commission confirmed once its order's return window has closed, or
    /// its next look set.
    fn confirm(
        &mut self,
        found: &Items,
        tenant: &Tenant,
        order: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let key = sale_key(tenant, order);
        if !self.after.contains_key(&key) {
            let Some(read) = found
                .get(&key)
                .map(|i| from_item::<SaleRecord>(i.clone()))
                .transpose()?
            else {
                return Ok(()); // nothing credited: nothing to confirm
            };
            self.before.insert(key.clone(), Some(read.clone()));
            self.after.insert(key.clone(), read);
        }
        let Some(rec) = self.after.get_mut(&key) else {
            return Ok(());
        };
        if rec.sale.paid.is_empty() || rec.sale.confirmed_at.is_some() {
            rec.confirm_check_at = None;
            return Ok(());
        }
        let order: Option<Order> = found
            .get(&order_key(tenant, order))
            .map(|i| from_item(i.clone()))
            .transpose()?;
        // An order gone is a window closed.
        let closes = order.map_or(Some(now), |o| o.returns_close_at(rec.window_days, now));
        match closes {
            Some(at) if now >= at => {
                rec.sale.apply("confirmed", &SaleFact::Confirmed { at });
                rec.confirm_check_at = None;
                self.out.confirmed += 1;
            }
            Some(at) => rec.confirm_check_at = Some(at),
            None => rec.confirm_check_at = Some(now + Duration::hours(RECHECK)),
        }
        Ok(())
    }

    /// What the batch adds to each guide's and store's counters, per campaign.
    fn deltas(&self) -> BTreeMap<(String, CampaignId, Counted), (Tenant, Totals)> {
        let mut deltas: BTreeMap<(String, CampaignId, Counted), (Tenant, Totals)> = BTreeMap::new();
        for (key, rec) in &self.after {
            let old = self
                .before
                .get(key)
                .and_then(|b| b.as_ref())
                .map(|b| b.sale.totals(b.commission_bp))
                .unwrap_or_default();
            let d = rec.sale.totals(rec.commission_bp).minus(&old);
            if d.is_zero() {
                continue;
            }
            for who in [
                Counted::Guide(rec.guide.clone()),
                Counted::Store(rec.store.clone()),
            ] {
                let entry = deltas
                    .entry((rec.tenant.to_string(), rec.campaign.clone(), who))
                    .or_insert_with(|| (rec.tenant.clone(), Totals::default()));
                entry.1 = entry.1.plus(&d);
            }
        }
        deltas
    }

    /// Each changed sale put on condition it is as read.
    fn sale_writes(&mut self) -> Result<Vec<Write>> {
        let mut writes = Vec::new();
        for (key, rec) in self.after.iter_mut() {
            let old = self.before.get(key).and_then(|b| b.as_ref());
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
        Ok(writes)
    }
}

/// One counter update per guide or store touched, all on one shard: a hot guide's
/// writes spread over the shards batch by batch.
fn counter_writes(
    deltas: &BTreeMap<(String, CampaignId, Counted), (Tenant, Totals)>,
) -> Vec<Write> {
    let shard = (random() % u64::from(STAT_SHARDS)) as u8;
    deltas
        .iter()
        .filter(|(_, (_, d))| !d.is_zero())
        .map(|((_, campaign, who), (t, d))| {
            counter_add(
                t,
                campaign,
                shard,
                who,
                &[
                    ("orders", d.orders),
                    ("units", d.units),
                    ("gmv_fen", d.gmv_fen),
                    ("refunded_fen", d.refunded_fen),
                    ("commission_pending_fen", d.commission_pending_fen),
                    ("commission_confirmed_fen", d.commission_confirmed_fen),
                    ("commission_reversed_fen", d.commission_reversed_fen),
                    ("new_buyers", d.new_buyers),
                ],
            )
        })
        .collect()
}

impl AppState {
    /// A share link signed for `guide` in `campaign` at `issued_at`: it credits the
    /// guide and their store until the campaign's `link_days` pass (never past its
    /// end). Only a guide of a store taking part gets one (409 `guide-not-in-campaign`).
    pub fn share_link(
        &self,
        t: &Tenant,
        guide: &Guide,
        campaign: &Campaign,
        target: Option<ShareTarget>,
        issued_at: DateTime<Utc>,
    ) -> Result<ShareLink> {
        if !campaign.stores.contains(&guide.store) {
            return Err(DomainError::conflict(
                "guide-not-in-campaign",
                format!(
                    "{}'s store {} does not take part in campaign {}",
                    guide.id, guide.store, campaign.id
                ),
            )
            .into());
        }
        let claims = ShareClaims {
            tenant: t.clone(),
            guide: guide.id.clone(),
            store: guide.store.clone(),
            campaign: campaign.id.clone(),
            target,
            issued_at,
            expires_at: (issued_at + Duration::days(i64::from(campaign.attribution.link_days)))
                .min(campaign.ends_at),
        };
        Ok(ShareLink::sign(
            &self.secrets.share_link,
            &self.secrets.share_base,
            claims,
        ))
    }

    /// Folds one batch: read every sale it touches, apply each message, write the
    /// changed sales and the counters' deltas in one transaction.
    pub async fn apply_attribution(
        &self,
        batch: &[AttributionMessage],
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        optimistic("attribution", || async {
            let found = self.db.batch_get_map(&wanted_keys(batch), true).await?;
            let mut folded = Folded::default();
            for m in batch {
                match m {
                    AttributionMessage::Event(e) => folded.event(&found, e)?,
                    AttributionMessage::Confirm { tenant, order } => {
                        folded.confirm(&found, tenant, order, now)?
                    }
                }
            }
            let deltas = folded.deltas();
            let mut writes = folded.sale_writes()?;
            writes.extend(counter_writes(&deltas));
            let mut out = folded.out;
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
