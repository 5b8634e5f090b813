//! [`RaftConfig`], the public node configuration, and its translation into openraft's
//! `Config` (timeouts scaled by `raft_multiplier`, snapshot and purge policy).

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::ConsensusError;
use crate::transport::RaftTransport;

/// Base heartbeat interval at `raft_multiplier = 1`, in milliseconds.
const BASE_HEARTBEAT_MS: u64 = 50;
/// Base election timeout range at `raft_multiplier = 1`, in milliseconds.
const BASE_ELECTION_MIN_MS: u64 = 150;
const BASE_ELECTION_MAX_MS: u64 = 300;
/// Default upper bound on log entries already covered by a snapshot that are kept after a
/// purge, so a briefly lagging follower catches up from the log instead of a snapshot (Consul's
/// `raft_trailing_logs` default). The kept count is `min(snapshot_threshold, trailing_logs)`.
pub const DEFAULT_TRAILING_LOGS: u64 = 10_240;

/// Configuration of one consensus node.
#[derive(Clone)]
pub struct RaftConfig {
    /// Consul `node_id` UUID; used as the raft server id.
    pub node_id: String,
    /// Consul node name.
    pub node_name: String,
    /// Server RPC address, e.g. `127.0.0.1:8300`; what `/v1/status/leader` reports.
    pub rpc_addr: String,
    /// Where `raft/raft.db` and `raft/snapshots/` live; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Initialise a single-voter group if the node is not initialised yet.
    pub bootstrap: bool,
    /// Scales heartbeat and election timeouts (1 is fastest, as in dev mode; 0 counts as 1).
    pub raft_multiplier: u32,
    /// Take a snapshot and purge the log every N applied entries (0 disables automatic snapshots).
    pub snapshot_threshold: u64,
    /// Log entries kept behind a snapshot (`raft_trailing_logs`); capped by
    /// `snapshot_threshold`. A follower further behind catches up by InstallSnapshot.
    pub trailing_logs: u64,
    /// Carries raft messages to other servers; `None` makes every peer unreachable (enough for
    /// a single-voter group).
    pub transport: Option<Arc<dyn RaftTransport>>,
}

impl std::fmt::Debug for RaftConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftConfig")
            .field("node_id", &self.node_id)
            .field("node_name", &self.node_name)
            .field("rpc_addr", &self.rpc_addr)
            .field("data_dir", &self.data_dir)
            .field("bootstrap", &self.bootstrap)
            .field("raft_multiplier", &self.raft_multiplier)
            .field("snapshot_threshold", &self.snapshot_threshold)
            .field("trailing_logs", &self.trailing_logs)
            .field("transport", &self.transport.as_ref().map(|_| "..."))
            .finish()
    }
}

impl RaftConfig {
    /// Build and validate the openraft engine configuration.
    pub(crate) fn to_openraft(&self) -> Result<openraft::Config, ConsensusError> {
        let m = u64::from(self.raft_multiplier.max(1));
        let snapshot_policy = if self.snapshot_threshold == 0 {
            openraft::SnapshotPolicy::Never
        } else {
            openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_threshold)
        };
        let cfg = openraft::Config {
            cluster_name: "legate".to_string(),
            heartbeat_interval: BASE_HEARTBEAT_MS * m,
            election_timeout_min: BASE_ELECTION_MIN_MS * m,
            election_timeout_max: BASE_ELECTION_MAX_MS * m,
            install_snapshot_timeout: 10_000 * m,
            snapshot_policy,
            max_in_snapshot_log_to_keep: self.snapshot_threshold.min(self.trailing_logs),
            purge_batch_size: 1,
            ..Default::default()
        };
        cfg.validate()
            .map_err(|e| ConsensusError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mult: u32, threshold: u64) -> RaftConfig {
        RaftConfig {
            node_id: "n1".into(),
            node_name: "node1".into(),
            rpc_addr: "127.0.0.1:8300".into(),
            data_dir: None,
            bootstrap: true,
            raft_multiplier: mult,
            snapshot_threshold: threshold,
            trailing_logs: DEFAULT_TRAILING_LOGS,
            transport: None,
        }
    }

    #[test]
    fn multiplier_scales_timeouts() {
        let c = cfg(5, 100).to_openraft().unwrap();
        assert_eq!(c.heartbeat_interval, 250);
        assert_eq!(c.election_timeout_min, 750);
        assert_eq!(c.election_timeout_max, 1500);
        assert_eq!(
            c.snapshot_policy,
            openraft::SnapshotPolicy::LogsSinceLast(100)
        );
    }

    #[test]
    fn zero_multiplier_counts_as_one_and_zero_threshold_disables_snapshots() {
        let c = cfg(0, 0).to_openraft().unwrap();
        assert_eq!(c.heartbeat_interval, 50);
        assert_eq!(c.snapshot_policy, openraft::SnapshotPolicy::Never);
        assert_eq!(c.max_in_snapshot_log_to_keep, 0);
    }

    #[test]
    fn trailing_logs_follow_threshold_up_to_cap() {
        assert_eq!(
            cfg(1, 8).to_openraft().unwrap().max_in_snapshot_log_to_keep,
            8
        );
        assert_eq!(
            cfg(1, 1 << 20)
                .to_openraft()
                .unwrap()
                .max_in_snapshot_log_to_keep,
            DEFAULT_TRAILING_LOGS
        );
        let mut short = cfg(1, 1 << 20);
        short.trailing_logs = 3;
        assert_eq!(short.to_openraft().unwrap().max_in_snapshot_log_to_keep, 3);
    }
}
