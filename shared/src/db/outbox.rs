//! The outbox: an order event is an item in its order's partition, written in the same
//! write as the change it announces (the payment recorded, the refund paid), so there
//! is an event exactly when there is a change, and no producer knows its consumers.
//!
//! The table's stream carries each new event item to every consumer's queue (one
//! EventBridge Pipe per queue, `infra/template.yaml`); the item also sits in the timer
//! index, due [`RELAY_AFTER`] later, so the sweeper relays any event the stream did not
//! (consumers apply an event once by its id: a second delivery changes nothing), then
//! removes it. Locally (the local server, the tests) there is no stream: the same relay
//! runs with the grace looked past, which plays the stream's part.

use chrono::{DateTime, Duration, Utc};

use super::Db;
use crate::domain::ids::OrderId;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{n, s, string_attr, Item, Key, TableError, Write, GSI3PK, GSI3SK, PK, SK};

/// How long the stream has to relay an event before the sweeper does.
pub const RELAY_AFTER: Duration = Duration::minutes(15);

/// How long a relayed-or-not event item is kept (DynamoDB's TTL removes it).
const KEEP_DAYS: i64 = 30;

/// The item kind the stream's filter picks.
pub const EVENT_KIND: &str = "order-event";

pub fn event_key(t: &Tenant, order: &OrderId, id: &str) -> Key {
    Key::new(keys::order_pk(t, order), keys::event_sk(id))
}

/// The outbox write of event `id` of `order`, happened `at`, with `body` as every
/// consumer reads it (`queue::messages::Published`).
pub fn event_write(
    t: &Tenant,
    order: &OrderId,
    id: &str,
    at: DateTime<Utc>,
    body: &str,
) -> std::result::Result<Write, TableError> {
    let key = event_key(t, order, id);
    let item: Item = std::collections::HashMap::from([
        (PK.to_owned(), s(&key.pk)),
        (SK.to_owned(), s(&key.sk)),
        ("kind".to_owned(), s(EVENT_KIND)),
        ("body".to_owned(), s(body)),
        (GSI3PK.to_owned(), s(keys::due_gsi3pk(&key.pk))),
        (
            GSI3SK.to_owned(),
            s(keys::due_gsi3sk(at + RELAY_AFTER, &key.pk)),
        ),
        (
            "expires_at".to_owned(),
            n((at + Duration::days(KEEP_DAYS)).timestamp()),
        ),
    ])
    .into();
    // Written once by the change it announces; a replayed write puts the same body.
    Ok(Write::Put {
        item,
        condition: None,
    })
}

impl Db {
    /// The body of an outbox event, if it is still there. 1 GetItem.
    pub async fn outbox_event(
        &self,
        t: &Tenant,
        order: &OrderId,
        id: &str,
    ) -> Result<Option<String>> {
        let item = self.table.get(&event_key(t, order, id), true).await?;
        Ok(item.and_then(|i| string_attr(&i, "body").map(str::to_owned)))
    }

    /// Removes a relayed event (gone already is as good). 1 TransactWriteItems of one
    /// delete.
    pub async fn relayed(&self, t: &Tenant, order: &OrderId, id: &str) -> Result<()> {
        self.table
            .transact(vec![Write::Delete {
                key: event_key(t, order, id),
                condition: None,
            }])
            .await?;
        Ok(())
    }

    /// Events in the outbox due for relay by `until`.
    pub async fn unrelayed(
        &self,
        until: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<(Tenant, OrderId, String)>> {
        Ok(self
            .due_timers(until, max)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                keys::Due::Event(t, o, id) => Some((t, o, id)),
                _ => None,
            })
            .collect())
    }
}
