//! A campaign's return and pickup terms, fixed on each order when it is bought: the
//! terms its returns, its parcels' pickup window and its refunds' timers follow. A leaf
//! of the domain: campaigns, orders and refunds all use it, it uses none of them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

/// A campaign's return terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicy {
    /// Days after pickup (or dispatch, for shipped orders) a return may be asked.
    pub window_days: u32,
    /// A buyer with this many returns in the campaign goes to a person.
    pub review_after_returns: u32,
    /// Days an approved return may take to come back before it closes unrefunded.
    pub send_back_days: u32,
    /// Hours a return may wait for a person before it is escalated.
    pub escalate_after_hours: u32,
    /// Days a pickup parcel waits at its store before it is cancelled and refunded
    /// (the buyer is reminded halfway).
    #[serde(default = "default_pickup_days")]
    pub pickup_days: u32,
}

fn default_pickup_days() -> u32 {
    7
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        ReturnPolicy {
            window_days: 7,
            review_after_returns: 3,
            send_back_days: 7,
            escalate_after_hours: 4,
            pickup_days: default_pickup_days(),
        }
    }
}

impl ReturnPolicy {
    pub fn validate(&self) -> Result<(), DomainError> {
        let check = |field: &str, v: u32, max: u32| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    format!("returns.{field}"),
                    format!("must be between 1 and {max}"),
                ))
            }
        };
        check("window_days", self.window_days, 60)?;
        check("review_after_returns", self.review_after_returns, 100)?;
        check("send_back_days", self.send_back_days, 60)?;
        check("escalate_after_hours", self.escalate_after_hours, 168)?;
        check("pickup_days", self.pickup_days, 30)
    }
}
