//! The embedded table: a sorted map behind a mutex, with DynamoDB's semantics.
//!
//! Every operation takes the lock once, so a conditional write or a transaction is
//! atomic exactly as it is in DynamoDB. The contract suite runs against this and the
//! DynamoDB adapter alike.

use async_trait::async_trait;
use serde_dynamo::AttributeValue;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::{
    check_batch, check_transaction, string_attr, AttrPath, Condition, Index, Item, Key, Page,
    Query, SortRange, Table, TableError, Update, Write, PK, SK,
};

#[derive(Default)]
pub struct MemoryTable {
    items: Mutex<BTreeMap<Key, Item>>,
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Item>> {
        // A panic while holding the lock cannot leave a half-applied write (we stage
        // every change before touching the map), so a poisoned lock is still consistent.
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every item, for tests and the local server's data export.
    pub fn snapshot(&self) -> Vec<Item> {
        self.lock().values().cloned().collect()
    }
}

fn number(v: &AttributeValue) -> Option<i64> {
    match v {
        AttributeValue::N(n) => n.parse().ok(),
        _ => None,
    }
}

fn lookup<'a>(item: &'a Item, path: &AttrPath) -> Option<&'a AttributeValue> {
    let (first, rest) = path.0.split_first()?;
    let mut cur = item.get(first)?;
    for part in rest {
        match cur {
            AttributeValue::M(m) => cur = m.get(part)?,
            _ => return None,
        }
    }
    Some(cur)
}

fn holds(item: Option<&Item>, condition: &Condition) -> bool {
    match condition {
        Condition::NotExists => item.is_none(),
        Condition::Exists => item.is_some(),
        Condition::AtLeast(path, n) => item
            .and_then(|i| lookup(i, path))
            .and_then(number)
            .is_some_and(|v| v >= *n),
        Condition::Equals(path, value) => item.and_then(|i| lookup(i, path)) == Some(value),
        Condition::Missing(path) => item.and_then(|i| lookup(i, path)).is_none(),
        Condition::All(all) => all.iter().all(|c| holds(item, c)),
    }
}

/// Finds the map holding the last part of `path`, as DynamoDB does: the parents must
/// already exist and be maps.
fn parent_mut<'a>(
    item: &'a mut HashMap<String, AttributeValue>,
    path: &'a AttrPath,
) -> Result<(&'a mut HashMap<String, AttributeValue>, &'a str), TableError> {
    let invalid = || {
        TableError::Invalid("the document path provided in the update expression is invalid".into())
    };
    let (last, parents) = path.0.split_last().ok_or_else(invalid)?;
    let mut cur = item;
    for p in parents {
        match cur.get_mut(p) {
            Some(AttributeValue::M(m)) => cur = m,
            _ => return Err(invalid()),
        }
    }
    Ok((cur, last))
}

fn apply(existing: Option<&Item>, key: &Key, update: &Update) -> Result<Item, TableError> {
    let mut item: HashMap<String, AttributeValue> = match existing {
        Some(i) => i.inner().clone(),
        None => HashMap::from([
            (PK.to_owned(), AttributeValue::S(key.pk.clone())),
            (SK.to_owned(), AttributeValue::S(key.sk.clone())),
        ]),
    };
    for (path, value) in &update.set {
        let (map, last) = parent_mut(&mut item, path)?;
        map.insert(last.to_owned(), value.clone());
    }
    for (path, delta) in &update.add {
        let (map, last) = parent_mut(&mut item, path)?;
        let current = match map.get(last) {
            None => 0,
            Some(v) => {
                number(v).ok_or_else(|| TableError::Invalid("add to a non-number".into()))?
            }
        };
        let next = current
            .checked_add(*delta)
            .ok_or_else(|| TableError::Invalid("number overflow".into()))?;
        map.insert(last.to_owned(), AttributeValue::N(next.to_string()));
    }
    for path in &update.remove {
        let (map, last) = parent_mut(&mut item, path)?;
        map.remove(last);
    }
    Ok(item.into())
}

fn in_range(sk: &str, range: &SortRange) -> bool {
    match range {
        SortRange::All => true,
        SortRange::BeginsWith(p) => sk.starts_with(p.as_str()),
        SortRange::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
    }
}

/// The order of an index: its sort key, then the table key for ties.
fn index_order(item: &Item, index: Index) -> (String, String, String) {
    let (_, sk_name) = index.key_names();
    (
        string_attr(item, sk_name).unwrap_or_default().to_owned(),
        string_attr(item, PK).unwrap_or_default().to_owned(),
        string_attr(item, SK).unwrap_or_default().to_owned(),
    )
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key, _consistent: bool) -> Result<Option<Item>, TableError> {
        Ok(self.lock().get(key).cloned())
    }

    async fn batch_get(&self, keys: &[Key], _consistent: bool) -> Result<Vec<Item>, TableError> {
        check_batch(keys)?;
        let items = self.lock();
        Ok(keys.iter().filter_map(|k| items.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        let key =
            Key::of(&item).ok_or_else(|| TableError::Invalid("item without PK and SK".into()))?;
        let mut items = self.lock();
        if let Some(c) = &condition {
            if !holds(items.get(&key), c) {
                return Err(TableError::ConditionFailed);
            }
        }
        items.insert(key, item);
        Ok(())
    }

    async fn query(&self, q: Query) -> Result<Page, TableError> {
        let empty_key = match &q.range {
            SortRange::All => false,
            SortRange::BeginsWith(p) => p.is_empty(),
            SortRange::Between(a, b) => a.is_empty() || b.is_empty(),
        };
        if q.pk.is_empty() || empty_key {
            return Err(TableError::Invalid(
                "a key attribute value cannot be an empty string".into(),
            ));
        }
        let items = self.lock();
        let (pk_name, _) = q.index.key_names();
        let mut found: Vec<&Item> = match q.index {
            Index::Primary => {
                let from = Key::new(q.pk.clone(), String::new());
                items
                    .range(from..)
                    .take_while(|(k, _)| k.pk == q.pk)
                    .filter(|(k, _)| in_range(&k.sk, &q.range))
                    .map(|(_, v)| v)
                    .collect()
            }
            Index::Gsi1 | Index::Gsi2 | Index::Gsi3 | Index::Gsi4 => {
                let mut v: Vec<&Item> = items
                    .values()
                    .filter(|i| string_attr(i, pk_name) == Some(q.pk.as_str()))
                    .filter(|i| in_range(&index_order(i, q.index).0, &q.range))
                    .collect();
                v.sort_by_key(|i| index_order(i, q.index));
                v
            }
        };
        if !q.forward {
            found.reverse();
        }
        if let Some(start) = &q.start_after {
            let start = index_order(start, q.index);
            found.retain(|i| {
                let o = index_order(i, q.index);
                let ord = o.cmp(&start);
                if q.forward {
                    ord == Ordering::Greater
                } else {
                    ord == Ordering::Less
                }
            });
        }
        let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        let more = found.len() > limit;
        found.truncate(limit);
        let last = match (more, found.last()) {
            (true, Some(last)) => {
                let mut keys = HashMap::new();
                for name in [PK, SK, pk_name, q.index.key_names().1] {
                    if let Some(v) = last.get(name) {
                        keys.insert(name.to_owned(), v.clone());
                    }
                }
                Some(Item::from(keys))
            }
            _ => None,
        };
        let keys: Vec<&str> = [PK, SK, pk_name, q.index.key_names().1].into();
        let project = |i: &Item| -> Item {
            if q.index.projects_all() {
                return i.clone();
            }
            let kept: HashMap<String, AttributeValue> = i
                .iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            kept.into()
        };
        Ok(Page {
            items: found.into_iter().map(project).collect(),
            last,
        })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        check_transaction(&writes)?;
        let mut items = self.lock();
        // Check every condition before changing anything: all or nothing.
        let failed: Vec<usize> = writes
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                let (key, cond) = match w {
                    Write::Put { item, condition } => (Key::of(item), condition.as_ref()),
                    Write::Update { key, condition, .. } | Write::Delete { key, condition } => {
                        (Some(key.clone()), condition.as_ref())
                    }
                    Write::Check { key, condition } => (Some(key.clone()), Some(condition)),
                };
                match (key, cond) {
                    (Some(k), Some(c)) => !holds(items.get(&k), c),
                    _ => false,
                }
            })
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Err(TableError::TransactionCancelled { failed });
        }
        // Stage every new item first, so an invalid update leaves the table untouched.
        let mut staged: Vec<(Key, Option<Item>)> = Vec::with_capacity(writes.len());
        for w in &writes {
            match w {
                Write::Put { item, .. } => {
                    let key = Key::of(item)
                        .ok_or_else(|| TableError::Invalid("item without PK and SK".into()))?;
                    staged.push((key, Some(item.clone())));
                }
                Write::Update { key, update, .. } => {
                    staged.push((key.clone(), Some(apply(items.get(key), key, update)?)));
                }
                Write::Delete { key, .. } => staged.push((key.clone(), None)),
                Write::Check { .. } => {}
            }
        }
        for (key, item) in staged {
            match item {
                Some(i) => items.insert(key, i),
                None => items.remove(&key),
            };
        }
        Ok(())
    }
}
