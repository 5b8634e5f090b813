//! The protocol of one peering stream as a state machine with no sockets and no clock of its
//! own: messages in ([`Session::on_received`]) become [`Inbound`] events for the agent;
//! messages out are built by the session (subscriptions, resource parts with fresh nonces,
//! ACK/NACK, heartbeats) and reported back once sent ([`Session::on_sent`]). The session keeps
//! the subscriptions both ways, the resources awaiting the peer's ACK, the heartbeat schedule,
//! the part assembler and the peering's [`Tracker`].

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;
use std::time::SystemTime;

use prost::Message;

use crate::heartbeat::HeartbeatAction;
use crate::heartbeat::HeartbeatClock;
use crate::nonce::NonceCounter;
use crate::parts::AssembledResource;
use crate::parts::Assembler;
use crate::parts::DEFAULT_MAX_PART_BYTES;
use crate::pb;
use crate::pb::ReplicationMessage;
use crate::pb::replication_message::Heartbeat;
use crate::pb::replication_message::Open;
use crate::pb::replication_message::Payload;
use crate::pb::replication_message::Request;
use crate::pb::replication_message::Response;
use crate::pb::replication_message::Terminated;
use crate::resource::ResourceUrl;
use crate::tracker::Tracker;

/// Which end of the peering this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Established the peering with a token and opens the stream.
    Dialer,
    /// Generated the token and accepts the stream.
    Acceptor,
}

impl Role {
    /// The other end.
    pub fn peer(self) -> Role {
        match self {
            Role::Dialer => Role::Acceptor,
            Role::Acceptor => Role::Dialer,
        }
    }
}

/// Tunables of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// How often to send a heartbeat (default 15 s).
    pub heartbeat_interval: Duration,
    /// How long without a heartbeat from the peer before the stream is dead (default 2 min).
    pub heartbeat_timeout: Duration,
    /// Largest part the sender makes (default 4 MiB).
    pub max_part_bytes: usize,
    /// Most bytes of incomplete resources the receiver holds (default 256 MiB).
    pub max_pending_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            heartbeat_interval: Duration::from_secs(15),
            heartbeat_timeout: Duration::from_secs(120),
            max_part_bytes: DEFAULT_MAX_PART_BYTES,
            max_pending_bytes: 256 << 20,
        }
    }
}

/// What a received message means for the agent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Inbound {
    /// The peer subscribed to this resource for the first time: start exporting it.
    Subscribed(ResourceUrl),
    /// A repeated subscription: nothing to do.
    AlreadySubscribed(ResourceUrl),
    /// The peer accepted one of our resources.
    Acked {
        /// The resource's nonce.
        nonce: String,
        /// Its URL.
        resource_url: ResourceUrl,
        /// Its ID.
        resource_id: String,
    },
    /// The peer refused one of our resources.
    Nacked {
        /// The resource's nonce.
        nonce: String,
        /// Its URL.
        resource_url: ResourceUrl,
        /// Its ID.
        resource_id: String,
        /// Why.
        error: pb::Error,
    },
    /// A complete resource to import; answer with [`Session::ack`] or [`Session::nack`].
    Resource(AssembledResource),
    /// One part of a resource arrived; more are coming.
    Partial,
    /// A resource was refused before reaching the agent; send `reply` (its NACK).
    Refused {
        /// The NACK to send.
        reply: ReplicationMessage,
        /// Why, for logs.
        error: String,
    },
    /// The peer's heartbeat.
    Heartbeat,
    /// The peer deleted the peering.
    Terminated,
    /// Something harmless to log and drop (an ACK for a nonce we never sent).
    Ignored(String),
}

/// A protocol violation that ends the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A message with no payload.
    #[error("message has no payload")]
    EmptyMessage,
    /// `Open` after the stream was open.
    #[error("unexpected Open on an open stream")]
    UnexpectedOpen,
    /// A subscription to a URL we do not know.
    #[error("subscription request to unknown resource URL {0:?}")]
    UnknownResourceUrl(String),
    /// A subscription the peer's role may not make.
    #[error("the {role:?} end may not subscribe to {url}")]
    NotSubscribable {
        /// The URL.
        url: ResourceUrl,
        /// The subscriber's role.
        role: Role,
    },
    /// We tried to send a resource the peer has not subscribed to.
    #[error("the peer has not subscribed to {0}")]
    NotSubscribed(ResourceUrl),
    /// We tried to send a resource with no parts.
    #[error("a resource needs at least one part")]
    NoParts,
}

/// A resource we sent and the peer has not answered yet.
#[derive(Debug, Clone)]
struct PendingAck {
    resource_url: ResourceUrl,
    resource_id: String,
}

/// One peering stream's protocol state.
#[derive(Debug)]
pub struct Session {
    role: Role,
    config: SessionConfig,
    nonces: NonceCounter,
    heartbeat: HeartbeatClock,
    /// What we subscribed to (the peer sends us these).
    subscribed: BTreeSet<ResourceUrl>,
    /// What the peer subscribed to (we may send these).
    peer_subscribed: BTreeSet<ResourceUrl>,
    pending_acks: BTreeMap<String, PendingAck>,
    assembler: Assembler,
    tracker: Tracker,
}

impl Session {
    /// A stream that came up at `now`; `tracker` carries the peering's history.
    pub fn new(
        role: Role,
        config: SessionConfig,
        mut tracker: Tracker,
        now: SystemTime,
    ) -> Session {
        tracker.connected(now);
        Session {
            role,
            heartbeat: HeartbeatClock::new(
                config.heartbeat_interval,
                config.heartbeat_timeout,
                now,
            ),
            assembler: Assembler::new(config.max_pending_bytes),
            config,
            nonces: NonceCounter::new(),
            subscribed: BTreeSet::new(),
            peer_subscribed: BTreeSet::new(),
            pending_acks: BTreeMap::new(),
            tracker,
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The peering's tracker.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// Resources sent and not yet ACKed or NACKed.
    pub fn pending_acks(&self) -> usize {
        self.pending_acks.len()
    }

    /// Whether the peer subscribed to `url`.
    pub fn peer_subscribed(&self, url: ResourceUrl) -> bool {
        self.peer_subscribed.contains(&url)
    }

    /// The stream ended at `now` (with the error if it failed): hand the tracker back.
    pub fn close(mut self, error: Option<String>, now: SystemTime) -> Tracker {
        self.tracker.disconnected(error, now);
        self.tracker
    }

    /// The dialer's first message.
    pub fn open_message(
        peer_id: &str,
        stream_secret_id: &str,
        remote: Option<pb::Remote>,
    ) -> ReplicationMessage {
        wrap(Payload::Open(Open {
            peer_id: peer_id.to_string(),
            stream_secret_id: stream_secret_id.to_string(),
            remote,
        }))
    }

    /// This end's subscriptions, sent when the stream starts (all resources our role imports).
    pub fn subscriptions(&mut self) -> Vec<ReplicationMessage> {
        ResourceUrl::subscriptions_for(self.role)
            .into_iter()
            .map(|url| {
                self.subscribed.insert(url);
                wrap(Payload::Request(Request {
                    resource_url: url.as_str().to_string(),
                    response_nonce: String::new(),
                    error: None,
                }))
            })
            .collect()
    }

    /// The messages carrying one resource: `parts` (from [`crate::split_parts`] or
    /// [`crate::single_part`]) under one fresh nonce, awaiting the peer's ACK.
    pub fn resource_messages(
        &mut self,
        url: ResourceUrl,
        resource_id: &str,
        parts: Vec<Vec<u8>>,
        exporter_index: u64,
        exporter_commit_unix_ms: i64,
    ) -> Result<Vec<ReplicationMessage>, SessionError> {
        if !self.peer_subscribed.contains(&url) {
            return Err(SessionError::NotSubscribed(url));
        }
        if parts.is_empty() {
            return Err(SessionError::NoParts);
        }
        let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let nonce = self.nonces.next_nonce();
        self.pending_acks.insert(
            nonce.clone(),
            PendingAck {
                resource_url: url,
                resource_id: resource_id.to_string(),
            },
        );
        self.tracker.set_pending_acks(self.pending_acks.len());
        Ok((0..count)
            .zip(parts)
            .map(|(part, resource)| {
                wrap(Payload::Response(Response {
                    nonce: nonce.clone(),
                    resource_url: url.as_str().to_string(),
                    resource_id: resource_id.to_string(),
                    resource,
                    part,
                    parts: count,
                    exporter_index,
                    exporter_commit_unix_ms,
                }))
            })
            .collect())
    }

    /// The ACK of a received resource, once the agent applied it.
    pub fn ack(&self, resource: &AssembledResource) -> ReplicationMessage {
        answer(&resource.resource_url, &resource.nonce, None)
    }

    /// The NACK of a received resource the agent could not apply.
    pub fn nack(
        &self,
        resource: &AssembledResource,
        code: tonic::Code,
        message: &str,
    ) -> ReplicationMessage {
        let error = pb::Error {
            code: code as i32,
            message: message.to_string(),
        };
        answer(&resource.resource_url, &resource.nonce, Some(error))
    }

    /// A heartbeat message.
    pub fn heartbeat_message() -> ReplicationMessage {
        wrap(Payload::Heartbeat(Heartbeat {}))
    }

    /// The message telling the peer we deleted the peering.
    pub fn terminated_message() -> ReplicationMessage {
        wrap(Payload::Terminated(Terminated {}))
    }

    /// What to do about heartbeats at `now`; on `Send`, send [`Session::heartbeat_message`].
    pub fn poll_heartbeat(&mut self, now: SystemTime) -> HeartbeatAction {
        self.heartbeat.poll(now)
    }

    /// `msg` was sent at `now`.
    pub fn on_sent(&mut self, msg: &ReplicationMessage, now: SystemTime) {
        let heartbeat = matches!(msg.payload, Some(Payload::Heartbeat(_)));
        self.tracker.sent(msg.encoded_len(), heartbeat, now);
    }

    /// Sending failed at `now`.
    pub fn on_send_failed(&mut self, error: String, now: SystemTime) {
        self.tracker.send_failed(error, now);
    }

    /// The agent applied a received resource at `applied_at` (replication lag).
    pub fn on_applied(&mut self, resource: &AssembledResource, applied_at: SystemTime) {
        self.tracker
            .applied(resource.exporter_commit_unix_ms, applied_at);
    }

    /// Take a message received at `now`. An error is a protocol violation: end the stream.
    pub fn on_received(
        &mut self,
        msg: ReplicationMessage,
        now: SystemTime,
    ) -> Result<Inbound, SessionError> {
        let heartbeat = matches!(msg.payload, Some(Payload::Heartbeat(_)));
        self.tracker.received(msg.encoded_len(), heartbeat, now);
        let result = match msg.payload {
            None => Err(SessionError::EmptyMessage),
            Some(Payload::Open(_)) => Err(SessionError::UnexpectedOpen),
            Some(Payload::Heartbeat(_)) => {
                self.heartbeat.received(now);
                Ok(Inbound::Heartbeat)
            }
            Some(Payload::Terminated(_)) => Ok(Inbound::Terminated),
            Some(Payload::Request(req)) => self.on_request(req, now),
            Some(Payload::Response(resp)) => Ok(self.on_response(resp, now)),
        };
        match &result {
            Err(err) => self.tracker.receive_failed(err.to_string(), now),
            Ok(Inbound::Refused { error, .. }) => {
                self.tracker.receive_failed(error.clone(), now);
            }
            Ok(Inbound::Resource(_)) => self.tracker.resource_received(now),
            Ok(_) => {}
        }
        result
    }

    fn on_request(&mut self, req: Request, now: SystemTime) -> Result<Inbound, SessionError> {
        if req.response_nonce.is_empty() {
            let url = ResourceUrl::parse(&req.resource_url)
                .ok_or_else(|| SessionError::UnknownResourceUrl(req.resource_url.clone()))?;
            let role = self.role.peer();
            if !url.subscribable_by(role) {
                return Err(SessionError::NotSubscribable { url, role });
            }
            return Ok(if self.peer_subscribed.insert(url) {
                Inbound::Subscribed(url)
            } else {
                Inbound::AlreadySubscribed(url)
            });
        }
        let Some(pending) = self.pending_acks.remove(&req.response_nonce) else {
            return Ok(Inbound::Ignored(format!(
                "answer for unknown nonce {:?}",
                req.response_nonce
            )));
        };
        self.tracker.set_pending_acks(self.pending_acks.len());
        let nonce = req.response_nonce;
        Ok(match req.error {
            None => {
                self.tracker.acked(now);
                Inbound::Acked {
                    nonce,
                    resource_url: pending.resource_url,
                    resource_id: pending.resource_id,
                }
            }
            Some(error) => {
                self.tracker.nacked(error.message.clone(), now);
                Inbound::Nacked {
                    nonce,
                    resource_url: pending.resource_url,
                    resource_id: pending.resource_id,
                    error,
                }
            }
        })
    }

    fn on_response(&mut self, resp: Response, _now: SystemTime) -> Inbound {
        let refuse = |url: &str, nonce: &str, error: String| Inbound::Refused {
            reply: answer(
                url,
                nonce,
                Some(pb::Error {
                    code: tonic::Code::InvalidArgument as i32,
                    message: error.clone(),
                }),
            ),
            error,
        };
        match ResourceUrl::parse(&resp.resource_url) {
            None => {
                let error = format!("unknown resource URL {:?}", resp.resource_url);
                return refuse(&resp.resource_url, &resp.nonce, error);
            }
            Some(url) if !self.subscribed.contains(&url) => {
                let error = format!("resource {url} was not subscribed to");
                return refuse(&resp.resource_url, &resp.nonce, error);
            }
            Some(_) => {}
        }
        let url = resp.resource_url.clone();
        match self.assembler.accept(resp) {
            Ok(Some(resource)) => Inbound::Resource(resource),
            Ok(None) => Inbound::Partial,
            Err(err) => {
                let nonce = err.nonce().to_string();
                refuse(&url, &nonce, err.to_string())
            }
        }
    }
}

fn wrap(payload: Payload) -> ReplicationMessage {
    ReplicationMessage {
        payload: Some(payload),
    }
}

fn answer(url: &str, nonce: &str, error: Option<pb::Error>) -> ReplicationMessage {
    wrap(Payload::Request(Request {
        resource_url: url.to_string(),
        response_nonce: nonce.to_string(),
        error,
    }))
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
