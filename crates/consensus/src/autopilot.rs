//! What autopilot needs from raft: the leader's view of every server's replication progress
//! ([`Consensus::progress`]) and promoting a caught-up non-voter ([`Consensus::promote`]).
//! The decisions themselves live in the agent's autopilot.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::Instant as _;
use openraft::async_runtime::watch::WatchReceiver as _;
use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;

use crate::consensus::Consensus;
use crate::error::WriteError;
use crate::types::NodeKey;

/// One server's replication progress as this node sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Index of the last log entry known to be on that server (0: none yet).
    pub last_index: u64,
    /// Term of that entry (0: none yet).
    pub last_term: u64,
    /// Time since that server last acknowledged the leader (zero for the leader itself;
    /// `None` when it never has).
    pub last_contact: Option<Duration>,
}

impl Consensus {
    /// Replication progress of every server in the membership, by raft id. Complete only on
    /// the leader; a follower knows only itself.
    pub fn progress(&self) -> BTreeMap<String, Progress> {
        let raft = &self.inner.raft;
        let m = raft.metrics().borrow_watched().clone();
        let mut out = BTreeMap::new();
        let own_last = m.last_log_index.unwrap_or(0);
        let own_term = if m.current_leader.as_ref() == Some(&m.id) {
            m.current_term
        } else {
            m.last_applied.as_ref().map_or(0, |id| id.leader_id.term)
        };
        out.insert(
            m.id.0.clone(),
            Progress {
                last_index: own_last,
                last_term: own_term,
                last_contact: self.last_contact(),
            },
        );
        let Some(replication) = m.replication.as_ref() else {
            return out;
        };
        for (id, matched) in replication {
            if id == &m.id {
                continue;
            }
            let last_contact = m
                .heartbeat
                .as_ref()
                .and_then(|h| h.get(id))
                .and_then(Option::as_ref)
                .map(|at| at.elapsed());
            out.insert(
                id.0.clone(),
                Progress {
                    last_index: matched.as_ref().map_or(0, |l| l.index),
                    last_term: matched.as_ref().map_or(0, |l| l.leader_id.term),
                    last_contact,
                },
            );
        }
        out
    }

    /// Make non-voter `node_id` a voter (on the leader), through joint consensus. A server that
    /// already votes is left alone.
    pub async fn promote(&self, node_id: &str) -> Result<(), WriteError> {
        let raft = &self.inner.raft;
        let id = NodeKey(node_id.to_string());
        if raft.voter_ids().any(|v| v == id) {
            return Ok(());
        }
        if !raft.learner_ids().any(|v| v == id) {
            return Err(WriteError::Rejected(format!(
                "{node_id} is not in the Raft configuration"
            )));
        }
        tracing::info!(node_id, "promoting server to voter");
        raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
            .await
            .map_err(|e| match e {
                RaftError::APIError(ClientWriteError::ChangeMembershipError(c)) => {
                    WriteError::Rejected(c.to_string())
                }
                other => crate::convert::write_error(other),
            })?;
        Ok(())
    }
}
