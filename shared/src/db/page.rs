//! Pages of a query, with an opaque cursor that resumes exactly after the last item
//! returned: walking every page yields every item once.
//!
//! The cursor is the last item's key attributes (table and index keys), base64url JSON.
//! It only positions a query whose partition the server chose, so a forged cursor can
//! never reach another partition; one that names another partition is refused.

use base64::Engine;
use serde_dynamo::AttributeValue;
use std::collections::{BTreeMap, HashMap};

use super::Db;
use crate::domain::DomainError;
use crate::error::Result;
use crate::table::{Item, Query, PK, SK};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One page of items and, when there may be more, the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }

    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Paged<U>, E> {
        Ok(Paged {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next: self.next,
        })
    }
}

fn key_names(q: &Query) -> [&'static str; 4] {
    let (ipk, isk) = q.index.key_names();
    [PK, SK, ipk, isk]
}

fn encode(item: &Item, q: &Query) -> Option<String> {
    let mut keys = BTreeMap::new();
    for name in key_names(q) {
        if let Some(AttributeValue::S(v)) = item.get(name) {
            keys.insert(name, v.as_str());
        }
    }
    let json = serde_json::to_vec(&keys).ok()?;
    Some(B64.encode(json))
}

fn bad_cursor() -> DomainError {
    DomainError::BadParameter {
        name: "cursor",
        reason: "not a cursor this API returned".into(),
    }
}

fn decode(raw: &str, q: &Query) -> Result<Item, DomainError> {
    let bytes = B64.decode(raw).map_err(|_| bad_cursor())?;
    let keys: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    let names = key_names(q);
    if keys.len()
        != names
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
        || !names.iter().all(|n| keys.contains_key(*n))
    {
        return Err(bad_cursor());
    }
    let (ipk, _) = q.index.key_names();
    if keys.get(ipk).map(String::as_str) != Some(q.pk.as_str()) {
        return Err(bad_cursor());
    }
    let item: HashMap<String, AttributeValue> = keys
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect();
    Ok(item.into())
}

impl Db {
    /// Up to `limit` items of `q` after `cursor`. 1 Query (asking for one item more
    /// than the page, so a full last page says there is no more).
    pub(crate) async fn page(
        &self,
        mut q: Query,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<Item>> {
        if let Some(raw) = cursor {
            q.start_after = Some(decode(raw, &q)?);
        }
        q.limit = Some(limit + 1);
        let page = self.table.query(q.clone()).await?;
        let mut items = page.items;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().and_then(|i| encode(i, &q))
        } else if page.last.is_some() {
            // The read stopped at its size limit: resume after what it returned.
            items.last().and_then(|i| encode(i, &q))
        } else {
            None
        };
        Ok(Paged { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Index, SortRange};

    #[test]
    fn a_cursor_only_resumes_the_partition_it_came_from() {
        let q = Query::new(Index::Gsi1, "U#a#ORDERS", SortRange::All);
        let item: Item = HashMap::from([
            (PK.to_owned(), AttributeValue::S("T#x#y#O#1".into())),
            (SK.to_owned(), AttributeValue::S("ORDER".into())),
            ("GSI1PK".to_owned(), AttributeValue::S("U#a#ORDERS".into())),
            ("GSI1SK".to_owned(), AttributeValue::S("1".into())),
            ("total".to_owned(), AttributeValue::N("5".into())),
        ])
        .into();
        let c = encode(&item, &q).unwrap();
        let back = decode(&c, &q).unwrap();
        assert_eq!(back.get("GSI1SK"), item.get("GSI1SK"));
        assert!(back.get("total").is_none(), "only keys travel in a cursor");
        let other = Query::new(Index::Gsi1, "U#b#ORDERS", SortRange::All);
        assert!(decode(&c, &other).is_err());
        assert!(decode("not base64!", &q).is_err());
        assert!(decode(&B64.encode(b"{\"PK\":\"x\"}"), &q).is_err());
    }
}
