//! Leadership tracking: a task that follows openraft's metrics and publishes "this node leads"
//! on a tokio watch channel, logging `cluster leadership acquired` / `cluster leadership lost`.
//!
//! Leadership is only published once it is *established*: after the new leader has confirmed
//! itself with a read-index round and its state machine has applied everything committed before
//! its term (like Consul's barrier at the start of its leader loop).

use openraft::ReadPolicy;
use openraft::ServerState;
use openraft::async_runtime::watch::WatchReceiver as _;
use tokio::sync::watch;

use crate::types::RaftHandle;

/// Pause before re-trying to establish leadership after a failed read-index round.
const RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// Follow `raft`'s metrics until it shuts down, publishing leadership on `tx`.
pub(crate) async fn track(raft: RaftHandle, tx: watch::Sender<bool>) {
    let mut metrics = raft.metrics();
    loop {
        let leads = {
            let m = metrics.borrow_watched();
            m.state == ServerState::Leader
        };
        let published = *tx.borrow();
        if leads && !published {
            match raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
                Ok(_) => {
                    tx.send_replace(true);
                    tracing::info!(
                        term = raft.metrics().borrow_watched().current_term,
                        "cluster leadership acquired"
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %e, "could not establish leadership yet; retrying");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        } else if !leads && published {
            tx.send_replace(false);
            tracing::info!("cluster leadership lost");
        }
        if metrics.changed().await.is_err() {
            break;
        }
    }
    if tx.send_replace(false) {
        tracing::info!("cluster leadership lost");
    }
}
