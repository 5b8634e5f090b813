//! The secret exchange of `POST /v1/peering/establish`: the dialer hands the acceptor the
//! token's establishment secret (and its own CA, so the acceptor can authenticate the stream
//! later) and gets a stream secret back. The transport lives elsewhere (the peer-stream
//! client); the agent only holds a [`SecretExchanger`] trait object, so the HTTP handler can be
//! tested with a fake. Servers install the real one (`peering::exchanger`) when peering is
//! enabled; elsewhere [`NoTransport`] answers every exchange with
//! [`ExchangeError::Unavailable`].

use futures::future::BoxFuture;
use legate_peering::PeeringToken;

/// What the dialer sends in an exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRequest {
    /// The decoded, validated token (addresses, CA, server name, peer ID, secret).
    pub token: PeeringToken,
    /// This cluster's Connect CA root PEMs (each with a trailing newline).
    pub local_ca_pems: Vec<String>,
    /// This cluster's trust domain (`<cluster id>.consul`).
    pub local_trust_domain: String,
    /// This cluster's datacenter.
    pub local_datacenter: String,
}

/// Why an exchange failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The acceptor refused the secret (unknown, already used, or replaced by a newer token):
    /// retrying cannot help. HTTP 403.
    #[error("a new peering token must be generated: {0}")]
    PermissionDenied(String),
    /// No acceptor server could be reached or answered; the message lists the dial errors.
    #[error("{0}")]
    Unavailable(String),
}

/// Performs secret exchanges for establish.
pub trait SecretExchanger: Send + Sync {
    /// Exchange `request.token`'s establishment secret for a stream secret.
    fn exchange<'a>(
        &'a self,
        request: &'a ExchangeRequest,
    ) -> BoxFuture<'a, Result<String, ExchangeError>>;
}

/// The exchanger of an agent that runs no peering transport: always unavailable.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTransport;

impl SecretExchanger for NoTransport {
    fn exchange<'a>(
        &'a self,
        _request: &'a ExchangeRequest,
    ) -> BoxFuture<'a, Result<String, ExchangeError>> {
        Box::pin(async {
            Err(ExchangeError::Unavailable(
                "the peering transport is not running on this agent".to_string(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_transport_is_unavailable() {
        let request = ExchangeRequest {
            token: PeeringToken::default(),
            local_ca_pems: Vec::new(),
            local_trust_domain: "x.consul".into(),
            local_datacenter: "dc1".into(),
        };
        assert_eq!(
            NoTransport.exchange(&request).await,
            Err(ExchangeError::Unavailable(
                "the peering transport is not running on this agent".into()
            ))
        );
        assert_eq!(
            ExchangeError::PermissionDenied("bad secret".into()).to_string(),
            "a new peering token must be generated: bad secret"
        );
    }
}
