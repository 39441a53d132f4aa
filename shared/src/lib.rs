//! # Clearance
//!
//! The domain crate behind every Clearance Lambda: end-of-season stock sold through short
//! campaigns run by regional store groups of a multi-brand footwear and apparel group.
//!
//! How the modules fit:
//!
//! - [`domain`]: the rules, pure and synchronous: tenancy and table keys, ids, money in
//!   fen, campaigns and their flash-sale slots, listings and stock, who may do what.
//! - [`store`]: the [`store::Table`] port (a DynamoDB-shaped single table) with its
//!   DynamoDB and in-memory adapters, and the typed reads and writes of each use case,
//!   written once over the port.
//! - [`queue`] and [`blobs`]: the SQS and S3 ports, each with an AWS adapter and a local
//!   one.
//! - [`http`]: the HTTP glue every function shares: the caller from JWT claims, JSON
//!   bodies parsed into domain types, errors as `application/problem+json`.
//! - [`api`]: the axum routers, one per function; a function's `main.rs` only builds
//!   clients and hands its router to `lambda_http::run`, and the local server merges them.
//! - [`payments`]: the Payments port (signed provider webhooks, a local sandbox).
//! - [`workers`]: the SQS consumers (fulfillment, unpaid-order timeouts), each a plain
//!   function of a message that says whether a failure is worth retrying.
//! - [`aws`], [`clock`], [`telemetry`]: client construction (once, outside the handler),
//!   time as a port, and JSON logs.

pub mod api;
pub mod app;
pub mod aws;
pub mod blobs;
pub mod clock;
pub mod db;
pub mod domain;
mod error;
pub mod http;
pub mod payments;
pub mod queue;
pub mod recent;
pub mod registry;
pub mod table;
pub mod telemetry;
pub mod workers;

pub use error::{Error, Result};
