//! The cluster-peering runtime of a server: the peering port with its certificate
//! ([`tls_port`], [`cert`]), the acceptor's answers ([`handler`]), the real secret exchange
//! ([`exchanger`]), the leader's dialer manager ([`dialer`]), the stream driver for both ends
//! ([`driver`], with [`export`] and [`import`]), and the leader-local link registry
//! ([`registry`]) the read API turns into live State and StreamStatus ([`status`]).

pub mod cert;
pub mod dialer;
pub mod driver;
pub mod exchanger;
pub mod export;
pub mod handler;
pub mod import;
pub mod registry;
pub mod status;
pub mod tls_port;

use std::sync::Arc;
use std::sync::RwLock;

use legate_peerstream::SessionConfig;

use crate::agent::Agent;

/// What the agent holds for peering.
#[derive(Debug, Default)]
pub struct PeeringRuntime {
    registry: registry::Registry,
    cert: cert::CertSlot,
    session: RwLock<SessionConfig>,
}

impl PeeringRuntime {
    /// The leader-local link registry.
    pub fn registry(&self) -> &registry::Registry {
        &self.registry
    }

    /// This server's peering certificate.
    pub fn cert(&self) -> &cert::CertSlot {
        &self.cert
    }

    /// Stream tunables (heartbeats) for new streams.
    pub fn session_config(&self) -> SessionConfig {
        self.session
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replace the stream tunables for streams started from now on (tests shorten heartbeats).
    pub fn set_session_config(&self, config: SessionConfig) {
        *self.session.write().unwrap_or_else(|p| p.into_inner()) = config;
    }
}

/// Start the peering runtime of a server with peering enabled: the real secret exchanger,
/// the peering port and the dialer manager. Does nothing on client agents.
pub fn start(agent: &Arc<Agent>) {
    let config = agent.config();
    if !config.server || !config.peering_enabled {
        return;
    }
    agent.set_peering_exchanger(Arc::new(exchanger::TransportExchanger));
    tokio::spawn(tls_port::run(agent.clone()));
    tokio::spawn(dialer::run(agent.clone()));
}
