//! Orders as records: how an order and its stock movements become items and writes
//! (the codec every order use case of `cases::orders` shares), the order read,
//! [`coupons`] (claims) and [`lists`] (a buyer's orders, orders needing attention).

pub mod coupons;
pub mod lists;

use serde_dynamo::AttributeValue;
use std::collections::{BTreeMap, HashMap};

use super::Db;
use crate::domain::coupon::parse_coupon_id;
use crate::domain::ids::OrderId;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, s, to_item, AttrPath, Condition, Item, Key, TableError, Update, Write, GSI1PK,
    GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK,
};

pub(crate) fn order_key(t: &Tenant, id: &OrderId) -> Key {
    Key::new(keys::order_pk(t, id), keys::ORDER_SK)
}

/// An order item, indexed for its buyer (GSI1); while unpaid, for the campaign's close
/// (GSI2) and the timeout sweeper (GSI3); while it needs a person, for staff (GSI2);
/// while a parcel waits for pickup, for the sweeper at its reminder or deadline (GSI3);
/// while shipped, for the sweeper at a parcel's handover, silence or loss deadline
/// (GSI3) and, with a parcel flagged, for staff (GSI2).
pub(crate) fn order_item(o: &Order) -> Result<Item, TableError> {
    let pk = keys::order_pk(&o.tenant, &o.id);
    let mut k = vec![
        (PK, pk.clone()),
        (SK, keys::ORDER_SK.to_owned()),
        (GSI1PK, keys::buyer_orders_gsi1pk(&o.buyer)),
        (GSI1SK, o.id.to_string()),
        (GSI4PK, keys::records_gsi4pk(&o.tenant, &o.campaign, &pk)),
        (GSI4SK, keys::records_gsi4sk(&pk, keys::ORDER_SK)),
        ("kind", "order".to_owned()),
    ];
    match o.status {
        OrderStatus::AwaitingPayment => {
            k.push((GSI2PK, keys::unpaid_gsi2pk(&o.tenant, &o.campaign)));
            k.push((
                GSI2SK,
                format!("{}#{}", keys::instant(o.payment_deadline), o.id),
            ));
            k.push((GSI3PK, keys::due_gsi3pk(&pk)));
            k.push((GSI3SK, keys::due_gsi3sk(o.payment_deadline, &pk)));
        }
        OrderStatus::NeedsAttention => {
            k.push((GSI2PK, keys::attention_gsi2pk(&o.tenant)));
            k.push((GSI2SK, o.id.to_string()));
        }
        OrderStatus::ReadyForPickup => {
            if let Some(due) = o.pickup_due() {
                k.push((GSI3PK, keys::due_gsi3pk(&pk)));
                k.push((GSI3SK, keys::due_gsi3sk(due, &pk)));
            }
        }
        OrderStatus::Shipped => {
            if let Some(due) = o.shipping_due() {
                k.push((GSI3PK, keys::due_gsi3pk(&pk)));
                k.push((GSI3SK, keys::due_gsi3sk(due, &pk)));
            }
            if o.parcels_need_attention() {
                k.push((GSI2PK, keys::parcels_attention_gsi2pk(&o.tenant)));
                k.push((GSI2SK, o.id.to_string()));
            }
        }
        _ => {}
    }
    to_item(o, &k)
}

/// The attribute the close sets on every stock shard of its campaign.
pub(crate) const FENCE: &str = "closed";

/// A stock shard's update, refused once the close has fenced the shard.
pub(crate) fn unless_fenced(w: Write) -> Write {
    match w {
        Write::Update {
            key,
            update,
            condition,
        } => {
            let fence = Condition::Missing(AttrPath::top(FENCE));
            Write::Update {
                key,
                update,
                condition: Some(match condition {
                    Some(Condition::All(mut all)) => {
                        all.push(fence);
                        Condition::All(all)
                    }
                    Some(c) => Condition::All(vec![c, fence]),
                    None => fence,
                }),
            }
        }
        other => other,
    }
}

pub(crate) fn version_is(v: u64) -> Condition {
    Condition::Equals(AttrPath::top("version"), n(v as i64))
}

/// A random number (ULIDs carry 80 random bits; no extra RNG needed).
pub(crate) fn random() -> u64 {
    ulid::Ulid::new().random() as u64
}

pub(crate) fn number(v: Option<&AttributeValue>) -> i64 {
    match v {
        Some(AttributeValue::N(x)) => x.parse().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn map_of<'a>(
    item: &'a Item,
    name: &str,
) -> Option<&'a HashMap<String, AttributeValue>> {
    match item.get(name) {
        Some(AttributeValue::M(m)) => Some(m),
        _ => None,
    }
}

/// Units an order takes from (or gives back to) stock items: per item, per nested path.
/// Tallying first means two lines drawing on one item become one update of that item,
/// as a transaction requires.
#[derive(Default)]
pub(crate) struct Tally(BTreeMap<String, BTreeMap<Vec<String>, i64>>);

impl Tally {
    pub(crate) fn add(&mut self, sk: String, path: &[&str], units: i64) {
        let path = path.iter().map(|p| (*p).to_owned()).collect();
        *self.0.entry(sk).or_default().entry(path).or_default() += units;
    }

    /// One update per item taking every tallied amount, on condition it is all there.
    pub(crate) fn take(self, pk: &str) -> Vec<Write> {
        self.0
            .into_iter()
            .map(|(sk, paths)| {
                let (add, conds) = paths
                    .into_iter()
                    .map(|(p, n)| {
                        (
                            (AttrPath(p.clone()), -n),
                            Condition::AtLeast(AttrPath(p), n),
                        )
                    })
                    .unzip();
                Write::Update {
                    key: Key::new(pk, sk),
                    update: Update {
                        add,
                        ..Update::default()
                    },
                    condition: Some(Condition::All(conds)),
                }
            })
            .collect()
    }

    /// One update per item giving the tallied amounts back.
    pub(crate) fn give_back(self, pk: &str) -> Vec<Write> {
        self.0
            .into_iter()
            .map(|(sk, paths)| Write::Update {
                key: Key::new(pk, sk),
                update: Update {
                    add: paths.into_iter().map(|(p, n)| (AttrPath(p), n)).collect(),
                    ..Update::default()
                },
                condition: None,
            })
            .collect()
    }
}

/// Units coming back into a store's count: resaleable returns, parcels cancelled
/// before pickup. While the campaign sells, they are also put back on sale (the SKU's
/// first stock shard), so the next buyer can have them. `units` are (sku, size, n).
pub(crate) fn restock_writes(
    t: &Tenant,
    campaign: &crate::domain::ids::CampaignId,
    store: &crate::domain::ids::StoreId,
    units: &[(crate::domain::ids::Sku, crate::domain::ids::Size, u32)],
    selling: bool,
) -> Vec<Write> {
    let cpk = keys::campaign_pk(t, campaign);
    // Tallied, so two sizes of one SKU are one update of its items.
    let mut stores = Tally::default();
    let mut shards = Tally::default();
    for (sku, size, n) in units.iter().filter(|u| u.2 > 0) {
        let n = i64::from(*n);
        stores.add(
            keys::store_stock_sk(sku),
            &["units", store.as_str(), size.as_str()],
            n,
        );
        shards.add(keys::stock_sk(sku, 0), &["units", size.as_str()], n);
    }
    let mut writes = stores.give_back(&cpk);
    if selling {
        writes.extend(shards.give_back(&cpk));
    }
    writes
}

/// A parcel that never reached its buyer (cancelled at its store, back from the
/// carrier unclaimed, lost): its units off the buyer's purchase limits, and back in its
/// store's count (on sale when the refund says so) unless it was lost.
pub(crate) fn parcel_cancel_writes(
    order: &Order,
    refund: &crate::domain::refund::Refund,
) -> Vec<Write> {
    let units: Vec<_> = refund
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.size.clone(), l.quantity))
        .collect();
    let mut writes = match &refund.return_store {
        Some(store) => restock_writes(
            &order.tenant,
            &order.campaign,
            store,
            &units,
            refund.back_on_sale,
        ),
        None => Vec::new(),
    };
    let cpk = keys::campaign_pk(&order.tenant, &order.campaign);
    let mut limits: BTreeMap<String, i64> = BTreeMap::new();
    for l in &refund.lines {
        *limits
            .entry(keys::limit_sk(&l.sku, &order.buyer))
            .or_default() -= i64::from(l.quantity);
    }
    writes.extend(limits.into_iter().map(|(sk, delta)| Write::Update {
        key: Key::new(cpk.clone(), sk),
        update: Update {
            add: vec![(AttrPath::top("units"), delta)],
            ..Update::default()
        },
        condition: Some(Condition::Exists),
    }));
    // A cancelled parcel's booked pickup slot: its place given back, its booking gone.
    let booked = refund
        .parcel
        .and_then(|id| order.parcels.iter().find(|p| p.id == id))
        .and_then(|p| p.appointment.as_ref().map(|a| (p, a)))
        .filter(|(_, a)| a.status == crate::domain::appointment::AppointmentStatus::Booked);
    if let Some((p, a)) = booked {
        writes.push(crate::db::appointments::give_back(
            &order.tenant,
            &p.store,
            a,
        ));
        writes.push(crate::db::appointments::delete_booking(
            &order.tenant,
            &p.store,
            a,
            &order.id,
            p.id,
        ));
    }
    writes
}

/// Everything an order not yet dispatched holds, given back: stock to the shards it
/// came from, the purchase-limit units, the coupons (only if still redeemed by this
/// order), and for a group seat the buyer's group allowance.
pub(crate) fn release_writes(order: &Order) -> Vec<Write> {
    let cpk = keys::campaign_pk(&order.tenant, &order.campaign);
    let mut stock = Tally::default();
    let mut limits: BTreeMap<String, i64> = BTreeMap::new();
    for line in &order.lines {
        for take in &line.shards {
            stock.add(
                keys::stock_sk(&line.priced.sku, take.shard),
                &["units", line.priced.size.as_str()],
                i64::from(take.units),
            );
        }
        *limits
            .entry(keys::limit_sk(&line.priced.sku, &order.buyer))
            .or_default() -= i64::from(line.priced.quantity);
    }
    let mut writes = stock.give_back(&cpk);
    if let (Some(_), Some(line)) = (&order.group, order.lines.first()) {
        *limits
            .entry(keys::group_limit_sk(&line.priced.sku, &order.buyer))
            .or_default() -= 1;
    }
    for (sk, delta) in limits {
        writes.push(Write::Update {
            key: Key::new(cpk.clone(), sk),
            update: Update {
                add: vec![(AttrPath::top("units"), delta)],
                ..Update::default()
            },
            condition: Some(Condition::Exists),
        });
    }
    for coupon in &order.coupons {
        if let Some((tpl, n_th)) = parse_coupon_id(coupon) {
            writes.push(Write::Update {
                key: Key::new(cpk.clone(), keys::buyer_coupon_sk(&tpl, &order.buyer, n_th)),
                update: Update {
                    set: vec![(AttrPath::top("status"), s("available"))],
                    remove: vec![AttrPath::top("order")],
                    ..Update::default()
                },
                condition: Some(Condition::Equals(
                    AttrPath::top("order"),
                    s(order.id.as_str()),
                )),
            });
        }
    }
    writes
}

impl Db {
    /// 1 GetItem.
    pub async fn order(&self, t: &Tenant, id: &OrderId, consistent: bool) -> Result<Order> {
        let item = self.table.get(&order_key(t, id), consistent).await?;
        Ok(from_item(
            item.ok_or(DomainError::NotFound { what: "order" })?,
        )?)
    }

    /// Writes an order whose version moved on from `expected`. 1 PutItem.
    pub async fn save_order(&self, order: &Order, expected_version: u64) -> Result<(), TableError> {
        self.table
            .put(order_item(order)?, Some(version_is(expected_version)))
            .await
    }
}
