//! Our wire messages above SWIM: serf intents and user events (carried as foca custom
//! broadcasts) and the TCP push-pull state exchange. Encoded as a version byte plus
//! postcard.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::event::UserEvent;
use crate::identity::NodeId;
use crate::member::{Member, Tags};
use crate::query::QueryMessage;

/// Version byte leading every encoded message.
const VERSION: u8 = 1;

/// A message disseminated by piggybacking on SWIM traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SerfMessage {
    /// "Member `name` is alive at `addr` with `tags`", as of Lamport time `ltime`.
    Alive {
        name: String,
        addr: SocketAddr,
        tags: Tags,
        ltime: u64,
    },
    /// "Member `name` leaves" (graceful or forced), as of `ltime`; `prune` also forgets it.
    Leave {
        name: String,
        ltime: u64,
        prune: bool,
    },
    /// A user event.
    User(UserEvent),
    /// A query every member answers (see `query`).
    Query(QueryMessage),
}

impl SerfMessage {
    /// The dissemination key: newer intents about a member replace older ones.
    pub(crate) fn key(&self) -> BroadcastKey {
        match self {
            Self::Alive { name, ltime, .. } | Self::Leave { name, ltime, .. } => {
                BroadcastKey::Member {
                    name: name.clone(),
                    ltime: *ltime,
                }
            }
            Self::User(event) => BroadcastKey::User {
                ltime: event.ltime,
                name: event.name.clone(),
                payload_hash: payload_hash(&event.payload),
            },
            Self::Query(query) => BroadcastKey::Query {
                ltime: query.ltime,
                id: query.id,
            },
        }
    }
}

/// Identifies a custom broadcast inside foca's dissemination queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BroadcastKey {
    /// An intent about a member.
    Member { name: String, ltime: u64 },
    /// A user event.
    User {
        ltime: u64,
        name: String,
        payload_hash: u64,
    },
    /// A query.
    Query { ltime: u64, id: u32 },
}

impl foca::Invalidates for BroadcastKey {
    fn invalidates(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Member { name: a, ltime: x }, Self::Member { name: b, ltime: y }) => {
                a == b && x >= y
            }
            (a @ Self::User { .. }, b @ Self::User { .. }) => a == b,
            (a @ Self::Query { .. }, b @ Self::Query { .. }) => a == b,
            _ => false,
        }
    }
}

/// Full state exchanged over TCP on join and periodically (anti-entropy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PushPull {
    /// The sender's current SWIM identity.
    pub(crate) from: NodeId,
    /// Whether this exchange is a join (the joiner ignores old user events).
    pub(crate) join: bool,
    /// The sender's member-clock time.
    pub(crate) member_ltime: u64,
    /// The sender's user-event-clock time.
    pub(crate) event_ltime: u64,
    /// Every member the sender knows, including itself.
    pub(crate) members: Vec<Member>,
    /// The sender's SWIM membership (active and down).
    pub(crate) swim: Vec<foca::Member<NodeId>>,
    /// Recent user events.
    pub(crate) events: Vec<UserEvent>,
}

/// A message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Empty input.
    #[error("empty message")]
    Empty,
    /// Unknown version byte.
    #[error("unsupported message version {0}")]
    Version(u8),
    /// The body is not valid postcard for the expected type.
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Encodes a message: version byte, then postcard.
pub(crate) fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Serializing our own in-memory types into a Vec cannot fail.
    if let Ok(body) = postcard::to_allocvec(message) {
        out.extend_from_slice(&body);
    }
    out
}

/// Decodes a message produced by [`encode`].
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(data: &[u8]) -> Result<T, DecodeError> {
    match data.split_first() {
        None => Err(DecodeError::Empty),
        Some((&VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| DecodeError::Malformed(e.to_string()))
        }
        Some((&other, _)) => Err(DecodeError::Version(other)),
    }
}

/// A stable 64-bit hash of a user-event payload (FNV-1a), for dedup keys.
pub(crate) fn payload_hash(payload: &[u8]) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 ^= u64::from(*b);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    payload.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use foca::Invalidates;

    use super::*;

    #[test]
    fn round_trip() {
        let msg = SerfMessage::Alive {
            name: "n1".into(),
            addr: "127.0.0.1:8301".parse().unwrap(),
            tags: [("role".to_string(), "consul".to_string())].into(),
            ltime: 7,
        };
        let bytes = encode(&msg);
        assert_eq!(bytes[0], VERSION);
        assert_eq!(decode::<SerfMessage>(&bytes).unwrap(), msg);
    }

    #[test]
    fn decode_errors() {
        assert_eq!(decode::<SerfMessage>(&[]), Err(DecodeError::Empty));
        assert_eq!(decode::<SerfMessage>(&[9, 0]), Err(DecodeError::Version(9)));
        assert!(matches!(
            decode::<SerfMessage>(&[VERSION, 200, 200]),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn newer_member_intents_invalidate_older_ones() {
        let key = |name: &str, ltime| BroadcastKey::Member {
            name: name.into(),
            ltime,
        };
        assert!(key("a", 5).invalidates(&key("a", 4)));
        assert!(!key("a", 4).invalidates(&key("a", 5)));
        assert!(!key("a", 5).invalidates(&key("b", 1)));
        let user = |ltime| BroadcastKey::User {
            ltime,
            name: "deploy".into(),
            payload_hash: payload_hash(b"x"),
        };
        assert!(user(1).invalidates(&user(1)));
        assert!(!user(2).invalidates(&user(1)));
        assert!(!user(1).invalidates(&key("deploy", 1)));
    }
}
