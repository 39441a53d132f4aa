//! # Clearance
//!
//! The domain crate behind every Clearance Lambda: end-of-season stock sold through short
//! campaigns run by regional store groups of a multi-brand footwear and apparel group.
//!
//! How the modules fit, from the bottom up:
//!
//! - [`domain`]: the rules, pure and synchronous, over plain types: the tenant, ids,
//!   money in fen, campaigns and their flash-sale slots and terms, listings and stock,
//!   stores' hours and the store finder, pickup slots and try-on visits, checkout,
//!   orders and parcels, refunds, group
//!   buys, guide attribution, members'
//!   points and levels, the close and its report, who may do what. No module of it depends on another in a circle
//!   (`scripts/domain_cycles.py` checks).
//! - [`table`]: the [`table::Table`] port (a DynamoDB-shaped single table) with its
//!   DynamoDB and in-memory adapters, and [`table::keys`], the key schema: every key,
//!   led by the tenant, is built there.
//! - [`queue`], [`blobs`], [`payments`], [`membership`], [`couriers`]: the SQS, S3,
//!   payment-provider, CRM and courier-aggregator ports, each with its production
//!   adapter and a local one (the partners' HTTP adapters call through [`outbound`],
//!   one signed client); [`phones`] seals members' phones and finds them by keyed hash.
//! - [`db`]: each use case's reads and writes over the table: one snapshot read, the
//!   domain's decision, one conditional write or transaction (a lost race goes round
//!   again through [`db::retry`]); [`db::outbox`] holds order events published with
//!   the change they announce.
//! - [`cases`]: the use cases that move money, stock, seats, credit and points, each
//!   read -> decide -> write -> announce in one file.
//! - [`http`]: what every HTTP function shares: the caller from JWT claims, JSON bodies,
//!   `Idempotency-Key` and provider signatures as extractors, errors as
//!   `application/problem+json`, cached public pages, and the Lambda adapter that
//!   serves a router (`http::lambda::run`).
//! - [`api`]: the HTTP functions' routes (each named once, with its OpenAPI entry) and
//!   [`api::openapi`], the document; [`workers`]: the SQS consumers and sweepers. Both sit
//!   on [`app::AppState`], the ports built once per process.
//! - [`registry`]: every function, HTTP or queue: the local server, the sample events
//!   and the document are derived from it.
//! - [`poster`]: a guide's share poster drawn from its facts ([`domain::poster`]) into
//!   a PNG, with the font the function reads from the bucket on first use.
//! - [`aws`], [`clock`], [`telemetry`], [`recent`]: client construction (once, outside
//!   the handler), time as a port, JSON logs, a small per-process cache.

pub mod api;
pub mod app;
pub mod aws;
pub mod blobs;
pub mod cases;
pub mod clock;
pub mod couriers;
pub mod db;
pub mod domain;
mod error;
pub mod http;
pub mod membership;
pub mod outbound;
pub mod payments;
pub mod phones;
pub mod poster;
pub mod queue;
pub mod recent;
pub mod registry;
pub mod table;
pub mod telemetry;
pub mod workers;

pub use error::{Error, Result};
