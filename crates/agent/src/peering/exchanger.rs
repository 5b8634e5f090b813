//! The real [`SecretExchanger`]: dial the token's addresses on the peering port (no client
//! certificate — the acceptor cannot know our CA yet), verify the acceptor against the token's
//! CA and server name, follow leader redirects, and trade the establishment secret (with our
//! CA roots and trust domain) for a stream secret. The acceptor's CA needs no separate write
//! here: establish stores it on the dialer row (`PeerCAPems`), and the acceptor's trust-bundle
//! resource stores it as our peer trust bundle as soon as the stream is up.

use futures::future::BoxFuture;
use legate_peerstream::AddressRing;
use legate_peerstream::DialError;
use legate_peerstream::PeerDialer;
use legate_peerstream::pb::ExchangeSecretRequest;
use legate_peerstream::pb::Remote;
use legate_peerstream::tls::ClientTls;
use tonic::Code;

use crate::peering_exchange::ExchangeError;
use crate::peering_exchange::ExchangeRequest;
use crate::peering_exchange::SecretExchanger;

/// Exchanges secrets over the peer stream transport.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransportExchanger;

impl SecretExchanger for TransportExchanger {
    fn exchange<'a>(
        &'a self,
        request: &'a ExchangeRequest,
    ) -> BoxFuture<'a, Result<String, ExchangeError>> {
        Box::pin(async move {
            let token = &request.token;
            let tls = ClientTls::new(&token.ca, &token.server_name, None)
                .map_err(|e| ExchangeError::Unavailable(format!("peering TLS: {e}")))?;
            let ring = AddressRing::new(token.dial_addresses().to_vec());
            let mut dialer = PeerDialer::new(ring, tls);
            let reply = dialer
                .exchange_secret(exchange_request(request))
                .await
                .map_err(map_error)?;
            Ok(reply.stream_secret)
        })
    }
}

/// The wire request for `request`.
pub fn exchange_request(request: &ExchangeRequest) -> ExchangeSecretRequest {
    ExchangeSecretRequest {
        peer_id: request.token.peer_id.clone(),
        establishment_secret: request.token.establishment_secret.clone(),
        dialer_ca_pems: request.local_ca_pems.clone(),
        dialer_trust_domain: request.local_trust_domain.clone(),
        dialer: Some(Remote {
            datacenter: request.local_datacenter.clone(),
            partition: String::new(),
            locality: None,
        }),
    }
}

/// A refused secret (or unknown peering) needs a new token; anything else is unavailability.
pub fn map_error(err: DialError) -> ExchangeError {
    match err.status().map(tonic::Status::code) {
        Some(Code::PermissionDenied | Code::NotFound) => {
            let message = err
                .status()
                .map(|s| s.message().to_string())
                .unwrap_or_default();
            ExchangeError::PermissionDenied(message)
        }
        _ => ExchangeError::Unavailable(format!("failed to exchange peering secret: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use legate_peering::PeeringToken;
    use tonic::Status;

    use super::*;

    #[test]
    fn refusals_need_a_new_token_and_the_rest_is_unavailable() {
        let rejected = |status| DialError::Rejected {
            addr: "a:1".into(),
            status,
        };
        assert_eq!(
            map_error(rejected(Status::permission_denied(
                "invalid establishment secret"
            ))),
            ExchangeError::PermissionDenied("invalid establishment secret".into())
        );
        assert!(matches!(
            map_error(rejected(Status::unavailable("down"))),
            ExchangeError::Unavailable(m) if m.contains("down")
        ));
        assert!(matches!(
            map_error(DialError::NoAddresses),
            ExchangeError::Unavailable(_)
        ));
    }

    #[test]
    fn request_carries_our_ca_and_identity() {
        let request = ExchangeRequest {
            token: PeeringToken {
                peer_id: "pid".into(),
                establishment_secret: "sec".into(),
                ..PeeringToken::default()
            },
            local_ca_pems: vec!["PEM\n".into()],
            local_trust_domain: "x.consul".into(),
            local_datacenter: "dc2".into(),
        };
        let wire = exchange_request(&request);
        assert_eq!(wire.peer_id, "pid");
        assert_eq!(wire.establishment_secret, "sec");
        assert_eq!(wire.dialer_ca_pems, vec!["PEM\n".to_string()]);
        assert_eq!(wire.dialer_trust_domain, "x.consul");
        assert_eq!(wire.dialer.unwrap().datacenter, "dc2");
    }
}
