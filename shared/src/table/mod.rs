//! The Table port: one DynamoDB-shaped table.
//!
//! [`Table`] is the small port both adapters implement with the same semantics:
//! conditional writes, atomic transactions, key-range queries and the GSIs.
//! [`dynamo::DynamoTable`] talks to DynamoDB through `aws-sdk-dynamodb`;
//! [`memory::MemoryTable`] is the embedded default. The typed use cases (`crate::db`)
//! are written once over the port, so both adapters run the very same logic and one
//! contract suite checks them both. [`keys`] is the key schema: every key is built
//! there, led by the tenant.

pub mod counted;
pub mod dynamo;
pub mod keys;
pub mod memory;

use async_trait::async_trait;
use serde_dynamo::AttributeValue;
use std::collections::HashMap;
use thiserror::Error;

pub use serde_dynamo::Item;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
pub const GSI4PK: &str = "GSI4PK";
pub const GSI4SK: &str = "GSI4SK";

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// Reads the key out of a full item.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key {
            pk: string_attr(item, PK)?.to_owned(),
            sk: string_attr(item, SK)?.to_owned(),
        })
    }
}

pub fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

/// A path into an item: `["units", "38"]` is the attribute `units.38`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath(pub Vec<String>);

impl AttrPath {
    pub fn top(name: &str) -> Self {
        AttrPath(vec![name.to_owned()])
    }

    pub fn nested(parts: &[&str]) -> Self {
        AttrPath(parts.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// The conditions our writes need; each adapter evaluates them the way DynamoDB does.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The item does not exist (`attribute_not_exists(PK)`).
    NotExists,
    /// The item exists.
    Exists,
    /// A number at `path` exists and is at least `n`.
    AtLeast(AttrPath, i64),
    /// The value at `path` equals `value`.
    Equals(AttrPath, AttributeValue),
    /// The item has no attribute at `path` (`attribute_not_exists`; a missing item
    /// has none).
    Missing(AttrPath),
    /// Every condition holds.
    All(Vec<Condition>),
}

/// An update: `SET` values, add to numbers (missing counts as 0), `REMOVE` attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(AttrPath, AttributeValue)>,
    pub add: Vec<(AttrPath, i64)>,
    pub remove: Vec<AttrPath>,
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

impl Write {
    pub fn key(&self) -> Option<Key> {
        match self {
            Write::Put { item, .. } => Key::of(item),
            Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => {
                Some(key.clone())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    /// A buyer's own items across tenants (orders, coupons); listings by category.
    Gsi1,
    /// Work of a campaign or tenant by status (unpaid orders, orders needing attention).
    Gsi2,
    /// Timers across every tenant, by due time (what the sweepers look at).
    Gsi3,
    /// A campaign's records (orders, refunds, group buys), spread over a few
    /// partitions: what the close pages through.
    Gsi4,
}

impl Index {
    pub fn key_names(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => (PK, SK),
            Index::Gsi1 => (GSI1PK, GSI1SK),
            Index::Gsi2 => (GSI2PK, GSI2SK),
            Index::Gsi3 => (GSI3PK, GSI3SK),
            Index::Gsi4 => (GSI4PK, GSI4SK),
        }
    }

    pub const ALL_SECONDARY: [Index; 4] = [Index::Gsi1, Index::Gsi2, Index::Gsi3, Index::Gsi4];

    /// Whether a query of this index returns whole items, or only their keys (the
    /// timer index: a sweeper reads the few items that are due).
    pub fn projects_all(self) -> bool {
        self != Index::Gsi3
    }

    /// The index's name in DynamoDB.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("GSI1"),
            Index::Gsi2 => Some("GSI2"),
            Index::Gsi3 => Some("GSI3"),
            Index::Gsi4 => Some("GSI4"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    All,
    BeginsWith(String),
    /// Inclusive on both ends, as DynamoDB's `BETWEEN`.
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub range: SortRange,
    pub limit: Option<u32>,
    pub forward: bool,
    /// The `last` of a previous page: its table and index key attributes.
    pub start_after: Option<Item>,
    /// Strongly consistent (base table only).
    pub consistent: bool,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>, range: SortRange) -> Self {
        Query {
            index,
            pk: pk.into(),
            range,
            limit: None,
            forward: true,
            start_after: None,
            consistent: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Set when there may be more: pass it back as `start_after`.
    pub last: Option<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// A single write's condition did not hold.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; `failed` lists the writes whose condition failed.
    #[error("transaction cancelled (failed writes {failed:?})")]
    TransactionCancelled { failed: Vec<usize> },
    /// Two transactions touched the same item at once; safe to retry.
    #[error("transaction conflict")]
    Conflict,
    /// The request was malformed (a bug, not the caller's fault).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The backend could not be reached or throttled us; safe to retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item did not have the shape we wrote.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

impl TableError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TableError::Conflict | TableError::Unavailable(_))
    }
}

/// The table port. Both adapters honour DynamoDB's semantics: a failed condition writes
/// nothing; a transaction applies all of its writes or none; at most 100 writes per
/// transaction and no item twice in one.
#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError>;
    /// Reads up to 100 distinct keys in one request; missing items are simply absent
    /// from the result (in no particular order).
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError>;
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError>;
    async fn query(&self, query: Query) -> Result<Page, TableError>;
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError>;
}

/// Checks what DynamoDB refuses outright, so both adapters refuse it the same way.
pub(crate) fn check_transaction(writes: &[Write]) -> Result<(), TableError> {
    if writes.is_empty() || writes.len() > 100 {
        return Err(TableError::Invalid(
            "a transaction holds 1 to 100 writes".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        let key = w
            .key()
            .ok_or_else(|| TableError::Invalid("write without a key".into()))?;
        if !seen.insert(key) {
            return Err(TableError::Invalid(
                "a transaction may not touch one item twice".into(),
            ));
        }
    }
    Ok(())
}

/// Checks what DynamoDB refuses in a batch read.
pub(crate) fn check_batch(keys: &[Key]) -> Result<(), TableError> {
    if keys.len() > 100 {
        return Err(TableError::Invalid(
            "a batch read holds at most 100 keys".into(),
        ));
    }
    let distinct: std::collections::HashSet<&Key> = keys.iter().collect();
    if distinct.len() != keys.len() {
        return Err(TableError::Invalid(
            "a batch read may not name one key twice".into(),
        ));
    }
    Ok(())
}

/// Builds an item from a serializable value plus its keys.
pub fn to_item<T: serde::Serialize>(
    value: &T,
    keys: &[(&str, String)],
) -> Result<Item, TableError> {
    let mut item: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(value).map_err(|e| TableError::Invalid(e.to_string()))?;
    for (name, v) in keys {
        // A key attribute must never silently replace a field of the value.
        if item
            .insert((*name).to_owned(), AttributeValue::S(v.clone()))
            .is_some()
        {
            return Err(TableError::Invalid(format!(
                "the item's attribute {name} would overwrite a field of the same name"
            )));
        }
    }
    Ok(item.into())
}

/// Reads a value back out of an item (key attributes are ignored).
pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, TableError> {
    serde_dynamo::from_item(item).map_err(|e| TableError::Corrupt(e.to_string()))
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
