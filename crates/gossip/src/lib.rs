//! Legate's LAN/WAN gossip: SWIM failure detection and membership from foca, and
//! our own serf layer on top (member tags and statuses, join/update/leave/failed/
//! reap events, Lamport clocks, user events, queries), an AES-GCM keyring with
//! pool-wide operations (list/install/use/remove over queries, saved to Consul's
//! keyring file), and an I/O shell on one UDP socket plus TCP for join/push-pull. The wire format is ours; it does
//! not interoperate with HashiCorp agents.
//!
//! Layers: [`Core`] is a pure state machine (time is an argument, I/O is returned as
//! [`Output`]); [`Gossip`] runs it on tokio sockets and timers.

mod clock;
mod config;
mod coordinates;
mod core;
mod crypto;
mod error;
mod event;
mod gossip;
mod identity;
mod keyring;
mod keyring_file;
mod keyring_ops;
mod member;
mod member_snapshot;
mod message;
mod query;
mod serf;
mod transport;
mod user_events;

pub use crate::clock::LamportClock;
pub use crate::config::{
    DEFAULT_RECONNECT_TIMEOUT, DEFAULT_TOMBSTONE_TIMEOUT, DEFAULT_USER_EVENT_SIZE_LIMIT,
    GossipConfig, Profile,
};
pub use crate::core::{Core, CoreConfig, Output};
pub use crate::error::{GossipError, KeyringError, SecurityError};
pub use crate::event::{GossipEvent, UserEvent};
pub use crate::gossip::{Gossip, GossipStats};
pub use crate::identity::NodeId;
pub use crate::keyring::{Keyring, SecretKey};
pub use crate::keyring_file::{
    KeyringFileError, LAN_KEYRING_FILE, read_keyring_file, setup_keyring, write_keyring_file,
};
pub use crate::keyring_ops::{KeyResponse, KeyringOp};
pub use crate::member::{Member, MemberStatus, Tags};
pub use crate::member_snapshot::{
    Clocks, LAN_SNAPSHOT_FILE, MemberSnapshot, MemberSnapshotError, read_member_snapshot,
    write_member_snapshot,
};
pub use crate::message::DecodeError;
pub use crate::query::IncomingQuery;
