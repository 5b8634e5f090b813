//! Agent configuration: Go-style command-line flags, Consul's HCL and JSON config files merged
//! by Consul's rules, and the validated [`RuntimeConfig`] the agent runs with.
#![forbid(unsafe_code)]

mod error;
mod flags;
pub mod goflag;
mod hcl1;
mod load;
mod merge;
mod normalize;
mod runtime;
mod schema;

pub use error::ConfigError;
pub use flags::agent_flags;
pub use load::load;
pub use runtime::{
    AclConfig, AclTokens, ConnectConfig, ListenAddr, Ports, RuntimeConfig, TlsConfig,
};
