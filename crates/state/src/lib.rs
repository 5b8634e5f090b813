//! The state store: Legate's replicated data (catalog, health checks, KV, sessions, config
//! entries, coordinates) as persistent in-memory tables. It is a pure core: no I/O, no clocks.
//! [`Store::apply`] is the only way to change it and is called by the Raft state machine in log
//! order; reads take a cheap point-in-time [`StateView`]; blocking queries wait on per-table
//! watches until a table's index passes the one they saw.
#![forbid(unsafe_code)]

mod apply;
pub mod autopilot;
pub mod command;
pub mod connect_ca;
pub mod model;
pub mod peer_catalog;
mod peering_tables;
pub mod snapshot;
mod store;
mod table;
mod tables;
mod view;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod testing;

pub use store::Store;
pub use table::Table;
pub use table::TableIndexes;
pub use view::StateView;
pub use view::service_health::HealthFingerprint;
pub use view::service_health::HealthRow;
