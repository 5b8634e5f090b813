//! The member snapshot, our counterpart of serf's `serf/local.snapshot`: the gossip
//! addresses of the members last seen alive, the Lamport clocks, and a marker set by a
//! graceful leave. It is one JSON document in the data directory, rewritten (throttled,
//! only when it changed) while the pool runs and at once when the node leaves.
//!
//! On start the clocks are restored, so this node's new intents are newer than what
//! peers remember of it, and the pool re-joins the remembered members, unless the node
//! left gracefully and `rejoin_after_leave` is off (then it starts alone, as Consul does).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::keyring_file::{create_private_dir, private_file};
use crate::member::{Member, MemberStatus};

/// Path of the LAN member snapshot inside the data directory.
pub const LAN_SNAPSHOT_FILE: &str = "serf/local.snapshot";

/// Shortest pause between two writes of the snapshot file.
pub(crate) const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(500);

/// The Lamport clocks of a node's serf layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clocks {
    /// Member (join/leave intent) clock.
    pub member: u64,
    /// User-event clock.
    pub event: u64,
    /// Query clock.
    pub query: u64,
}

/// What the snapshot file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSnapshot {
    /// Other members last seen alive: name → gossip address.
    pub alive: BTreeMap<String, SocketAddr>,
    /// The clocks when the file was written.
    pub clocks: Clocks,
    /// Set by a graceful leave; cleared by the next run's first write.
    pub left: bool,
}

impl MemberSnapshot {
    /// The addresses to re-join at start: none after a graceful leave unless
    /// `rejoin_after_leave`, otherwise every remembered member.
    pub fn rejoin_addrs(&self, rejoin_after_leave: bool) -> Vec<SocketAddr> {
        if self.left && !rejoin_after_leave {
            return Vec::new();
        }
        self.alive.values().copied().collect()
    }
}

/// A snapshot file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemberSnapshotError {
    /// Reading or writing the file failed.
    #[error("member snapshot {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a member snapshot.
    #[error("member snapshot {path} is not valid: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        reason: String,
    },
}

/// Reads a snapshot file; `Ok(None)` when it does not exist.
pub fn read_member_snapshot(path: &Path) -> Result<Option<MemberSnapshot>, MemberSnapshotError> {
    let data = match std::fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(MemberSnapshotError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&data)
        .map(Some)
        .map_err(|e| MemberSnapshotError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// Writes `snapshot` to `path` atomically (directory 0700, file 0600).
pub fn write_member_snapshot(
    path: &Path,
    snapshot: &MemberSnapshot,
) -> Result<(), MemberSnapshotError> {
    let io = |source| MemberSnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let body = serde_json::to_vec_pretty(snapshot).map_err(|e| io(e.into()))?;
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(io)?;
    }
    let tmp = path.with_extension("snapshot.tmp");
    let mut file = private_file(&tmp).map_err(io)?;
    file.write_all(&body).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Builds successive snapshots of a running pool. Members remembered from the previous
/// run are carried over until the pool hears of them (then the live view decides), so a
/// restart whose re-join has not finished yet does not forget them.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotBuilder {
    carried: BTreeMap<String, SocketAddr>,
    last: Option<MemberSnapshot>,
}

impl SnapshotBuilder {
    /// A builder carrying `previous`'s members (none after a leave that is not re-joined).
    pub(crate) fn new(previous: Option<&MemberSnapshot>, rejoin_after_leave: bool) -> Self {
        let carried = previous
            .filter(|p| !p.left || rejoin_after_leave)
            .map(|p| p.alive.clone())
            .unwrap_or_default();
        Self {
            carried,
            last: None,
        }
    }

    /// The snapshot for the current `members` (the local one, `local`, excluded) and
    /// `clocks`, or `None` when it equals the last one returned.
    pub(crate) fn next(
        &mut self,
        local: &str,
        members: &[Member],
        clocks: Clocks,
        left: bool,
    ) -> Option<MemberSnapshot> {
        let mut alive = BTreeMap::new();
        for member in members {
            self.carried.remove(&member.name);
            if member.name != local && member.status == MemberStatus::Alive {
                alive.insert(member.name.clone(), member.addr);
            }
        }
        for (name, addr) in &self.carried {
            if name != local {
                alive.entry(name.clone()).or_insert(*addr);
            }
        }
        let snapshot = MemberSnapshot {
            alive,
            clocks,
            left,
        };
        if self.last.as_ref() == Some(&snapshot) {
            return None;
        }
        self.last = Some(snapshot.clone());
        Some(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member::Tags;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn member(name: &str, port: u16, status: MemberStatus) -> Member {
        Member {
            name: name.into(),
            addr: addr(port),
            tags: Tags::new(),
            status,
            status_ltime: 1,
        }
    }

    fn snapshot(left: bool) -> MemberSnapshot {
        MemberSnapshot {
            alive: [("a".to_string(), addr(1)), ("b".to_string(), addr(2))].into(),
            clocks: Clocks {
                member: 7,
                event: 3,
                query: 2,
            },
            left,
        }
    }

    #[test]
    fn write_then_read_round_trips_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LAN_SNAPSHOT_FILE);
        assert!(read_member_snapshot(&path).unwrap().is_none());
        write_member_snapshot(&path, &snapshot(true)).unwrap();
        assert_eq!(read_member_snapshot(&path).unwrap(), Some(snapshot(true)));
        write_member_snapshot(&path, &snapshot(false)).unwrap();
        assert_eq!(read_member_snapshot(&path).unwrap(), Some(snapshot(false)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.snapshot");
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            read_member_snapshot(&path),
            Err(MemberSnapshotError::Parse { .. })
        ));
    }

    #[test]
    fn rejoin_decision_follows_the_leave_marker() {
        assert_eq!(snapshot(false).rejoin_addrs(false), vec![addr(1), addr(2)]);
        assert!(snapshot(true).rejoin_addrs(false).is_empty());
        assert_eq!(snapshot(true).rejoin_addrs(true), vec![addr(1), addr(2)]);
        assert!(MemberSnapshot::default().rejoin_addrs(true).is_empty());
    }

    #[test]
    fn builder_carries_unheard_members_and_follows_the_live_view() {
        let clocks = Clocks::default();
        let mut b = SnapshotBuilder::new(Some(&snapshot(false)), false);
        // Only the local member known yet: both remembered members are carried.
        let first = b
            .next("me", &[member("me", 9, MemberStatus::Alive)], clocks, false)
            .unwrap();
        assert_eq!(first.alive.len(), 2);
        assert!(!first.left, "a new run clears the leave marker");
        // Unchanged: nothing to write.
        assert!(
            b.next("me", &[member("me", 9, MemberStatus::Alive)], clocks, false)
                .is_none()
        );
        // `a` failed, `c` joined: the live view wins for members it knows.
        let live = [
            member("me", 9, MemberStatus::Alive),
            member("a", 1, MemberStatus::Failed),
            member("c", 3, MemberStatus::Alive),
        ];
        let next = b.next("me", &live, clocks, false).unwrap();
        assert_eq!(
            next.alive,
            [("b".to_string(), addr(2)), ("c".to_string(), addr(3))].into()
        );
        // Clock changes are written too.
        let later = Clocks {
            member: 9,
            ..clocks
        };
        assert_eq!(b.next("me", &live, later, false).unwrap().clocks, later);
    }

    #[test]
    fn builder_forgets_members_after_a_leave_unless_rejoining() {
        let me = [member("me", 9, MemberStatus::Alive)];
        let mut b = SnapshotBuilder::new(Some(&snapshot(true)), false);
        assert!(
            b.next("me", &me, Clocks::default(), false)
                .unwrap()
                .alive
                .is_empty()
        );
        let mut b = SnapshotBuilder::new(Some(&snapshot(true)), true);
        assert_eq!(
            b.next("me", &me, Clocks::default(), false)
                .unwrap()
                .alive
                .len(),
            2
        );
    }
}
