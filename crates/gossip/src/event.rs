//! Events the gossip layer emits to its user, in the order they happened locally.

use crate::member::Member;

/// A membership or user event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GossipEvent {
    /// A member became alive (first seen, or back after failing/leaving).
    MemberJoin(Member),
    /// An alive member changed its tags or address.
    MemberUpdate(Member),
    /// A member left gracefully (or was force-left).
    MemberLeave(Member),
    /// A member became unreachable without leaving.
    MemberFailed(Member),
    /// A failed or left member was forgotten (reconnect/tombstone timeout or prune).
    MemberReap(Member),
    /// A user event (`consul event`).
    UserEvent(UserEvent),
}

/// A user event as delivered: exactly once per node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserEvent {
    /// Event name.
    pub name: String,
    /// Opaque payload.
    pub payload: Vec<u8>,
    /// Lamport time from the user-event clock.
    pub ltime: u64,
    /// Whether the event may be coalesced with later events of the same name.
    pub coalesce: bool,
}
