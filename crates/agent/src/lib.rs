//! The Legate agent: the HTTP API, the agent's local services and checks, health checking,
//! anti-entropy to the catalog, and (for servers) the wiring of the state store to consensus.
#![forbid(unsafe_code)]

pub mod agent;
pub mod alias;
pub mod anti_entropy;
pub mod bootstrap;
pub mod checks;
pub mod clock;
pub mod config_entry;
pub mod definition;
pub mod events;
pub mod http;
pub mod leader;
pub mod local;
pub mod logging;
pub mod membership;
pub mod reconcile;
pub mod registration;
pub mod rpc_handler;
pub mod server;
pub mod sessions;
