//! Two clusters' CAs, a test acceptor server and helpers shared by the tests.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use legate_connect::ClusterId;
use legate_connect::IssuedCert;
use legate_connect::RootCa;
use legate_connect::TrustDomain;
use legate_connect::server_name;
use legate_connect::sign_server_cert;
use legate_peerstream::Inbound;
use legate_peerstream::OutboundStream;
use legate_peerstream::PeerStreamHandler;
use legate_peerstream::ResourceUrl;
use legate_peerstream::Role;
use legate_peerstream::Session;
use legate_peerstream::SessionConfig;
use legate_peerstream::Tracker;
use legate_peerstream::not_leader;
use legate_peerstream::pb::ExchangeSecretRequest;
use legate_peerstream::pb::ExchangeSecretResponse;
use legate_peerstream::pb::replication_message::Open;
use legate_peerstream::split_parts;
use legate_peerstream::tls::ClientIdentity;
use legate_peerstream::tls::ClientTls;
use legate_peerstream::tls::PeerChain;
use legate_peerstream::tls::PeerConnInfo;
use legate_peerstream::tls::PeerTrust;
use legate_peerstream::tls::ServerTls;
use legate_peerstream::tls::TrustBundle;
use legate_peerstream::tls::TrustError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tonic::Status;

pub(crate) const PEER_ID: &str = "3b1f5bd6-5c1f-4c2e-8a4e-2d6c5a4f0c11";
pub(crate) const ESTABLISHMENT_SECRET: &str = "establishment-secret";
pub(crate) const STREAM_SECRET: &str = "stream-secret";

/// One cluster's CA and its servers' certificate.
pub(crate) struct Cluster {
    pub(crate) dc: String,
    pub(crate) trust_domain: TrustDomain,
    pub(crate) root: RootCa,
    pub(crate) server_cert: IssuedCert,
}

impl Cluster {
    pub(crate) fn new(dc: &str) -> Cluster {
        let now = OffsetDateTime::now_utc();
        let trust_domain = TrustDomain::from_cluster_id(ClusterId::generate().as_str());
        let root = RootCa::generate(&trust_domain, now).unwrap();
        let server_cert = sign_server_cert(&root, dc, &trust_domain, now).unwrap();
        Cluster {
            dc: dc.to_string(),
            trust_domain,
            root,
            server_cert,
        }
    }

    pub(crate) fn server_name(&self) -> String {
        server_name(&self.dc, &self.trust_domain)
    }

    pub(crate) fn ca_pems(&self) -> Vec<String> {
        vec![self.root.cert_pem().to_string()]
    }

    pub(crate) fn identity(&self) -> ClientIdentity {
        ClientIdentity::from_pem(
            &self.server_cert.cert_pem,
            &self.server_cert.private_key_pem,
        )
        .unwrap()
    }

    /// How a dialer in `self` verifies `acceptor` (token CA + server name), presenting our
    /// certificate when `with_identity`.
    pub(crate) fn client_tls(&self, acceptor: &Cluster, with_identity: bool) -> ClientTls {
        ClientTls::new(
            &acceptor.ca_pems(),
            &acceptor.server_name(),
            with_identity.then(|| self.identity()),
        )
        .unwrap()
    }
}

/// Trust bundles stored per peering, consulted at every handshake (the state store's role).
#[derive(Debug, Default)]
pub(crate) struct Bundles {
    by_peer: Mutex<Vec<(String, TrustBundle)>>,
}

impl Bundles {
    pub(crate) fn store(&self, peer_id: &str, ca_pems: &[String]) -> Result<(), Status> {
        let bundle =
            TrustBundle::from_pems(ca_pems).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let mut all = self.by_peer.lock().unwrap();
        all.retain(|(p, _)| p != peer_id);
        all.push((peer_id.to_string(), bundle));
        Ok(())
    }

    pub(crate) fn get(&self, peer_id: &str) -> Option<TrustBundle> {
        let all = self.by_peer.lock().unwrap();
        all.iter()
            .find(|(p, _)| p == peer_id)
            .map(|(_, b)| b.clone())
    }
}

impl PeerTrust for Bundles {
    fn verify(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Result<(), TrustError> {
        let all = self.by_peer.lock().unwrap();
        let mut last = TrustError::NoBundles;
        for (_, bundle) in all.iter() {
            match bundle.verify(chain, now) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// What the acceptor's session saw, reported to the test.
#[derive(Debug)]
pub(crate) enum Seen {
    Inbound(Inbound),
    Closed(Option<String>),
}

/// The acceptor's agent, for tests.
pub(crate) struct TestHandler {
    pub(crate) bundles: Arc<Bundles>,
    /// `Some(leader)`: act as a follower redirecting there.
    pub(crate) follower_of: Option<String>,
    /// Items of the big `exported-service` resource sent when the dialer subscribes.
    pub(crate) big_items: Vec<String>,
    pub(crate) opened: AtomicUsize,
    pub(crate) exchanged: AtomicUsize,
    pub(crate) seen: mpsc::UnboundedSender<Seen>,
}

impl TestHandler {
    pub(crate) fn new(bundles: Arc<Bundles>) -> (TestHandler, mpsc::UnboundedReceiver<Seen>) {
        let (seen, rx) = mpsc::unbounded_channel();
        let handler = TestHandler {
            bundles,
            follower_of: None,
            big_items: Vec::new(),
            opened: AtomicUsize::new(0),
            exchanged: AtomicUsize::new(0),
            seen,
        };
        (handler, rx)
    }
}

impl PeerStreamHandler for TestHandler {
    async fn exchange_secret(
        &self,
        request: ExchangeSecretRequest,
        _conn: PeerConnInfo,
    ) -> Result<ExchangeSecretResponse, Status> {
        if let Some(leader) = &self.follower_of {
            return Err(not_leader(Some(leader)));
        }
        if request.peer_id != PEER_ID || request.establishment_secret != ESTABLISHMENT_SECRET {
            return Err(Status::permission_denied("invalid establishment secret"));
        }
        self.bundles
            .store(&request.peer_id, &request.dialer_ca_pems)?;
        self.exchanged.fetch_add(1, Ordering::SeqCst);
        Ok(ExchangeSecretResponse {
            stream_secret: STREAM_SECRET.to_string(),
        })
    }

    async fn open_stream(
        &self,
        open: Open,
        peer: PeerChain,
        _conn: PeerConnInfo,
        mut inbound: legate_peerstream::InboundStream,
    ) -> Result<OutboundStream, Status> {
        if let Some(leader) = &self.follower_of {
            return Err(not_leader(Some(leader)));
        }
        let bundle = self
            .bundles
            .get(&open.peer_id)
            .ok_or_else(|| Status::permission_denied("unknown peering"))?;
        peer.verify_against(&bundle, UnixTime::now()).map_err(|e| {
            Status::permission_denied(format!("certificate not from this peer: {e}"))
        })?;
        if open.stream_secret_id != STREAM_SECRET {
            return Err(Status::permission_denied("invalid stream secret"));
        }
        self.opened.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel(16);
        let seen = self.seen.clone();
        let big = split_parts(&self.big_items, legate_peerstream::DEFAULT_MAX_PART_BYTES).unwrap();
        tokio::spawn(async move {
            let now = std::time::SystemTime::now;
            let mut session = Session::new(
                Role::Acceptor,
                SessionConfig::default(),
                Tracker::new(),
                now(),
            );
            let mut out = session.subscriptions();
            out.push(Session::heartbeat_message());
            for m in out {
                session.on_sent(&m, now());
                if tx.send(Ok(m)).await.is_err() {
                    return;
                }
            }
            let mut error = None;
            while let Some(msg) = inbound.next().await {
                let msg = match msg {
                    Ok(m) => m,
                    Err(status) => {
                        error = Some(status.message().to_string());
                        break;
                    }
                };
                let event = match session.on_received(msg, now()) {
                    Ok(event) => event,
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                };
                let replies = match &event {
                    Inbound::Subscribed(ResourceUrl::ExportedService) => session
                        .resource_messages(
                            ResourceUrl::ExportedService,
                            "web",
                            big.clone(),
                            42,
                            1_000,
                        )
                        .unwrap(),
                    Inbound::Resource(r) => vec![session.ack(r)],
                    Inbound::Refused { reply, .. } => vec![reply.clone()],
                    _ => vec![],
                };
                let _ = seen.send(Seen::Inbound(event));
                for m in replies {
                    session.on_sent(&m, now());
                    if tx.send(Ok(m)).await.is_err() {
                        break;
                    }
                }
            }
            let _ = seen.send(Seen::Closed(error));
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }
}

/// A running acceptor server.
pub(crate) struct Server {
    pub(crate) addr: String,
    pub(crate) handler: Arc<TestHandler>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serve `handler` with `cluster`'s server certificate on a free port.
pub(crate) async fn start(cluster: &Cluster, handler: TestHandler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let tls = ServerTls::new(
        &cluster.server_cert.cert_pem,
        &cluster.server_cert.private_key_pem,
        handler.bundles.clone(),
    )
    .unwrap();
    let handler = Arc::new(handler);
    let (stop, stopped) = oneshot::channel::<()>();
    let h = handler.clone();
    tokio::spawn(async move {
        legate_peerstream::serve(listener, &tls, h, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server {
        addr,
        handler,
        stop: Some(stop),
    }
}

/// An address nothing listens on.
pub(crate) async fn dead_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().to_string()
}

pub(crate) fn exchange_request(dialer: &Cluster) -> ExchangeSecretRequest {
    ExchangeSecretRequest {
        peer_id: PEER_ID.to_string(),
        establishment_secret: ESTABLISHMENT_SECRET.to_string(),
        dialer_ca_pems: dialer.ca_pems(),
        dialer_trust_domain: dialer.trust_domain.to_string(),
        dialer: None,
    }
}

pub(crate) fn open(secret: &str) -> Open {
    Open {
        peer_id: PEER_ID.to_string(),
        stream_secret_id: secret.to_string(),
        remote: None,
    }
}
