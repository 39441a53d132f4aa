//! The close's reads and writes: the run kept on the campaign item, and one page of
//! each of its phases (`domain::close` decides the order; `workers::close` drives it).
//! Every page is safe to run twice: fencing sets a flag, cancelling and settling check
//! the state first, and counting writes a new running count that only the step that
//! wins the campaign's conditional write makes current.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::cases::orders::timeouts::CancelOutcome;
use crate::db::listings::store_units;
use crate::db::listings::{is_listing, products_query};
use crate::db::orders::FENCE;
use crate::db::page::Paged;
use crate::domain::campaign::Campaign;
use crate::domain::catalog::Listing;
use crate::domain::close::RECORD_SOURCES_FROM;
use crate::domain::group_buy::GroupBuy;
use crate::domain::ids::{GroupBuyId, Sku};
use crate::domain::order::Order;
use crate::domain::refund::Refund;
use crate::domain::report::{BoardLine, Tally};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, string_attr, AttrPath, Condition, Index, Key, Query, SortRange, Update, Write, SK,
};

/// Items per page: a fence page's shards fit one transaction (at most 100 writes).
const PAGE: u32 = 100;
/// Unpaid orders cancelled per step (each is a read and a transaction).
const UNPAID_PAGE: u32 = 25;
/// Open groups settled per listing and step.
const GROUPS_PAGE: u32 = 25;

impl AppState {
    /// Fences one page of the campaign's stock shards: no order's transaction can take
    /// from them after this; after the last page, its assist offers likewise. 1 Query +
    /// at most 1 TransactWriteItems (+1 Query and 1 TransactWriteItems for the offers).
    pub async fn fence_page(
        &self,
        t: &Tenant,
        c: &Campaign,
        cursor: Option<&str>,
    ) -> Result<Option<String>> {
        let page = self.db.page(products_query(t, &c.id), PAGE, cursor).await?;
        let writes: Vec<Write> = page
            .items
            .iter()
            .filter(|i| string_attr(i, "kind") == Some("stock"))
            .filter_map(Key::of)
            .map(|key| Write::Update {
                key,
                update: Update {
                    set: vec![(AttrPath::top(FENCE), crate::table::s("true"))],
                    ..Update::default()
                },
                condition: Some(Condition::Exists),
            })
            .collect();
        if !writes.is_empty() {
            self.db.table().transact(writes).await?;
        }
        if page.next.is_none() {
            // The offers too: from here no assist starts, gains a helper or completes.
            let offers: Vec<Write> = self
                .db
                .assist_offers(t, &c.id)
                .await?
                .iter()
                .map(|o| Write::Update {
                    key: crate::db::assists::offer_key(t, &c.id, &o.id),
                    update: Update {
                        set: vec![(AttrPath::top(FENCE), crate::table::s("true"))],
                        ..Update::default()
                    },
                    condition: Some(Condition::Exists),
                })
                .collect();
            for chunk in offers.chunks(100) {
                self.db.table().transact(chunk.to_vec()).await?;
            }
        }
        Ok(page.next)
    }

    /// Cancels one page of the campaign's unpaid orders, their deadlines or not: stock,
    /// coupons and limits given back. 1 Query (GSI2) + per order 1 GetItem + 1
    /// TransactWriteItems. Returns the next page and how many it cancelled.
    pub async fn unpaid_page(
        &self,
        t: &Tenant,
        c: &Campaign,
        cursor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Option<String>, usize)> {
        let q = Query::new(Index::Gsi2, keys::unpaid_gsi2pk(t, &c.id), SortRange::All);
        let page = self.db.page(q, UNPAID_PAGE, cursor).await?;
        let mut cancelled = 0;
        for item in page.items {
            let order: Order = from_item(item)?;
            if order.group.is_some() {
                // A seat of a group still forming: settled with its group, after the
                // grace (its buyer may still pay meanwhile).
                continue;
            }
            if let CancelOutcome::Cancelled(_) = self
                .cancel_order(
                    t,
                    &order.id,
                    now,
                    "the campaign closed before it was paid",
                    true,
                )
                .await?
            {
                cancelled += 1;
            }
        }
        Ok((page.next, cancelled))
    }

    /// Whether any group buy of the campaign is still open: 1 Query of the listings
    /// and 1 Query (GSI2) per listing, until the first open group.
    pub async fn any_open_groups(&self, t: &Tenant, c: &Campaign) -> Result<bool> {
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .db
                .page(products_query(t, &c.id), PAGE, cursor.as_deref())
                .await?;
            for item in page.items.iter().filter(|i| is_listing(i)) {
                let Some(sku) = string_attr(item, "sku").and_then(|s| Sku::parse(s).ok()) else {
                    continue;
                };
                if !self
                    .db
                    .open_groups(t, &c.id, &sku, 1, None)
                    .await?
                    .items
                    .is_empty()
                {
                    return Ok(true);
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(false),
            }
        }
    }

    /// One page of the campaign's listings and, for each, its open group buys (up to
    /// 25). The page is done when no listing had more: the caller settles
    /// the groups (they leave the open index) and asks for the same page again until
    /// then. 1 Query + 1 Query (GSI2) per listing.
    pub async fn open_groups_page(
        &self,
        t: &Tenant,
        c: &Campaign,
        cursor: Option<&str>,
    ) -> Result<(Vec<GroupBuyId>, Option<String>, bool)> {
        let page = self.db.page(products_query(t, &c.id), PAGE, cursor).await?;
        let mut groups = Vec::new();
        let mut more = false;
        for item in page.items.iter().filter(|i| is_listing(i)) {
            let Some(sku) = string_attr(item, "sku").and_then(|s| Sku::parse(s).ok()) else {
                continue;
            };
            let open: Paged<GroupBuy> = self
                .db
                .open_groups(t, &c.id, &sku, GROUPS_PAGE, None)
                .await?;
            more |= open.next.is_some();
            groups.extend(open.items.into_iter().map(|g| g.id));
        }
        Ok((groups, page.next, more))
    }

    /// Folds one page of a counting source into `tally`: source 0 the listings, 1 the
    /// stores' stock counts, then each partition of the campaign's records (orders,
    /// refunds, group buys, assists, pickup bookings, try-on visits). 1 Query.
    pub async fn count_page(
        &self,
        t: &Tenant,
        c: &Campaign,
        source: u8,
        cursor: Option<&str>,
        tally: &mut Tally,
    ) -> Result<Option<String>> {
        let q = match source {
            0 => products_query(t, &c.id),
            1 => Query::new(
                Index::Primary,
                keys::campaign_pk(t, &c.id),
                SortRange::BeginsWith(keys::STORE_STOCK_PREFIX.into()),
            ),
            s => Query::new(
                Index::Gsi4,
                keys::records_shard_pk(t, &c.id, s - RECORD_SOURCES_FROM),
                SortRange::All,
            ),
        };
        let page = self.db.page(q, PAGE, cursor).await?;
        for item in page.items {
            match source {
                0 if is_listing(&item) => tally.fold_listing(&from_item::<Listing>(item)?),
                0 => {}
                1 => {
                    if let Some(sku) = string_attr(&item, SK)
                        .and_then(|sk| sk.strip_prefix(keys::STORE_STOCK_PREFIX))
                    {
                        tally.fold_leftover(sku, &store_units(&item));
                    }
                }
                _ => match string_attr(&item, SK) {
                    Some(keys::ORDER_SK) => tally.fold_order(&from_item::<Order>(item)?, c),
                    Some(keys::GROUP_SK) => tally.fold_group(&from_item::<GroupBuy>(item)?),
                    Some(keys::ASSIST_SK) => tally.fold_assist(&from_item(item)?),
                    Some(sk) if sk.starts_with(keys::VISIT_DAY_PREFIX) => {
                        tally.fold_visit(&from_item(item)?)
                    }
                    Some(sk) if sk.starts_with(keys::BOOKING_PREFIX) => {
                        let b: crate::db::appointments::Booking = from_item(item)?;
                        tally.fold_booking(
                            b.store.as_str(),
                            b.appointment.status
                                == crate::domain::appointment::AppointmentStatus::NoShow,
                        )
                    }
                    Some(sk) if sk.starts_with(keys::REFUND_PREFIX) => {
                        tally.fold_refund(&from_item::<Refund>(item)?)
                    }
                    _ => {}
                },
            }
        }
        Ok(page.next)
    }

    /// The campaign's guide and store boards, as the report shows them (which has no
    /// sell-through per store, so the listings are not read again).
    /// 16 + 1 Query: [`crate::db::Db::standings`].
    pub async fn boards(
        &self,
        t: &Tenant,
        c: &Campaign,
    ) -> Result<(Vec<BoardLine>, Vec<BoardLine>)> {
        let board = self.db.standings(t, &c.id).await?;
        let line = |s: crate::db::attribution::reads::Standing| BoardLine {
            id: s.id,
            name: s.name,
            store: s.store.map(|x| x.to_string()),
            net_gmv_fen: s.net_gmv_fen,
            totals: s.totals,
        };
        Ok((
            board.guides.into_iter().map(line).collect(),
            board.stores.into_iter().map(line).collect(),
        ))
    }
}
