//! Every function of the product, in one list: its name (its binary in
//! `functions/src/bin/`
//! and the resource in `infra/template.yaml`), its HTTP routes and their OpenAPI paths,
//! or the queue it consumes and the handler it runs on each message, and whether a
//! schedule makes it sweep.
//!
//! The local server, the sample-events test and the OpenAPI document are derived from
//! this list, and a test checks it against `functions/` and the template, so adding a
//! function is: its binary, its entry here, its resources in the template, its events.
//! (A function's own `main.rs` names only its own router or handler, not this list, so
//! its binary links nothing of the others.)

use std::future::Future;
use std::pin::Pin;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::queue::QueueName;
use crate::workers::{self, WorkerError};

pub type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// Handles one message body.
pub type Handler = fn(AppState, String) -> Boxed<Result<(), WorkerError>>;
/// Handles a whole batch: `(message id, body)` in, the failures out.
pub type BatchHandler = fn(AppState, Vec<(String, String)>) -> Boxed<Vec<(String, WorkerError)>>;

/// How a worker takes its queue's messages.
#[derive(Clone, Copy)]
pub enum Consumer {
    /// One at a time (most: each message is its own unit of work).
    Each(Handler),
    /// A batch at once (attribution: one transaction counts the whole batch).
    Batch(BatchHandler),
}
pub use crate::workers::Sweep;

pub struct Function {
    pub name: &'static str,
    /// The HTTP routes it serves, each named once: its `#[utoipa::path]` is both its
    /// route and its OpenAPI entry.
    pub routes: Option<fn() -> OpenApiRouter<AppState>>,
    /// The queue it consumes, and what it does with its messages.
    pub consumes: Option<(QueueName, Consumer)>,
    /// What it does on its schedule (`rate(...)` in the template), if it has one.
    pub sweeps: Option<(&'static str, Sweep)>,
}

const fn http(name: &'static str, routes: fn() -> OpenApiRouter<AppState>) -> Function {
    Function {
        name,
        routes: Some(routes),
        consumes: None,
        sweeps: None,
    }
}

fn fulfill(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::fulfill(&st, &body).await })
}

fn expire_unpaid(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::expire_unpaid(&st, &body).await })
}

fn expire_group(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::expire_group(&st, &body).await })
}

fn attribute(st: AppState, batch: Vec<(String, String)>) -> Boxed<Vec<(String, WorkerError)>> {
    Box::pin(async move { workers::attribution::attribute(&st, batch).await })
}

fn handle_refund(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::handle_refund(&st, &body).await })
}

fn apply_member(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::members::apply_member(&st, &body).await })
}

fn follow_waybill(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::couriers::follow_waybill(&st, &body).await })
}

fn step_close(st: AppState, body: String) -> Boxed<Result<(), WorkerError>> {
    Box::pin(async move { workers::close::step_close(&st, &body).await })
}

/// The close worker's sweep: campaigns at their end, close steps whose message was lost.
pub fn sweep_campaigns(st: AppState) -> Boxed<Result<serde_json::Value, WorkerError>> {
    Box::pin(async move { workers::close::sweep_campaigns(&st).await })
}

/// The timer sweep, as a [`Sweep`].
pub fn sweep_timers(st: AppState) -> Boxed<Result<serde_json::Value, WorkerError>> {
    Box::pin(async move { workers::sweep_timers(&st).await })
}

pub static FUNCTIONS: &[Function] = &[
    http("manage-campaign", crate::api::manage::routes),
    http("browse-catalog", crate::api::browse::routes),
    http("place-order", crate::api::orders::routes),
    http("join-group", crate::api::groups::routes),
    http("validate-refund", crate::api::refunds::routes),
    http("attribute-guide-sale", crate::api::attribution::routes),
    http("close-campaign", crate::api::close::routes),
    http("member-center", crate::api::members::routes),
    http("ship-parcels", crate::api::parcels::routes),
    http("guide-posters", crate::api::posters::routes),
    http("store-visits", crate::api::visits::routes),
    Function {
        name: "fulfillment-worker",
        routes: None,
        consumes: Some((QueueName::Fulfillment, Consumer::Each(fulfill))),
        sweeps: None,
    },
    Function {
        name: "order-timeout-worker",
        routes: None,
        consumes: Some((QueueName::OrderTimeouts, Consumer::Each(expire_unpaid))),
        sweeps: Some(("rate(5 minutes)", sweep_timers)),
    },
    Function {
        name: "group-expiry-worker",
        routes: None,
        consumes: Some((QueueName::GroupExpiry, Consumer::Each(expire_group))),
        sweeps: None,
    },
    Function {
        name: "attribution-worker",
        routes: None,
        consumes: Some((QueueName::Attribution, Consumer::Batch(attribute))),
        sweeps: None,
    },
    Function {
        name: "refund-worker",
        routes: None,
        consumes: Some((QueueName::Refunds, Consumer::Each(handle_refund))),
        sweeps: None,
    },
    Function {
        name: "member-worker",
        routes: None,
        consumes: Some((QueueName::Members, Consumer::Each(apply_member))),
        sweeps: None,
    },
    Function {
        name: "courier-worker",
        routes: None,
        consumes: Some((QueueName::Couriers, Consumer::Each(follow_waybill))),
        sweeps: None,
    },
    Function {
        name: "close-worker",
        routes: None,
        consumes: Some((QueueName::CloseCampaign, Consumer::Each(step_close))),
        sweeps: Some(("rate(5 minutes)", sweep_campaigns)),
    },
];

pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Every route of every function, as one router (the local server, the document).
pub fn all_routes() -> OpenApiRouter<AppState> {
    FUNCTIONS
        .iter()
        .filter_map(|f| f.routes)
        .fold(OpenApiRouter::new(), |r, routes| r.merge(routes()))
}

/// How the function consuming `queue` takes its messages.
pub fn consumer_of(queue: QueueName) -> Option<Consumer> {
    FUNCTIONS
        .iter()
        .filter_map(|f| f.consumes)
        .find(|(q, _)| *q == queue)
        .map(|(_, h)| h)
}
