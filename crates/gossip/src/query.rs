//! Serf-style queries, the pure part: a query is a named payload that an originator
//! disseminates to every member (like a user event, on its own Lamport clock); each
//! member sees it once and answers the originator directly. This module owns the wire
//! types, the clock and the dedup ring of seen queries, and the collector that gathers
//! one query's answers until every expected member replied. Sending answers and waiting
//! for them is the shell's job (`gossip/queries.rs`).
//!
//! Names starting with [`INTERNAL_PREFIX`] are answered by the gossip layer itself (the
//! keyring operations); no other names are answered yet.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::LamportClock;

/// Prefix of queries handled inside the gossip layer (serf's `_serf_`).
pub(crate) const INTERNAL_PREFIX: &str = "_serf_";

/// Serf's `QueryTimeoutMult`: a query waits this many gossip intervals per order of
/// magnitude of the pool size.
const TIMEOUT_MULT: u32 = 16;

/// Identifies one query: its Lamport time and the originator's random id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct QueryKey {
    /// Query-clock time of the query.
    pub(crate) ltime: u64,
    /// Random id chosen by the originator.
    pub(crate) id: u32,
}

/// A query as disseminated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueryMessage {
    /// Query-clock time.
    pub(crate) ltime: u64,
    /// Random id chosen by the originator.
    pub(crate) id: u32,
    /// Node name of the originator.
    pub(crate) origin: String,
    /// Gossip address (TCP) where answers go.
    pub(crate) addr: SocketAddr,
    /// Query name.
    pub(crate) name: String,
    /// Opaque payload.
    pub(crate) payload: Vec<u8>,
    /// Serf's relay factor, carried for compatibility of intent; answers travel over TCP,
    /// which needs no relays, so it is not acted upon.
    pub(crate) relay_factor: u8,
}

impl QueryMessage {
    /// The query's identity.
    pub(crate) fn key(&self) -> QueryKey {
        QueryKey {
            ltime: self.ltime,
            id: self.id,
        }
    }
}

/// One member's answer to a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueryResponse {
    /// Query-clock time of the query answered.
    pub(crate) ltime: u64,
    /// Id of the query answered.
    pub(crate) id: u32,
    /// Node name of the responder.
    pub(crate) from: String,
    /// Opaque answer.
    pub(crate) payload: Vec<u8>,
}

impl QueryResponse {
    /// The identity of the query answered.
    pub(crate) fn key(&self) -> QueryKey {
        QueryKey {
            ltime: self.ltime,
            id: self.id,
        }
    }
}

/// A query delivered to this node, for the shell to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingQuery(pub(crate) QueryMessage);

impl IncomingQuery {
    /// The query's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The query's payload.
    pub fn payload(&self) -> &[u8] {
        &self.0.payload
    }
}

/// The query side of a node's serf state: the query clock, the ring of recently seen
/// queries (by Lamport time) and the queries delivered but not yet taken by the shell.
#[derive(Debug, Clone)]
pub(crate) struct QueryState {
    clock: LamportClock,
    seen: Vec<(u64, Vec<u32>)>,
    delivered: Vec<QueryMessage>,
}

impl QueryState {
    /// A state remembering queries over `buffer` Lamport ticks (at least one).
    pub(crate) fn new(buffer: usize) -> Self {
        Self {
            clock: LamportClock::default(),
            seen: vec![(0, Vec::new()); buffer.max(1)],
            delivered: Vec::new(),
        }
    }

    /// Current query-clock time.
    pub(crate) fn ltime(&self) -> u64 {
        self.clock.time()
    }

    /// Moves the query clock past `ltime` (restored from the member snapshot).
    pub(crate) fn restore_clock(&mut self, ltime: u64) {
        self.clock.witness(ltime);
    }

    /// A new query from this node, stamped with the query clock (which then advances).
    pub(crate) fn stamp(
        &mut self,
        id: u32,
        origin: &str,
        addr: SocketAddr,
        name: &str,
        payload: &[u8],
        relay_factor: u8,
    ) -> QueryMessage {
        let ltime = self.clock.time();
        self.clock.increment();
        QueryMessage {
            ltime,
            id,
            origin: origin.to_string(),
            addr,
            name: name.to_string(),
            payload: payload.to_vec(),
            relay_factor,
        }
    }

    /// Records a disseminated query. Returns true when it is new (then it is delivered
    /// and should be disseminated further); duplicates and queries older than the ring
    /// are dropped.
    pub(crate) fn receive(&mut self, query: &QueryMessage) -> bool {
        self.clock.witness(query.ltime);
        let now = self.clock.time();
        let size = self.seen.len() as u64;
        if now > size && query.ltime < now - size {
            return false;
        }
        let index = usize::try_from(query.ltime % size).unwrap_or(0);
        let Some(slot) = self.seen.get_mut(index) else {
            return false;
        };
        if slot.0 != query.ltime {
            *slot = (query.ltime, Vec::new());
        } else if slot.1.contains(&query.id) {
            return false;
        }
        slot.1.push(query.id);
        self.delivered.push(query.clone());
        true
    }

    /// Takes the queries delivered since the last call, in order.
    pub(crate) fn take_delivered(&mut self) -> Vec<QueryMessage> {
        std::mem::take(&mut self.delivered)
    }
}

/// Gathers the answers to one query, one per responder, until `expected` arrived.
#[derive(Debug, Clone)]
pub(crate) struct Collector {
    key: QueryKey,
    expected: usize,
    responses: BTreeMap<String, Vec<u8>>,
}

impl Collector {
    /// A collector for query `key` expecting `expected` answers.
    pub(crate) fn new(key: QueryKey, expected: usize) -> Self {
        Self {
            key,
            expected,
            responses: BTreeMap::new(),
        }
    }

    /// Adds an answer. Returns false (and ignores it) when it answers another query or
    /// its responder already answered.
    pub(crate) fn add(&mut self, response: QueryResponse) -> bool {
        if response.key() != self.key || self.responses.contains_key(&response.from) {
            return false;
        }
        self.responses.insert(response.from, response.payload);
        true
    }

    /// Whether every expected member answered.
    pub(crate) fn is_complete(&self) -> bool {
        self.responses.len() >= self.expected
    }

    /// How many answers the collector expects.
    pub(crate) fn expected(&self) -> usize {
        self.expected
    }

    /// The answers, by responder name.
    pub(crate) fn into_responses(self) -> BTreeMap<String, Vec<u8>> {
        self.responses
    }
}

/// Serf's default query timeout: `gossip_interval × 16 × ⌈log10(members + 1)⌉`.
pub(crate) fn default_timeout(gossip_interval: Duration, members: usize) -> Duration {
    let mut scale = 1u32;
    let mut limit = 10usize;
    while members + 1 > limit {
        scale += 1;
        limit = limit.saturating_mul(10);
    }
    gossip_interval * TIMEOUT_MULT * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:8301".parse().unwrap()
    }

    fn response(key: QueryKey, from: &str, payload: &[u8]) -> QueryResponse {
        QueryResponse {
            ltime: key.ltime,
            id: key.id,
            from: from.into(),
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn stamping_advances_the_clock() {
        let mut state = QueryState::new(8);
        let q1 = state.stamp(7, "n1", addr(), "ping", b"x", 0);
        let q2 = state.stamp(8, "n1", addr(), "ping", b"x", 2);
        assert_eq!((q1.ltime, q2.ltime), (0, 1));
        assert_eq!(state.ltime(), 2);
        assert_eq!(q2.relay_factor, 2);
        assert_eq!(q1.key(), QueryKey { ltime: 0, id: 7 });
    }

    #[test]
    fn each_query_is_delivered_once() {
        let mut origin = QueryState::new(8);
        let q = origin.stamp(1, "n1", addr(), "_serf_list-keys", b"", 0);
        let mut peer = QueryState::new(8);
        assert!(peer.receive(&q));
        assert!(!peer.receive(&q));
        let other_id = QueryMessage { id: 2, ..q.clone() };
        assert!(peer.receive(&other_id));
        assert_eq!(peer.take_delivered(), vec![q.clone(), other_id]);
        assert!(peer.take_delivered().is_empty());
        assert_eq!(peer.ltime(), 1, "the clock moves past what it witnessed");
    }

    #[test]
    fn queries_older_than_the_ring_are_dropped() {
        let mut state = QueryState::new(4);
        let mut q = QueryState::new(4).stamp(1, "n1", addr(), "q", b"", 0);
        q.ltime = 20;
        assert!(state.receive(&q));
        let old = QueryMessage {
            ltime: 15,
            ..q.clone()
        };
        assert!(!state.receive(&old));
        let recent = QueryMessage { ltime: 17, ..q };
        assert!(state.receive(&recent));
    }

    #[test]
    fn a_reused_slot_forgets_the_older_time() {
        let mut state = QueryState::new(2);
        let q = QueryState::new(2).stamp(1, "n1", addr(), "q", b"", 0);
        assert!(state.receive(&q));
        let later = QueryMessage { ltime: 2, ..q };
        assert!(state.receive(&later), "same slot, newer time: new query");
        assert!(!state.receive(&later));
    }

    #[test]
    fn collector_dedups_and_completes() {
        let key = QueryKey { ltime: 3, id: 9 };
        let mut c = Collector::new(key, 2);
        assert_eq!(c.expected(), 2);
        assert!(c.add(response(key, "a", b"1")));
        assert!(!c.add(response(key, "a", b"2")), "one answer per node");
        assert!(!c.add(response(QueryKey { ltime: 3, id: 1 }, "b", b"x")));
        assert!(!c.is_complete());
        assert!(c.add(response(key, "b", b"3")));
        assert!(c.is_complete());
        let all = c.into_responses();
        assert_eq!(all["a"], b"1");
        assert_eq!(all["b"], b"3");
    }

    #[test]
    fn timeout_scales_with_log_of_pool_size() {
        let tick = Duration::from_millis(200);
        assert_eq!(default_timeout(tick, 1), tick * 16);
        assert_eq!(default_timeout(tick, 9), tick * 16);
        assert_eq!(default_timeout(tick, 10), tick * 32);
        assert_eq!(default_timeout(tick, 99), tick * 32);
        assert_eq!(default_timeout(tick, 100), tick * 48);
    }

    #[test]
    fn messages_round_trip() {
        let q = QueryState::new(1).stamp(5, "n1", addr(), "q", b"payload", 1);
        let bytes = crate::message::encode(&q);
        assert_eq!(crate::message::decode::<QueryMessage>(&bytes).unwrap(), q);
        let r = response(q.key(), "n2", b"answer");
        let bytes = crate::message::encode(&r);
        assert_eq!(crate::message::decode::<QueryResponse>(&bytes).unwrap(), r);
    }
}
