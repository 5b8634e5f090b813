//! The acceptor's answers on the peering port ([`AgentPeerHandler`]): followers redirect to
//! the leader; `ExchangeSecret` checks and consumes the establishment secret, mints the pending
//! stream secret through Raft and stores the dialer's CA as the peer's trust bundle;
//! `StreamResources` checks the stream secret (promoting a pending one through Raft), that the
//! dialer's certificate verifies against *this* peering's bundle and that this is the
//! accepting end, records the dialer's `Remote`, then runs the stream driver as acceptor.

use std::sync::Arc;

use futures::StreamExt;
use legate_peerstream::InboundStream;
use legate_peerstream::OutboundStream;
use legate_peerstream::PeerStreamHandler;
use legate_peerstream::Role;
use legate_peerstream::not_leader;
use legate_peerstream::pb::ExchangeSecretRequest;
use legate_peerstream::pb::ExchangeSecretResponse;
use legate_peerstream::pb::Remote;
use legate_peerstream::pb::replication_message::Open;
use legate_peerstream::tls::PeerChain;
use legate_peerstream::tls::PeerConnInfo;
use legate_peerstream::tls::TrustBundle;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::OpenOutcome;
use legate_state::model::Peering;
use legate_state::model::PeeringRemote;
use legate_state::model::PeeringTrustBundle;
use legate_state::model::SecretsWrite;
use rustls_pki_types::UnixTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::driver;
use crate::agent::Agent;

/// Room for outbound messages of one accepted stream.
const OUTBOUND_BUFFER: usize = 64;

/// The agent's [`PeerStreamHandler`].
pub struct AgentPeerHandler {
    agent: Arc<Agent>,
}

impl AgentPeerHandler {
    /// A handler answering for `agent`.
    pub fn new(agent: Arc<Agent>) -> AgentPeerHandler {
        AgentPeerHandler { agent }
    }

    /// `Ok` on the established leader, else the redirect.
    fn require_leader(&self) -> Result<(), Status> {
        let consensus = self.agent.server().consensus();
        if consensus.is_established_leader() {
            return Ok(());
        }
        let leader = leader_peering_addr(&self.agent);
        Err(not_leader(leader.as_deref()))
    }

    async fn write(&self, command: Command) -> Result<(), Status> {
        match self.agent.server().write(command).await {
            Ok(CommandResult::Rejected(message)) => Err(Status::permission_denied(message)),
            Ok(_) => Ok(()),
            Err(err) => Err(Status::unavailable(err.to_string())),
        }
    }

    /// The live acceptor row with ID `id`.
    fn acceptor_row(&self, id: &str) -> Result<Peering, Status> {
        let row = self
            .agent
            .server()
            .store()
            .view()
            .peering_by_id(id)
            .filter(Peering::is_active)
            .ok_or_else(|| Status::permission_denied("peering not found"))?;
        if row.should_dial() {
            return Err(Status::invalid_argument(
                "wrong end of peering: this cluster dials the peer",
            ));
        }
        Ok(row)
    }
}

/// The leader's peering address: its gossip address with its `grpc_tls_port` tag, else its
/// RPC host with our own `grpc_tls` port.
pub fn leader_peering_addr(agent: &Agent) -> Option<String> {
    let rpc = agent.server().consensus().leader_addr()?;
    let (host, rpc_port) = rpc.rsplit_once(':')?;
    let host = host.trim_matches(['[', ']']);
    let tagged = agent.lan().and_then(|lan| {
        lan.members().iter().find_map(|m| {
            let info = crate::membership::member_info(m);
            let same = info.address == host
                && info.tags.get("role").map(String::as_str) == Some("consul")
                && info.tags.get("port").map(String::as_str) == Some(rpc_port);
            same.then(|| info.tags.get("grpc_tls_port").cloned())
                .flatten()
        })
    });
    let port = tagged.or_else(|| agent.config().ports.grpc_tls.map(|p| p.to_string()))?;
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

fn remote_of(remote: Option<Remote>) -> PeeringRemote {
    remote.map_or_else(PeeringRemote::default, |r| PeeringRemote {
        partition: r.partition,
        datacenter: r.datacenter,
        locality: r.locality.map(|l| legate_state::model::Locality {
            region: l.region,
            zone: l.zone,
        }),
    })
}

impl PeerStreamHandler for AgentPeerHandler {
    async fn exchange_secret(
        &self,
        request: ExchangeSecretRequest,
        _conn: PeerConnInfo,
    ) -> Result<ExchangeSecretResponse, Status> {
        self.require_leader()?;
        let row = self.acceptor_row(&request.peer_id)?;
        let secrets = self
            .agent
            .server()
            .store()
            .view()
            .peering_secrets(&row.id)
            .ok_or_else(|| Status::permission_denied("no known secrets for peering"))?;
        let pending = uuid::Uuid::new_v4().to_string();
        secrets
            .exchange(&request.establishment_secret, pending.clone())
            .map_err(|e| Status::permission_denied(e.to_string()))?;
        if request.dialer_ca_pems.is_empty() {
            return Err(Status::invalid_argument(
                "the dialer's CA roots are required",
            ));
        }
        TrustBundle::from_pems(&request.dialer_ca_pems)
            .map_err(|e| Status::invalid_argument(format!("dialer CA roots: {e}")))?;
        self.write(Command::PeeringSecretsWrite {
            peering_id: row.id.clone(),
            request: SecretsWrite::Exchange {
                establishment: request.establishment_secret.clone(),
                pending: pending.clone(),
            },
        })
        .await?;
        self.write(Command::PeeringTrustBundleWrite(PeeringTrustBundle {
            trust_domain: request.dialer_trust_domain,
            peer_name: row.name.clone(),
            root_pems: request.dialer_ca_pems,
            ..PeeringTrustBundle::default()
        }))
        .await
        .map_err(|s| Status::internal(s.message().to_string()))?;
        tracing::info!(target: "agent.peering", peer = %row.name, "exchanged peering secret");
        Ok(ExchangeSecretResponse {
            stream_secret: pending,
        })
    }

    async fn open_stream(
        &self,
        open: Open,
        peer: PeerChain,
        _conn: PeerConnInfo,
        inbound: InboundStream,
    ) -> Result<OutboundStream, Status> {
        self.require_leader()?;
        let row = self.acceptor_row(&open.peer_id)?;
        let view = self.agent.server().store().view();
        let bundle = view
            .trust_bundle(&row.name)
            .ok_or_else(|| Status::permission_denied("no trust bundle for this peering"))?;
        let bundle = TrustBundle::from_pems(&bundle.root_pems)
            .map_err(|e| Status::permission_denied(format!("peer trust bundle: {e}")))?;
        peer.verify_against(&bundle, UnixTime::now())
            .map_err(|e| Status::permission_denied(format!("peer certificate: {e}")))?;
        let secrets = view
            .peering_secrets(&row.id)
            .ok_or_else(|| Status::permission_denied("no known secrets for peering"))?;
        let outcome = secrets
            .open(&open.stream_secret_id)
            .map_err(|e| Status::permission_denied(e.to_string()))?;
        if matches!(outcome, OpenOutcome::Promoted(_)) {
            self.write(Command::PeeringSecretsWrite {
                peering_id: row.id.clone(),
                request: SecretsWrite::PromotePending {
                    active: open.stream_secret_id.clone(),
                },
            })
            .await?;
        }
        let remote = remote_of(open.remote);
        if !remote.is_empty() && remote != row.remote {
            let mut updated = row.clone();
            updated.remote = remote;
            self.write(Command::PeeringWrite {
                peering: updated,
                secrets: None,
            })
            .await?;
        }
        let (tx, rx) = mpsc::channel(OUTBOUND_BUFFER);
        let agent = self.agent.clone();
        let id = row.id.clone();
        tokio::spawn(async move {
            let end = driver::run(
                agent,
                driver::Spec {
                    role: Role::Acceptor,
                    peering_id: id.clone(),
                },
                tx,
                inbound,
                CancellationToken::new(),
            )
            .await;
            tracing::debug!(target: "agent.peering", peering_id = %id, ?end, "accepted stream ended");
        });
        Ok(Box::pin(ReceiverStream::new(rx).map(Ok)))
    }
}
