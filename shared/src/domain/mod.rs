//! Pure rules: no I/O, no clocks, no AWS. Everything here is a plain function over plain
//! types, tested without a server.

pub mod appointment;
pub mod assist;
pub mod attribution;
pub mod auth;
pub mod campaign;
pub mod catalog;
pub mod checkout;
pub mod close;
pub mod close_run;
pub mod coupon;
mod error;
pub mod figures;
pub mod fulfillment;
pub mod geo;
pub mod group_buy;
pub mod ids;
pub mod member;
pub mod money;
pub mod opening;
pub mod order;
pub mod poster;
pub mod pricing;
pub mod refund;
pub mod report;
pub mod rma;
pub mod search;
pub mod shipping;
pub mod signing;
pub mod slip;
pub mod store_finder;
pub mod tenancy;
pub mod terms;
pub mod text;
pub mod visit;

pub use error::DomainError;
