//! One test binary: store contract suite (memory and DynamoDB on moto_server), queue and
//! blob adapters, the HTTP behaviour of each function, and the sample events.

mod adapters;
mod assists;
mod attribution;
mod authz;
mod browse;
mod close;
mod contract;
mod events;
mod faults;
mod groups;
mod ledger;
mod lifecycle;
mod manage;
mod members;
mod openapi;
mod order_path;
mod orders;
mod outbox;
mod parcels;
mod posters;
mod refunds;
mod registry;
mod search;
mod visits;
