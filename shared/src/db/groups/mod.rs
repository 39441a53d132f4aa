//! Group buys as records: the codec and the reads; taking a seat is part of placing an
//! order (`cases::orders::place`), paying one part of settling a payment
//! (`cases::orders::payment`), releasing an unpaid one part of its timeout
//! (`cases::orders::timeouts`); `cases::group_expiry` settles a group at its deadline.
//!
//! A group lives in its own partition (`T#..#G#{id}`): the group item (`GROUP`) and one
//! item per member (`M#{buyer}`, written on condition it does not exist: one seat per
//! buyer). While open, the group sits on its campaign's list of open groups of its
//! product (GSI2) and on the timer index at its expiry (GSI3).

use super::page::Paged;
use super::Db;
use crate::domain::group_buy::{GroupBuy, GroupStatus, Member};
use crate::domain::ids::{CampaignId, GroupBuyId, Sku, UserId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, string_attr, to_item, Index, Item, Key, Query, SortRange, TableError, GSI1PK,
    GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK,
};

pub(crate) fn group_key(t: &Tenant, id: &GroupBuyId) -> Key {
    Key::new(keys::group_pk(t, id), keys::GROUP_SK)
}

pub(crate) fn member_key(t: &Tenant, id: &GroupBuyId, buyer: &UserId) -> Key {
    Key::new(keys::group_pk(t, id), keys::member_sk(buyer))
}

/// The attribute every seat write is conditioned on: the expiry, in milliseconds.
pub(crate) const EXPIRES_MS: &str = "expires_ms";

pub(crate) fn group_item(g: &GroupBuy) -> Result<Item, TableError> {
    let pk = keys::group_pk(&g.tenant, &g.id);
    let mut k = vec![
        (PK, pk.clone()),
        (SK, keys::GROUP_SK.to_owned()),
        (GSI4PK, keys::records_gsi4pk(&g.tenant, &g.campaign, &pk)),
        (GSI4SK, keys::records_gsi4sk(&pk, keys::GROUP_SK)),
    ];
    if g.status == GroupStatus::Open {
        k.push((
            GSI2PK,
            keys::open_groups_gsi2pk(&g.tenant, &g.campaign, &g.sku),
        ));
        k.push((GSI2SK, format!("{}#{}", keys::instant(g.expires_at), g.id)));
        k.push((GSI3PK, keys::due_gsi3pk(&pk)));
        k.push((GSI3SK, keys::due_gsi3sk(g.expires_at, &pk)));
    }
    let mut item = to_item(g, &k)?;
    item.insert(EXPIRES_MS.to_owned(), n(g.expires_at.timestamp_millis()));
    Ok(item)
}

pub(crate) fn member_item(m: &Member) -> Result<Item, TableError> {
    to_item(
        m,
        &[
            (PK, keys::group_pk(&m.tenant, &m.group)),
            (SK, keys::member_sk(&m.buyer)),
            (GSI1PK, keys::buyer_groups_gsi1pk(&m.buyer)),
            (GSI1SK, m.group.to_string()),
        ],
    )
}

impl Db {
    /// A group and its members. 1 Query (its partition).
    pub async fn group(
        &self,
        t: &Tenant,
        id: &GroupBuyId,
        consistent: bool,
    ) -> Result<(GroupBuy, Vec<Member>)> {
        let mut q = Query::new(Index::Primary, keys::group_pk(t, id), SortRange::All);
        q.consistent = consistent;
        let items = self.query_all(q).await?;
        let mut group = None;
        let mut members = Vec::new();
        for item in items {
            match string_attr(&item, SK) {
                Some(keys::GROUP_SK) => group = Some(from_item::<GroupBuy>(item)?),
                Some(sk) if sk.starts_with(keys::MEMBER_PREFIX) => {
                    members.push(from_item::<Member>(item)?)
                }
                _ => {}
            }
        }
        let group = group.ok_or(DomainError::NotFound { what: "group" })?;
        members.sort_by_key(|m| (m.buyer != group.opened_by, m.joined_at));
        Ok((group, members))
    }

    /// A campaign's open groups of one product, a page at a time, soonest to expire
    /// first. 1 Query (GSI2).
    pub async fn open_groups(
        &self,
        t: &Tenant,
        campaign: &CampaignId,
        sku: &Sku,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<GroupBuy>> {
        let q = Query::new(
            Index::Gsi2,
            keys::open_groups_gsi2pk(t, campaign, sku),
            SortRange::All,
        );
        Ok(self.page(q, limit, cursor).await?.try_map(from_item)?)
    }

    /// A buyer's seats across tenants, newest first, with their groups.
    /// 1 Query (GSI1) + 1 BatchGetItem.
    pub async fn my_groups(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<(Member, GroupBuy)>> {
        let mut q = Query::new(Index::Gsi1, keys::buyer_groups_gsi1pk(user), SortRange::All);
        q.forward = false;
        let page = self
            .page(q, limit, cursor)
            .await?
            .try_map(from_item::<Member>)?;
        let keys: Vec<Key> = page
            .items
            .iter()
            .map(|m| group_key(&m.tenant, &m.group))
            .collect();
        let mut groups: Vec<GroupBuy> = Vec::new();
        if !keys.is_empty() {
            for item in self.table.batch_get(&keys, false).await? {
                groups.push(from_item(item)?);
            }
        }
        let mut items = Vec::new();
        for m in page.items {
            if let Some(g) = groups
                .iter()
                .find(|g| g.id == m.group && g.tenant == m.tenant)
            {
                items.push((m, g.clone()));
            }
        }
        Ok(Paged {
            items,
            next: page.next,
        })
    }
}
