//! The use cases that move money, stock, seats and credit: each owns, in one file, its
//! read (one snapshot), its decision (a pure function of `domain`), its write (one
//! conditional write or transaction, a lost race going round again through
//! [`crate::db::retry::optimistic`]) and its announcement (the messages that follow,
//! built in [`crate::queue::messages`]). They are methods of [`AppState`], the ports
//! built once per process: HTTP handlers parse, call a case and render; workers decode a
//! message and call a case.
//!
//! [`AppState`]: crate::app::AppState

pub mod appointments;
pub mod assists;
pub mod attribution;
pub mod close;
pub mod close_pages;
pub mod coupons;
pub mod group_expiry;
pub mod members;
pub mod orders;
pub mod posters;
pub mod publish;
pub mod refunds;
pub mod search;
pub mod visits;
