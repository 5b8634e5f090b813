//! The peering port (`ports.grpc_tls`) of a server with peering and Connect enabled: keep this
//! server's peering certificate issued from the active CA root (issued when the root appears,
//! re-issued on rotation and at half-life), and serve the peer stream on every TCP
//! `grpc_tls` listener with that certificate. Client chains are trusted when they verify
//! against any peer trust bundle in the state store ([`StoreTrust`], read at handshake time,
//! so a bundle stored by `ExchangeSecret` is trusted by the very next handshake).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use legate_config::ListenAddr;
use legate_peerstream::tls::PeerTrust;
use legate_peerstream::tls::ServerTls;
use legate_peerstream::tls::StaticTrust;
use legate_peerstream::tls::TrustBundle;
use legate_peerstream::tls::TrustError;
use legate_state::Table;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;
use time::OffsetDateTime;

use super::cert;
use super::handler::AgentPeerHandler;
use crate::agent::Agent;

/// How often the certificate's age is checked when the CA does not change.
const RECHECK: Duration = Duration::from_secs(600);

/// Trust in every peer bundle the state store holds.
pub struct StoreTrust {
    agent: Arc<Agent>,
}

impl StoreTrust {
    /// Trust what the peering trust bundles in `agent`'s state store sign.
    pub fn new(agent: Arc<Agent>) -> StoreTrust {
        StoreTrust { agent }
    }
}

impl fmt::Debug for StoreTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreTrust").finish_non_exhaustive()
    }
}

impl PeerTrust for StoreTrust {
    fn verify(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Result<(), TrustError> {
        let bundles = self
            .agent
            .server()
            .store()
            .view()
            .trust_bundles()
            .iter()
            .filter_map(|b| TrustBundle::from_pems(&b.root_pems).ok())
            .collect();
        StaticTrust::new(bundles).verify(chain, now)
    }
}

/// Keep the certificate current and serve the peering port until shutdown. Returns at once
/// unless this is a server with peering and Connect enabled.
pub async fn run(agent: Arc<Agent>) {
    let config = agent.config();
    if !config.server || !config.peering_enabled || !config.connect.enabled {
        return;
    }
    let shutdown = agent.shutdown_token();
    let dc = agent.node().datacenter.clone();
    let mut tls: Option<ServerTls> = None;
    loop {
        let view = agent.server().store().view();
        let seen = view.table_index(Table::ConnectCa);
        let ca = view.ca_state();
        let now = OffsetDateTime::now_utc();
        let current = agent.peering().cert().get();
        if cert::needs_reissue(current.as_ref(), &ca, now) {
            match cert::issue(&ca, &dc, now) {
                Ok(Some(fresh)) => {
                    tracing::info!(target: "agent.peering", root_id = %fresh.root_id, "issued peering server certificate");
                    agent.peering().cert().set(fresh.clone());
                    match &tls {
                        Some(tls) => {
                            if let Err(err) = tls.set_certificate(&fresh.cert_pem, &fresh.key_pem) {
                                tracing::error!(target: "agent.peering", error = %err, "failed to rotate the peering certificate");
                            }
                        }
                        None => tls = start_port(&agent, &fresh).await,
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(target: "agent.peering", error = %err, "failed to issue the peering server certificate");
                }
            }
        }
        let store = agent.server().store();
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = store.wait_change(&[Table::ConnectCa], seen, tokio::time::sleep(RECHECK)) => {}
        }
    }
}

/// Bind every TCP `grpc_tls` listener and serve the peer stream on it; `None` when there is
/// nothing to serve (no listener, or the TLS setup failed).
async fn start_port(agent: &Arc<Agent>, cert: &cert::ServerCert) -> Option<ServerTls> {
    let config = agent.config();
    let addrs: Vec<_> = config
        .grpc_tls_addrs
        .iter()
        .filter_map(|a| match a {
            ListenAddr::Tcp(addr) => Some(*addr),
            ListenAddr::Unix(_) => None,
        })
        .collect();
    if addrs.is_empty() {
        return None;
    }
    let trust = Arc::new(StoreTrust::new(agent.clone()));
    let tls = match ServerTls::new(&cert.cert_pem, &cert.key_pem, trust) {
        Ok(tls) => tls,
        Err(err) => {
            tracing::error!(target: "agent.peering", error = %err, "peering port TLS setup failed");
            return None;
        }
    };
    let handler = Arc::new(AgentPeerHandler::new(agent.clone()));
    for addr in addrs {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(target: "agent.peering", %addr, error = %err, "failed to bind the peering port");
                continue;
            }
        };
        tracing::info!(target: "agent.peering", "Started peering gRPC TLS server: address={addr}");
        let tls = tls.clone();
        let handler = handler.clone();
        let shutdown = agent.shutdown_token();
        tokio::spawn(async move {
            let stop = shutdown.cancelled_owned();
            if let Err(err) = legate_peerstream::serve(listener, &tls, handler, stop).await {
                tracing::error!(target: "agent.peering", error = %err, "peering port failed");
            }
        });
    }
    Some(tls)
}
