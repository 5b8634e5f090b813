//! Forming and changing the raft group: [`Consensus::initialize`] (bootstrap-expect),
//! [`Consensus::add_voter`], [`Consensus::add_nonvoter`], [`Consensus::remove_server`],
//! [`Consensus::update_address`] and [`Consensus::transfer_leadership`]. Voters are added as
//! learners first and promoted only once they caught up, through openraft's joint consensus.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::async_runtime::watch::WatchReceiver as _;
use openraft::errors::ClientWriteError;
use openraft::errors::InitializeError;
use openraft::errors::RaftError;
use openraft::metrics::WaitError;

use crate::consensus::Consensus;
use crate::error::ConsensusError;
use crate::error::WriteError;
use crate::types::NodeKey;
use crate::types::NodeMeta;
use crate::types::TypeConfig;

/// How long [`Consensus::add_voter`] waits for a new server to catch up before giving up
/// (the server stays a non-voter).
pub(crate) const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Consensus::transfer_leadership`] waits for the target to take over.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10);

/// A server to put into the raft membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Raft server id (the Consul node id).
    pub id: String,
    /// Node name.
    pub name: String,
    /// Server RPC address, e.g. `10.0.0.2:8300`.
    pub rpc_addr: String,
}

/// What [`Consensus::update_address`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressUpdate {
    /// The server is unknown or already at that address.
    Unchanged,
    /// The server was removed and added again at its new address.
    Moved,
    /// The stale entry was the leader's own, rewritten in place.
    Rewritten,
}

fn meta(name: &str, rpc_addr: &str) -> NodeMeta {
    NodeMeta {
        name: name.to_string(),
        rpc_addr: rpc_addr.to_string(),
    }
}

/// Like `convert::write_error`, but membership rejections become [`WriteError::Rejected`].
fn change_error(e: RaftError<TypeConfig, ClientWriteError<TypeConfig>>) -> WriteError {
    match e {
        RaftError::APIError(ClientWriteError::ChangeMembershipError(c)) => {
            WriteError::Rejected(c.to_string())
        }
        other => crate::convert::write_error(other),
    }
}

fn wait_error(e: WaitError) -> WriteError {
    match e {
        WaitError::Timeout(_, what) => WriteError::Timeout(what),
        WaitError::ShuttingDown => WriteError::ShuttingDown,
    }
}

impl Consensus {
    /// Form the raft group from `voters` (bootstrap-expect): call it once the expected number of
    /// servers is known, on one of them or on all of them with the *same* list.
    ///
    /// This node must be in `voters`. A node that is already part of a group returns `Ok(())`
    /// without changing anything.
    pub async fn initialize(&self, voters: Vec<Peer>) -> Result<(), ConsensusError> {
        let raft = &self.inner.raft;
        if raft
            .is_initialized()
            .await
            .map_err(crate::convert::fatal_to_consensus)?
        {
            return Ok(());
        }
        let members: BTreeMap<NodeKey, NodeMeta> = voters
            .iter()
            .map(|p| (NodeKey(p.id.clone()), meta(&p.name, &p.rpc_addr)))
            .collect();
        tracing::info!(voters = members.len(), "initializing raft group");
        match raft.initialize(members).await {
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => Ok(()),
            Err(RaftError::APIError(InitializeError::NotInMembers(e))) => {
                Err(ConsensusError::Config(e.to_string()))
            }
            Err(RaftError::Fatal(f)) => Err(crate::convert::fatal_to_consensus(f)),
        }
    }

    /// Add a voting server (on the leader): it joins as a non-voter, and once it has caught up
    /// with the log (or a snapshot) it is promoted through joint consensus.
    ///
    /// Idempotent for a server that is already a voter. If the server does not catch up within
    /// 30 s this returns [`WriteError::Timeout`] and the server stays a non-voter.
    pub async fn add_voter(
        &self,
        node_id: &str,
        node_name: &str,
        rpc_addr: &str,
    ) -> Result<(), WriteError> {
        let raft = &self.inner.raft;
        let id = NodeKey(node_id.to_string());
        if raft.voter_ids().any(|v| v == id) {
            return Ok(());
        }
        let resp = raft
            .add_learner(id.clone(), meta(node_name, rpc_addr), false)
            .await
            .map_err(change_error)?;
        let target = resp.log_id.index;
        let learner = id.clone();
        raft.wait(Some(CATCH_UP_TIMEOUT))
            .metrics(
                move |m| {
                    m.replication
                        .as_ref()
                        .and_then(|r| r.get(&learner))
                        .and_then(Option::as_ref)
                        .is_some_and(|matched| matched.index >= target)
                },
                "new server catches up with the leader",
            )
            .await
            .map_err(wait_error)?;
        tracing::info!(node_id, node_name, rpc_addr, "promoting server to voter");
        raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
            .await
            .map_err(change_error)?;
        Ok(())
    }

    /// Add a non-voting server (on the leader); it receives the log but does not vote.
    pub async fn add_nonvoter(
        &self,
        node_id: &str,
        node_name: &str,
        rpc_addr: &str,
    ) -> Result<(), WriteError> {
        let id = NodeKey(node_id.to_string());
        if self.inner.raft.voter_ids().any(|v| v == id) {
            return Err(WriteError::Rejected(format!(
                "{node_id} is a voter; remove it before adding it as a non-voter"
            )));
        }
        self.inner
            .raft
            .add_learner(id, meta(node_name, rpc_addr), false)
            .await
            .map_err(change_error)?;
        Ok(())
    }

    /// Remove a server (voter or non-voter) from the membership (on the leader). Removing an
    /// unknown server is a no-op; removing the leader itself makes it step down once committed.
    pub async fn remove_server(&self, node_id: &str) -> Result<(), WriteError> {
        let raft = &self.inner.raft;
        let id = NodeKey(node_id.to_string());
        let ids = BTreeSet::from([id.clone()]);
        let change = if raft.voter_ids().any(|v| v == id) {
            ChangeMembers::RemoveVoters(ids)
        } else if raft.learner_ids().any(|v| v == id) {
            ChangeMembers::RemoveNodes(ids)
        } else if raft.is_leader() {
            return Ok(());
        } else {
            return Err(self.not_leader());
        };
        raft.change_membership(change, false)
            .await
            .map_err(change_error)?;
        Ok(())
    }

    /// Move a known server to a new RPC address (it restarted with the same id and data but a
    /// different address or port), on the leader. As Consul does, another server is removed
    /// and added again at the new address (a running replication stream keeps the address it
    /// was opened with, so only a new one reaches the server): a voter catches up as a learner
    /// and is promoted again, a non-voter stays one. The leader's own entry has no stream and
    /// is rewritten in place, so followers forward to the new address.
    ///
    /// A no-op when the server is unknown or its address is already `rpc_addr`.
    pub async fn update_address(
        &self,
        node_id: &str,
        node_name: &str,
        rpc_addr: &str,
    ) -> Result<AddressUpdate, WriteError> {
        let raft = &self.inner.raft;
        if !raft.is_leader() {
            return Err(self.not_leader());
        }
        let Some(current) = self.servers().into_iter().find(|s| s.id == node_id) else {
            return Ok(AddressUpdate::Unchanged);
        };
        if current.address == rpc_addr {
            return Ok(AddressUpdate::Unchanged);
        }
        if raft.node_id().0 == node_id {
            tracing::info!(node_id, old = %current.address, new = rpc_addr,
                "leader moved: rewriting its own address");
            let nodes = BTreeMap::from([(raft.node_id().clone(), meta(node_name, rpc_addr))]);
            raft.change_membership(ChangeMembers::SetNodes(nodes), false)
                .await
                .map_err(change_error)?;
            return Ok(AddressUpdate::Rewritten);
        }
        tracing::info!(
            node_id,
            node_name,
            old = %current.address,
            new = rpc_addr,
            "server moved: re-adding it at its new address"
        );
        self.remove_server(node_id).await?;
        if current.voter {
            self.add_voter(node_id, node_name, rpc_addr).await?;
        } else {
            self.add_nonvoter(node_id, node_name, rpc_addr).await?;
        }
        Ok(AddressUpdate::Moved)
    }

    /// Hand leadership to `to` (a voter's id), or to the most up-to-date other voter when
    /// `None`; resolves once that server leads (or [`WriteError::Timeout`] after 10 s).
    pub async fn transfer_leadership(&self, to: Option<&str>) -> Result<(), WriteError> {
        let raft = &self.inner.raft;
        if !raft.is_leader() {
            return Err(self.not_leader());
        }
        let target = match to {
            Some(id) => {
                let id = NodeKey(id.to_string());
                if !raft.voter_ids().any(|v| v == id) {
                    return Err(WriteError::Rejected(format!("{id} is not a voter")));
                }
                id
            }
            None => self.best_transfer_target().ok_or_else(|| {
                WriteError::Rejected("no other voter to transfer leadership to".to_string())
            })?,
        };
        if &target == raft.node_id() {
            return Ok(());
        }
        tracing::info!(to = %target, "transferring leadership");
        raft.trigger()
            .transfer_leader(target.clone())
            .await
            .map_err(crate::convert::fatal_to_write)?;
        raft.wait(Some(TRANSFER_TIMEOUT))
            .metrics(
                move |m| m.current_leader.as_ref() == Some(&target),
                "leadership transfer",
            )
            .await
            .map_err(wait_error)?;
        Ok(())
    }

    /// The other voter with the highest replicated log index.
    fn best_transfer_target(&self) -> Option<NodeKey> {
        let raft = &self.inner.raft;
        let replication = raft.metrics().borrow_watched().replication.clone()?;
        raft.voter_ids()
            .filter(|id| id != raft.node_id())
            .max_by_key(|id| {
                replication
                    .get(id)
                    .and_then(Option::as_ref)
                    .map(|l| l.index)
            })
    }

    pub(crate) fn not_leader(&self) -> WriteError {
        WriteError::NotLeader {
            leader_addr: self.leader_addr(),
        }
    }
}
