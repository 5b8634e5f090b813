//! The Legate agent: the HTTP API, the agent's local services and checks, health checking,
//! anti-entropy to the catalog, and (for servers) the wiring of the state store to consensus.
#![forbid(unsafe_code)]

pub mod agent;
pub mod alias;
pub mod anti_entropy;
pub mod autopilot;
pub mod autopilot_config;
pub mod autopilot_run;
pub mod bootstrap;
pub mod checks;
pub mod clock;
pub mod config_entry;
pub mod connect_ca;
pub mod coordinates;
pub mod definition;
pub mod events;
pub mod http;
pub mod leader;
pub mod local;
pub mod logging;
pub mod membership;
pub mod peering;
pub mod peering_cleanup;
pub mod peering_exchange;
pub mod reconcile;
pub mod registration;
pub mod rpc_handler;
pub mod server;
pub mod sessions;
