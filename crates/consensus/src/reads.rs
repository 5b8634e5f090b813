//! Linearizable reads on any server: the leader confirms its leadership with a quorum and
//! hands out a read index ([`Consensus::read_index`]); a follower obtains that index over RPC
//! and waits until its own state machine applied it ([`Consensus::wait_applied`]) before
//! reading locally.

use std::time::Duration;

use openraft::ReadPolicy;
use openraft::metrics::WaitError;

use crate::consensus::Consensus;
use crate::error::WriteError;

impl Consensus {
    /// On the leader: confirm leadership with a quorum (read-index) and return the log index a
    /// linearizable read must wait for. Other servers return [`WriteError::NotLeader`].
    pub async fn read_index(&self) -> Result<u64, WriteError> {
        let linearizer = self
            .inner
            .raft
            .get_read_linearizer(ReadPolicy::ReadIndex)
            .await
            .map_err(crate::convert::read_error)?;
        Ok(linearizer.read_log_id().index())
    }

    /// On any server: wait until this node's state machine has applied `index`, at most
    /// `timeout` ([`WriteError::Timeout`] then).
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> Result<(), WriteError> {
        if self.applied_index() >= index {
            return Ok(());
        }
        let res = self
            .inner
            .raft
            .wait(Some(timeout))
            .metrics(
                move |m| m.last_applied.as_ref().is_some_and(|l| l.index >= index),
                "state machine applies the read index",
            )
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(WaitError::Timeout(_, what)) => Err(WriteError::Timeout(what)),
            Err(WaitError::ShuttingDown) => Err(WriteError::ShuttingDown),
        }
    }
}
