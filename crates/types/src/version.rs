//! The versions Legate reports: its own, and the Consul API level it implements. Clients gate
//! features on the Consul version (`Config.Version`, `version -format=json`), so one modern
//! Consul version is reported everywhere.

/// Consul version whose HTTP API, CLI and config Legate implements.
pub const CONSUL_VERSION: &str = "1.21.0";

/// Legate's own version.
pub const LEGATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Pre-release tag reported next to [`CONSUL_VERSION`] (empty for a release).
pub const PRERELEASE: &str = "";

/// Raft/RPC protocol range reported by `version` (`RPC.Default/Min/Max`).
pub const PROTOCOL_DEFAULT: u8 = 2;
/// Lowest protocol understood.
pub const PROTOCOL_MIN: u8 = 2;
/// Highest protocol understood.
pub const PROTOCOL_MAX: u8 = 3;
