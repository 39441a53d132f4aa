//! HTTP glue shared by every function: problems, the caller, bodies and parameters.

pub mod auth;
pub mod extract;
pub mod lambda;
pub mod pages;
pub mod problem;

pub use auth::Authenticated;
pub use extract::{JsonBody, Params, QueryParams};
pub use problem::Problem;
