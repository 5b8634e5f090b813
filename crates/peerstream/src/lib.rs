//! Legate's cluster-peering stream, everything below the agent:
//!
//! - the wire: our own protos (`legate.peering.v1`, [`pb`]) and resource URLs ([`ResourceUrl`]);
//! - the transport: mutual TLS built on rustls with aws-lc-rs ([`tls`]), a tonic server that
//!   hands every call to a [`PeerStreamHandler`] with the verified peer chain ([`server`]),
//!   and a dialer that cycles addresses and follows leader redirects ([`client`]);
//! - the pure session core: nonces, subscriptions, ACK/NACK bookkeeping, heartbeats and the
//!   per-peering [`Tracker`] ([`Session`]), splitting big resources into parts and putting them
//!   back together ([`split_parts`], [`Assembler`]), and the reconnect policy ([`next_backoff`]).
//!
//! It knows nothing of Raft, the state store or the catalog: the agent decides what a secret
//! is worth, which bundles are trusted and what a resource means.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod client;
mod heartbeat;
mod nonce;
mod parts;
mod resource;
pub mod server;
mod session;
mod status;
pub mod tls;
mod tracker;

/// Messages and gRPC stubs generated from `proto/peerstream.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("legate.peering.v1");
}

pub use backoff::AddressRing;
pub use backoff::FailureKind;
pub use backoff::next_backoff;
pub use client::DialError;
pub use client::DialedStream;
pub use client::PeerClient;
pub use client::PeerDialer;
pub use heartbeat::HeartbeatAction;
pub use heartbeat::HeartbeatClock;
pub use nonce::NonceCounter;
pub use parts::AssembledResource;
pub use parts::Assembler;
pub use parts::DEFAULT_MAX_PART_BYTES;
pub use parts::DecodeError;
pub use parts::MAX_MESSAGE_BYTES;
pub use parts::PartError;
pub use parts::single_part;
pub use parts::split_parts;
pub use resource::ResourceUrl;
pub use server::InboundStream;
pub use server::OutboundStream;
pub use server::PeerStreamHandler;
pub use server::serve;
pub use session::Inbound;
pub use session::Role;
pub use session::Session;
pub use session::SessionConfig;
pub use session::SessionError;
pub use status::LEADER_METADATA_KEY;
pub use status::leader_redirect;
pub use status::not_leader;
pub use tracker::Tracker;
pub use tracker::TrackerSnapshot;
