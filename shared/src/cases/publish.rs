//! Relaying the outbox ([`crate::db::outbox`]) where the table's stream does not: the
//! sweeper relays an event the stream left behind; the local server and the tests, which
//! have no stream, relay every new event at once. Each event goes to every queue
//! subscribed to the publication, then leaves the outbox.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::outbox::RELAY_AFTER;
use crate::domain::ids::OrderId;
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::queue::messages::{OrderEvent, Published, ORDER_EVENT_QUEUES};
use crate::table::Write;

/// The outbox write publishing `event`, for the transaction of the change it
/// announces.
pub fn publish(event: &OrderEvent) -> Result<Write> {
    let body = serde_json::to_string(&Published::Event(event.clone()))
        .map_err(|e| crate::Error::Internal(e.to_string()))?;
    Ok(crate::db::outbox::event_write(
        &event.tenant,
        &event.order,
        &event.id,
        event.at,
        &body,
    )?)
}

/// At most this many events per relay.
const RELAY_MAX: usize = 2_000;

impl AppState {
    /// Sends one outbox event to every subscribed queue and removes it: 1 GetItem, one
    /// SendMessage per queue, 1 TransactWriteItems. An event no longer there was
    /// relayed already. A queue that cannot take it leaves it for the next relay.
    pub async fn relay_event(&self, t: &Tenant, order: &OrderId, id: &str) -> Result<bool> {
        let Some(body) = self.db.outbox_event(t, order, id).await? else {
            return Ok(false);
        };
        for queue in ORDER_EVENT_QUEUES {
            self.queue.send(queue, &body, None).await?;
        }
        self.db.relayed(t, order, id).await?;
        Ok(true)
    }

    /// Plays the table's stream: relays every event written by `now`, without waiting
    /// for the sweeper's grace. Returns how many it relayed.
    pub async fn relay_new_events(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut relayed = 0;
        for (t, order, id) in self.db.unrelayed(now + RELAY_AFTER, RELAY_MAX).await? {
            if self.relay_event(&t, &order, &id).await? {
                relayed += 1;
            }
        }
        Ok(relayed)
    }
}
