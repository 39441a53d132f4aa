//! The DynamoDB adapter: the [`Table`] port over `aws-sdk-dynamodb`.
//!
//! Our conditions and updates compile to DynamoDB expressions with placeholder names
//! and values, so no attribute name or user value is ever spliced into an expression.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem,
    Update as SdkUpdate,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

use super::{
    check_batch, check_transaction, AttrPath, Condition, Index, Item, Key, Page, Query, SortRange,
    Table, TableError, Update, Write, PK, SK,
};

pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTable {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }
}

type SdkItem = HashMap<String, Av>;

fn sdk_item(item: Item) -> SdkItem {
    item.into()
}

fn sdk_key(key: &Key) -> SdkItem {
    HashMap::from([
        (PK.to_owned(), Av::S(key.pk.clone())),
        (SK.to_owned(), Av::S(key.sk.clone())),
    ])
}

/// Placeholders for one expression: `#n0` for names, `:v0` for values.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, Av>,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn path(&mut self, path: &AttrPath) -> String {
        path.0
            .iter()
            .map(|p| self.name(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn value(&mut self, v: Av) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    fn condition(&mut self, c: &Condition) -> String {
        match c {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(PK)),
            Condition::AtLeast(path, n) => {
                let p = self.path(path);
                let v = self.value(Av::N(n.to_string()));
                format!("{p} >= {v}")
            }
            Condition::Equals(path, value) => {
                let p = self.path(path);
                let v = self.value(value.clone().into());
                format!("{p} = {v}")
            }
            Condition::Missing(path) => {
                let p = self.path(path);
                format!("attribute_not_exists({p})")
            }
            Condition::All(all) if all.is_empty() => format!(
                "attribute_exists({}) OR attribute_not_exists({})",
                self.name(PK),
                self.name(PK)
            ),
            Condition::All(all) => all
                .iter()
                .map(|c| format!("({})", self.condition(c)))
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    }

    fn update(&mut self, u: &Update) -> String {
        let mut sets = Vec::new();
        for (path, value) in &u.set {
            let p = self.path(path);
            let v = self.value(value.clone().into());
            sets.push(format!("{p} = {v}"));
        }
        for (path, delta) in &u.add {
            let p = self.path(path);
            let zero = self.value(Av::N("0".into()));
            let d = self.value(Av::N(delta.to_string()));
            sets.push(format!("{p} = if_not_exists({p}, {zero}) + {d}"));
        }
        let mut expr = String::new();
        if !sets.is_empty() {
            expr.push_str("SET ");
            expr.push_str(&sets.join(", "));
        }
        if !u.remove.is_empty() {
            let removes: Vec<String> = u.remove.iter().map(|p| self.path(p)).collect();
            expr.push_str(" REMOVE ");
            expr.push_str(&removes.join(", "));
        }
        expr
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, Av>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn map_err<E, R>(e: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = e.code().map(str::to_owned);
    let message = e.message().unwrap_or_default().to_owned();
    match code.as_deref() {
        Some("ConditionalCheckFailedException") => TableError::ConditionFailed,
        Some("TransactionConflictException") => TableError::Conflict,
        Some("ValidationException") => TableError::Invalid(message),
        Some(code) => TableError::Unavailable(format!("{code}: {message}")),
        None => TableError::Unavailable(DisplayErrorContext(&e).to_string()),
    }
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> TableError {
    TableError::Invalid(e.to_string())
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(sdk_key(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out.item.map(Item::from))
    }

    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, TableError> {
        check_batch(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pending: Vec<SdkItem> = keys.iter().map(sdk_key).collect();
        let mut found = Vec::new();
        // DynamoDB may leave keys unprocessed under load: ask again for those, backing off.
        for attempt in 0..8u32 {
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(consistent)
                .build()
                .map_err(build_err)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, ka)
                .send()
                .await
                .map_err(map_err)?;
            if let Some(mut responses) = out.responses {
                found.extend(
                    responses
                        .remove(&self.table)
                        .unwrap_or_default()
                        .into_iter()
                        .map(Item::from),
                );
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|ka| ka.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
        }
        Err(TableError::Unavailable(
            "batch read left keys unprocessed".into(),
        ))
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), TableError> {
        let mut e = Expr::default();
        let cond = condition.as_ref().map(|c| e.condition(c));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(sdk_item(item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn query(&self, q: Query) -> Result<Page, TableError> {
        let (pk_name, sk_name) = q.index.key_names();
        let mut e = Expr::default();
        let pk = format!("{} = {}", e.name(pk_name), e.value(Av::S(q.pk.clone())));
        let key_condition = match &q.range {
            SortRange::All => pk,
            SortRange::BeginsWith(p) => {
                format!(
                    "{pk} AND begins_with({}, {})",
                    e.name(sk_name),
                    e.value(Av::S(p.clone()))
                )
            }
            SortRange::Between(a, b) => format!(
                "{pk} AND {} BETWEEN {} AND {}",
                e.name(sk_name),
                e.value(Av::S(a.clone())),
                e.value(Av::S(b.clone()))
            ),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.name().map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .set_limit(q.limit.map(|l| l as i32))
            .scan_index_forward(q.forward)
            .set_exclusive_start_key(q.start_after.map(sdk_item))
            .consistent_read(q.consistent && q.index == Index::Primary)
            .send()
            .await
            .map_err(map_err)?;
        Ok(Page {
            items: out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(Item::from)
                .collect(),
            last: out.last_evaluated_key.map(Item::from),
        })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        check_transaction(&writes)?;
        let mut items = Vec::with_capacity(writes.len());
        for w in writes {
            let mut e = Expr::default();
            let item = match w {
                Write::Put { item, condition } => {
                    let cond = condition.as_ref().map(|c| e.condition(c));
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(sdk_item(item)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(build_err)?;
                    TransactWriteItem::builder().put(put).build()
                }
                Write::Update {
                    key,
                    update,
                    condition,
                } => {
                    let expr = e.update(&update);
                    let cond = condition.as_ref().map(|c| e.condition(c));
                    let up = SdkUpdate::builder()
                        .table_name(&self.table)
                        .set_key(Some(sdk_key(&key)))
                        .update_expression(expr)
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(build_err)?;
                    TransactWriteItem::builder().update(up).build()
                }
                Write::Delete { key, condition } => {
                    let cond = condition.as_ref().map(|c| e.condition(c));
                    let del = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(sdk_key(&key)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(build_err)?;
                    TransactWriteItem::builder().delete(del).build()
                }
                Write::Check { key, condition } => {
                    let cond = e.condition(&condition);
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(sdk_key(&key)))
                        .condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(build_err)?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            items.push(item);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let SdkError::ServiceError(se) = &err {
                    if let TransactWriteItemsError::TransactionCanceledException(tc) = se.err() {
                        let reasons = tc.cancellation_reasons();
                        if reasons
                            .iter()
                            .any(|r| r.code() == Some("TransactionConflict"))
                        {
                            return Err(TableError::Conflict);
                        }
                        let failed: Vec<usize> = reasons
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                            .map(|(i, _)| i)
                            .collect();
                        if !failed.is_empty() {
                            return Err(TableError::TransactionCancelled { failed });
                        }
                    }
                }
                Err(map_err(err))
            }
        }
    }
}

/// Creates the single table with its GSIs (local runs and tests; production uses
/// `infra/template.yaml`). An existing table is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<(), TableError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_err)
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(build_err)
    };
    let gsi = |index: Index| -> Result<GlobalSecondaryIndex, TableError> {
        let (pk, sk) = index.key_names();
        let projection = if index.projects_all() {
            ProjectionType::All
        } else {
            ProjectionType::KeysOnly
        };
        GlobalSecondaryIndex::builder()
            .index_name(index.name().unwrap_or_default())
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(Projection::builder().projection_type(projection).build())
            .build()
            .map_err(build_err)
    };
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for index in Index::ALL_SECONDARY {
        let (pk, sk) = index.key_names();
        request = request
            .attribute_definitions(attr(pk)?)
            .attribute_definitions(attr(sk)?)
            .global_secondary_indexes(gsi(index)?);
    }
    let result = request.send().await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(map_err(e)),
    }
}
