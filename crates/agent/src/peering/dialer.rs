//! The dialer manager, a leader routine: while this server leads, keep one stream per dialer
//! row that has an active stream secret and is neither DELETING nor TERMINATED ([`dialable`]
//! is the pure choice). Each runs [`dial_loop`]: connect with our server certificate as
//! client identity, `Open`, run the driver as dialer; after a failure back off
//! ([`legate_peerstream::next_backoff`]) cycling the peer's addresses (manual ones when given,
//! else the discovered ones). Leadership loss stops everything.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use legate_peerstream::AddressRing;
use legate_peerstream::FailureKind;
use legate_peerstream::PeerDialer;
use legate_peerstream::Role;
use legate_peerstream::next_backoff;
use legate_peerstream::pb::Remote;
use legate_peerstream::pb::replication_message::Open;
use legate_peerstream::tls::ClientIdentity;
use legate_peerstream::tls::ClientTls;
use legate_state::StateView;
use legate_state::Table;
use legate_state::model::Peering;
use legate_state::model::PeeringState;
use tokio_util::sync::CancellationToken;

use super::driver;
use crate::agent::Agent;

/// A stream up at least this long is reconnected without backing off.
const STABLE_STREAM: Duration = Duration::from_secs(2);

/// IDs of the peerings this leader should dial in `view`.
pub fn dialable(view: &StateView) -> BTreeSet<String> {
    view.peerings()
        .into_iter()
        .filter(|p| should_stream(p) && p.should_dial())
        .filter(|p| {
            view.peering_secrets(&p.id)
                .is_some_and(|s| s.active.is_some())
        })
        .map(|p| p.id)
        .collect()
}

fn should_stream(p: &Peering) -> bool {
    p.is_active() && !matches!(p.state, PeeringState::Deleting | PeeringState::Terminated)
}

/// The addresses to dial for `row`: manual ones override discovered ones.
pub fn dial_addresses(row: &Peering) -> Vec<String> {
    if row.manual_server_addresses.is_empty() {
        row.peer_server_addresses.clone()
    } else {
        row.manual_server_addresses.clone()
    }
}

/// Run the dialer manager until shutdown.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    let mut running: BTreeMap<String, CancellationToken> = BTreeMap::new();
    loop {
        let leading = *leadership.borrow_and_update();
        let mut seen = 0;
        if leading {
            let view = agent.server().store().view();
            seen = view.max_index(&[Table::Peerings, Table::PeeringSecrets]);
            let wanted = dialable(&view);
            running.retain(|id, token| {
                let keep = wanted.contains(id) && !token.is_cancelled();
                if !keep {
                    token.cancel();
                }
                keep
            });
            for id in wanted {
                if running.contains_key(&id) {
                    continue;
                }
                let token = shutdown.child_token();
                running.insert(id.clone(), token.clone());
                tokio::spawn(dial_loop(agent.clone(), id, token));
            }
        } else {
            for (_, token) in std::mem::take(&mut running) {
                token.cancel();
            }
            agent.peering().registry().clear();
        }
        let store = agent.server().store();
        let tables = [Table::Peerings, Table::PeeringSecrets];
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
            _ = store.wait_change(&tables, seen, std::future::pending()), if leading => {}
        }
    }
}

/// Keep one peering's stream up until `token` is cancelled or the peering ends.
async fn dial_loop(agent: Arc<Agent>, id: String, token: CancellationToken) {
    let mut ring = AddressRing::new(Vec::new());
    let mut failures = 0u32;
    loop {
        if token.is_cancelled() {
            return;
        }
        let view = agent.server().store().view();
        let Some(row) = view.peering_by_id(&id).filter(should_stream) else {
            return;
        };
        let Some(secret) = view.peering_secrets(&id).and_then(|s| s.active) else {
            return;
        };
        let addrs = dial_addresses(&row);
        if ring.one_turn().iter().collect::<BTreeSet<_>>() != addrs.iter().collect() {
            ring.replace(addrs);
        }
        let attempt = connect(&agent, &row, &secret, &mut ring).await;
        let kind = match attempt {
            Ok(stream) => {
                let started = tokio::time::Instant::now();
                let end = driver::run(
                    agent.clone(),
                    driver::Spec {
                        role: Role::Dialer,
                        peering_id: id.clone(),
                    },
                    stream.outbound,
                    Box::pin(stream.inbound),
                    token.child_token(),
                )
                .await;
                if end.is_final() || token.is_cancelled() {
                    return;
                }
                if started.elapsed() >= STABLE_STREAM {
                    // A stream that was up for a while: reconnect at once (a new leader, say).
                    failures = 0;
                    continue;
                }
                FailureKind::Other
            }
            Err((kind, error)) => {
                agent
                    .peering()
                    .registry()
                    .dial_failed(&id, error.clone(), SystemTime::now());
                tracing::warn!(target: "agent.peering", peer = %row.name, %error, "failed to open the peering stream");
                kind
            }
        };
        failures += 1;
        let wait = next_backoff(kind, failures);
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Dial `row` and open its stream.
async fn connect(
    agent: &Agent,
    row: &Peering,
    secret: &str,
    ring: &mut AddressRing,
) -> Result<legate_peerstream::DialedStream, (FailureKind, String)> {
    let other = |e: String| (FailureKind::Other, e);
    let cert = agent
        .peering()
        .cert()
        .get()
        .ok_or_else(|| other("no peering server certificate yet".to_string()))?;
    let identity = ClientIdentity::from_pem(&cert.cert_pem, &cert.key_pem)
        .map_err(|e| other(e.to_string()))?;
    let tls = ClientTls::new(&row.peer_ca_pems, &row.peer_server_name, Some(identity))
        .map_err(|e| other(format!("peering TLS: {e}")))?;
    let mut dialer = PeerDialer::new(ring.clone(), tls);
    let open = Open {
        peer_id: row.peer_id.clone(),
        stream_secret_id: secret.to_string(),
        remote: Some(Remote {
            datacenter: agent.node().datacenter.clone(),
            partition: String::new(),
            locality: None,
        }),
    };
    let result = dialer.open_stream(open).await;
    *ring = dialer.ring().clone();
    result.map_err(|e| (e.failure_kind(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use legate_state::Store;
    use legate_state::command::Command;
    use legate_state::model::SecretsWrite;

    use super::*;

    fn dialer(id: &str, name: &str) -> Peering {
        Peering {
            id: id.into(),
            name: name.into(),
            peer_server_addresses: vec!["10.0.0.1:8503".into()],
            ..Peering::default()
        }
    }

    #[test]
    fn dials_live_dialer_rows_with_an_active_secret() {
        let store = Store::new();
        let mut index = 0;
        let mut apply = |c| {
            index += 1;
            store.apply(index, c)
        };
        let establish = |s: &str| {
            Some(SecretsWrite::Establish {
                active: s.to_string(),
            })
        };
        apply(Command::PeeringWrite {
            peering: dialer("a", "alpha"),
            secrets: establish("s1"),
        });
        apply(Command::PeeringWrite {
            peering: dialer("b", "beta"),
            secrets: None,
        });
        apply(Command::PeeringWrite {
            peering: Peering {
                id: "c".into(),
                name: "acceptor".into(),
                ..Peering::default()
            },
            secrets: None,
        });
        apply(Command::PeeringWrite {
            peering: dialer("d", "gone"),
            secrets: establish("s2"),
        });
        apply(Command::PeeringDelete {
            name: "gone".into(),
        });
        let got = dialable(&store.view());
        assert_eq!(got.into_iter().collect::<Vec<_>>(), vec!["a".to_string()]);
    }

    #[test]
    fn manual_addresses_win() {
        let mut row = dialer("a", "alpha");
        assert_eq!(dial_addresses(&row), vec!["10.0.0.1:8503"]);
        row.manual_server_addresses = vec!["lb:443".into()];
        assert_eq!(dial_addresses(&row), vec!["lb:443"]);
    }
}
