//! Deferred deletion of peerings, run by the leader: a `DELETE /v1/peering/:name` only marks
//! the row DELETING; this routine then drops everything imported from that peer, deletes the
//! peer's trust bundle and finally removes the row — in that order, so a crash in between
//! leaves a DELETING row that the next leader finishes. [`cleanup_commands`] is the pure plan;
//! [`run`] watches the peerings table while this server leads and proposes the plan.
//! (Sending `Terminated` on a live stream belongs to the stream routines, not here.)

use std::sync::Arc;
use std::time::Duration;

use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::Peering;
use legate_state::model::PeeringState;

use crate::agent::Agent;

/// Pause before retrying after a failed write.
const RETRY: Duration = Duration::from_secs(1);

/// The writes that finish deleting every row of `peerings` marked DELETING: imported data,
/// trust bundle, then the row itself, peering by peering.
pub fn cleanup_commands(peerings: &[Peering]) -> Vec<Command> {
    peerings
        .iter()
        .filter(|p| p.state == PeeringState::Deleting)
        .flat_map(|p| {
            [
                Command::ImportDropPeer {
                    peer: p.name.clone(),
                },
                Command::PeeringTrustBundleDelete {
                    name: p.name.clone(),
                },
                Command::PeeringRemove { id: p.id.clone() },
            ]
        })
        .collect()
}

/// While this server leads, finish the deletion of peerings marked DELETING whenever the
/// peerings table changes. Returns at shutdown.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    loop {
        let leading = *leadership.borrow_and_update();
        let mut seen = 0;
        if leading {
            let view = agent.server().store().view();
            seen = view.table_index(Table::Peerings);
            if let Err(err) = apply(&agent, cleanup_commands(&view.peerings())).await {
                tracing::warn!(target: "agent.leader.peering", error = %err,
                    "failed to finish deleting peerings");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
                continue;
            }
        }
        let store = agent.server().store();
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
            _ = store.wait_change(&[Table::Peerings], seen, std::future::pending()), if leading => {}
        }
    }
}

/// Propose `commands` in order, stopping at the first failure.
async fn apply(agent: &Agent, commands: Vec<Command>) -> Result<(), String> {
    for command in commands {
        if let Command::PeeringRemove { id } = &command {
            tracing::info!(target: "agent.leader.peering", "removing deleted peering: id={id}");
        }
        match agent.server().write(command).await {
            Ok(CommandResult::Rejected(message)) => return Err(message),
            Ok(_) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use legate_state::Store;

    use super::*;

    fn row(id: &str, name: &str) -> Peering {
        Peering {
            id: id.into(),
            name: name.into(),
            ..Peering::default()
        }
    }

    #[test]
    fn only_deleting_rows_are_cleaned_in_order() {
        let mut gone = row("id-1", "gone");
        gone.state = PeeringState::Deleting;
        let mut live = row("id-2", "live");
        live.state = PeeringState::Active;
        let mut terminated = row("id-3", "ended");
        terminated.state = PeeringState::Terminated;
        assert_eq!(
            cleanup_commands(&[gone, live, terminated]),
            vec![
                Command::ImportDropPeer {
                    peer: "gone".into()
                },
                Command::PeeringTrustBundleDelete {
                    name: "gone".into()
                },
                Command::PeeringRemove { id: "id-1".into() },
            ]
        );
    }

    /// The plan applied to a store removes a soft-deleted row and leaves the others.
    #[test]
    fn plan_applied_to_a_store_removes_the_row() {
        let store = Store::new();
        for (i, (id, name)) in [("id-1", "gone"), ("id-2", "kept")].iter().enumerate() {
            let write = Command::PeeringWrite {
                peering: row(id, name),
                secrets: None,
            };
            assert_eq!(store.apply(i as u64 + 1, write), CommandResult::Ok);
        }
        let delete = Command::PeeringDelete {
            name: "gone".into(),
        };
        assert_eq!(store.apply(3, delete), CommandResult::Ok);
        for (index, command) in (4..).zip(cleanup_commands(&store.view().peerings())) {
            assert_eq!(store.apply(index, command), CommandResult::Ok);
        }
        let names: Vec<String> = store
            .view()
            .peerings()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["kept"]);
        assert!(cleanup_commands(&store.view().peerings()).is_empty());
    }
}
