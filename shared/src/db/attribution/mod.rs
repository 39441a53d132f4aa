//! Guide attribution's persistence: `cases::attribution` folds a batch of order events into each
//! sale's state and the guides' and stores' counters in one transaction; [`reads`]
//! serves performance, leaderboards and a guide's sales.
//!
//! - A sale's state lives beside its order (`SALE` in the order's partition): its facts,
//!   the events applied, its attribution; on its guide's list of sales (GSI1) and, until
//!   confirmed, on the timer index at its next confirmation check (GSI3).
//! - Counters are sharded: `T#..#C#{campaign}#STAT#{nn}` holds `G#{guide}` and
//!   `S#{store}` items, each batch adding its deltas to one shard drawn at random, so no
//!   single item takes a write per order even when one guide sells thousands a second.
//! - A new buyer is the buyer's first paid order in the tenant, marked on the order
//!   when its payment is recorded (`db::orders::payment`); the sale carries it.

pub mod reads;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::attribution::Sale;
use crate::domain::ids::{CampaignId, GuideId, OrderId, StoreId, UserId};
use crate::domain::tenancy::Tenant;
use crate::table::keys;
use crate::table::{to_item, Item, Key, TableError, GSI1PK, GSI1SK, GSI3PK, GSI3SK, PK, SK};

/// Counter shards per campaign.
pub const STAT_SHARDS: u8 = 16;

/// A credited sale, as attribution keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub tenant: Tenant,
    pub campaign: CampaignId,
    pub order: OrderId,
    pub buyer: UserId,
    pub guide: GuideId,
    pub store: StoreId,
    pub commission_bp: u32,
    pub window_days: u32,
    pub sale: Sale,
    pub paid_at: Option<DateTime<Utc>>,
    /// When to look again whether its return window has closed.
    pub confirm_check_at: Option<DateTime<Utc>>,
    pub version: u64,
}

pub(crate) fn sale_key(t: &Tenant, order: &OrderId) -> Key {
    Key::new(keys::order_pk(t, order), keys::SALE_SK)
}

pub(crate) fn sale_item(r: &SaleRecord) -> Result<Item, TableError> {
    let key = sale_key(&r.tenant, &r.order);
    let mut k = vec![
        (PK, key.pk.clone()),
        (SK, key.sk.clone()),
        (GSI1PK, keys::guide_sales_gsi1pk(&r.tenant, &r.guide)),
        (GSI1SK, r.order.to_string()),
    ];
    if let Some(due) = r.confirm_check_at {
        k.push((GSI3PK, keys::due_gsi3pk(&key.pk)));
        k.push((GSI3SK, keys::due_gsi3sk(due, &key.pk)));
    }
    to_item(r, &k)
}

/// Who a counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counted {
    Guide(GuideId),
    Store(StoreId),
}

impl Counted {
    pub fn sk(&self) -> String {
        match self {
            Counted::Guide(g) => format!("G#{g}"),
            Counted::Store(s) => format!("S#{s}"),
        }
    }
}

pub(crate) fn counter_key(t: &Tenant, c: &CampaignId, shard: u8, who: &Counted) -> Key {
    Key::new(keys::stats_pk(t, c, shard), who.sk())
}

/// Adds `fields` (the non-zero ones) to a guide's or store's counter shard.
pub(crate) fn counter_add(
    t: &Tenant,
    c: &CampaignId,
    shard: u8,
    who: &Counted,
    fields: &[(&str, i64)],
) -> crate::table::Write {
    let (kind, id) = match who {
        Counted::Guide(g) => ("guide", g.to_string()),
        Counted::Store(st) => ("store", st.to_string()),
    };
    crate::table::Write::Update {
        key: counter_key(t, c, shard, who),
        update: crate::table::Update {
            set: vec![
                (crate::table::AttrPath::top("kind"), crate::table::s(kind)),
                (crate::table::AttrPath::top("id"), crate::table::s(id)),
            ],
            add: fields
                .iter()
                .filter(|(_, v)| *v != 0)
                .map(|(f, v)| (crate::table::AttrPath::top(f), *v))
                .collect(),
            ..Default::default()
        },
        condition: None,
    }
}
