//! The autopilot configuration record (Consul's `AutopilotConfig`): one per datacenter, kept in
//! the replicated state so every server's autopilot acts on the same settings.

use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

/// Autopilot settings, with the indexes of the Raft entries that created and last changed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotConfig {
    /// Remove failed servers from Raft automatically.
    pub cleanup_dead_servers: bool,
    /// A server that has not heard from the leader for longer is unhealthy.
    pub last_contact_threshold: Duration,
    /// A server more than this many entries behind the leader is unhealthy.
    pub max_trailing_logs: u64,
    /// Dead-server cleanup never leaves fewer voters than this.
    pub min_quorum: u64,
    /// How long a new server must be healthy before it is promoted to voter.
    pub server_stabilization_time: Duration,
    /// Enterprise: node meta key naming a server's redundancy zone (kept, not acted on).
    pub redundancy_zone_tag: String,
    /// Enterprise: disable upgrade migrations (kept, not acted on).
    pub disable_upgrade_migration: bool,
    /// Enterprise: node meta key holding the upgrade version (kept, not acted on).
    pub upgrade_version_tag: String,
    /// Raft index of the entry that first wrote the configuration (set by apply).
    pub create_index: u64,
    /// Raft index of the entry that last changed it (set by apply).
    pub modify_index: u64,
}

impl Default for AutopilotConfig {
    /// Consul's defaults.
    fn default() -> Self {
        AutopilotConfig {
            cleanup_dead_servers: true,
            last_contact_threshold: Duration::from_millis(200),
            max_trailing_logs: 250,
            min_quorum: 0,
            server_stabilization_time: Duration::from_secs(10),
            redundancy_zone_tag: String::new(),
            disable_upgrade_migration: false,
            upgrade_version_tag: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }
}
