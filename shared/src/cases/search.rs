//! Search a campaign in plain words, and advise a member's size from what they kept.
//!
//! Read: the campaign's catalogue snapshot (refreshed once a second per process) and,
//! for "my size", the member's latest orders with their returns. Decide: the pure
//! parser, ranking and advice of `domain::search`. Write: only a search that found
//! nothing, counted for the campaign's report.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::app::AppState;
use crate::db::refunds::refund_key;
use crate::db::search::Catalogue;
use crate::domain::campaign::Campaign;
use crate::domain::ids::{BrandId, CategoryId, UserId};
use crate::domain::order::Order;
use crate::domain::refund::{refund_id, Decision, Refund, RefundKind, ReturnReason};
use crate::domain::search::fit::{advise, FitFact, SizeAdvice};
use crate::domain::search::{parse, rank, text::normalize, Parsed, Ranked};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::{from_item, Key};

/// Orders read for size advice: the latest, enough to know a foot.
pub const FIT_ORDERS: u32 = 50;

/// What a search found: the query taken apart, the listings found (indices into the
/// catalogue's products, best first) and the member's size when "my size" was asked.
pub struct Found {
    pub parsed: Parsed,
    pub catalogue: Arc<Catalogue>,
    pub ranked: Ranked,
    pub my_size: Option<SizeAdvice>,
}

impl AppState {
    /// Searches `campaign` for `query`. DynamoDB: none beyond the catalogue snapshot (1
    /// Query + 1 GetItem once a second per process); "my size" with a member: 1 Query
    /// and at most 1 BatchGetItem more; a first page that finds nothing: 1
    /// TransactWriteItems more (its count).
    pub async fn search(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        query: &str,
        member: Option<&UserId>,
        first_page: bool,
        now: DateTime<Utc>,
    ) -> Result<Found> {
        let catalogue = self.db.catalogue(t, campaign, now).await?;
        let parsed = parse(query, &catalogue.vocabulary);
        let mut sizes = parsed.sizes.clone();
        let mut my_size = None;
        if let (true, Some(member)) = (parsed.my_size, member) {
            let facts = self.fit_facts(member, &t.brand).await?;
            let category = parsed
                .categories
                .first()
                .map(|c| (c, category_name(campaign, c)));
            my_size = advise(&facts, category);
            if let Some(a) = &my_size {
                if !sizes.contains(&a.size) {
                    sizes.push(a.size.clone());
                }
            }
        }
        let items = catalogue.items(campaign, now);
        let ranked = rank(&parsed, &sizes, &items);
        let asked = normalize(query)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if ranked.found.is_empty() && first_page && !asked.is_empty() {
            // the count is for the report; a search still answers if it cannot be written
            if let Err(e) = self
                .db
                .count_missed_search(t, &campaign.id, &asked, now)
                .await
            {
                tracing::warn!(error = %e, "missed search not counted");
            }
        }
        Ok(Found {
            parsed,
            catalogue,
            ranked,
            my_size,
        })
    }

    /// The size `member` should take in `category` of `t`'s brand, if what they kept or
    /// sent back says. DynamoDB: 1 Query + at most 1 BatchGetItem.
    pub async fn size_advice(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        category: &CategoryId,
        member: &UserId,
    ) -> Result<Option<SizeAdvice>> {
        let facts = self.fit_facts(member, &t.brand).await?;
        Ok(advise(
            &facts,
            Some((category, category_name(campaign, category))),
        ))
    }

    /// Each size a member bought in `brand` (their latest orders), newest first, with
    /// the units kept and the units sent back for fit. 1 Query (GSI1) + 1 BatchGetItem
    /// of their returns (none when nothing was returned).
    pub async fn fit_facts(&self, member: &UserId, brand: &BrandId) -> Result<Vec<FitFact>> {
        let orders: Vec<Order> = self
            .db
            .my_orders(member, FIT_ORDERS, None)
            .await?
            .items
            .into_iter()
            .filter(|o| o.tenant.brand == *brand && o.payment_ref.is_some())
            .collect();
        let refund_keys: Vec<Key> = orders
            .iter()
            .flat_map(|o| {
                (1..=o.refund_requests).map(move |n| refund_key(&o.tenant, &refund_id(&o.id, n)))
            })
            .collect::<std::result::Result<_, _>>()?;
        let refunds: Vec<Refund> = if refund_keys.is_empty() {
            Vec::new()
        } else {
            self.db
                .batch_get_all(&refund_keys, false)
                .await?
                .into_iter()
                .map(from_item)
                .collect::<std::result::Result<_, _>>()?
        };
        // (order, line) -> units sent back too small, too large, wrong size
        let mut fit: BTreeMap<(String, usize), (u32, u32, u32)> = BTreeMap::new();
        for r in &refunds {
            if r.kind != RefundKind::Return || r.decision == Decision::Rejected {
                continue;
            }
            for l in &r.lines {
                let e = fit.entry((r.order.to_string(), l.line)).or_default();
                match r.reason {
                    Some(ReturnReason::TooSmall) => e.0 += l.quantity,
                    Some(ReturnReason::TooLarge) => e.1 += l.quantity,
                    Some(ReturnReason::WrongSize) => e.2 += l.quantity,
                    _ => {}
                }
            }
        }
        let mut facts = Vec::new();
        for o in &orders {
            for (i, line) in o.lines.iter().enumerate() {
                let p = &line.priced;
                let returned = o.returned.get(i).copied().unwrap_or(0);
                let (too_small, too_large, wrong_size) =
                    fit.get(&(o.id.to_string(), i)).copied().unwrap_or_default();
                facts.push(FitFact {
                    category: p.category.clone(),
                    size: p.size.clone(),
                    kept: p.quantity.saturating_sub(returned),
                    too_small,
                    too_large,
                    wrong_size,
                });
            }
        }
        Ok(facts)
    }
}

fn category_name<'a>(campaign: &'a Campaign, id: &'a CategoryId) -> &'a str {
    campaign
        .categories
        .iter()
        .find(|c| c.id == *id)
        .map_or(id.as_str(), |c| c.name.as_str())
}
