//! Network-coordinate probes: the pure bookkeeping behind Vivaldi RTT measurement.
//!
//! Serf piggybacks its coordinate on SWIM ping acks; foca offers no such hook, so we run our
//! own lightweight probe over the same UDP socket (same envelope and encryption as SWIM): a
//! node periodically sends `Ping{seq, coordinate}` to the next alive member (round robin),
//! the member answers `Ack{seq, coordinate}`, and the RTT between send and ack feeds the
//! local [`legate_vivaldi::Client`]. Both messages also refresh a cache of the peer's last
//! coordinate. This module owns no socket and no clock: time is an argument.
//!
//! Wire format: [`MAGIC`] then our message encoding (version byte plus postcard). A foca
//! packet can never start with [`MAGIC`]: its first byte is the length of a non-empty node
//! name and, were it zero, the next byte would be a `SocketAddr` variant (0 or 1), not `0xC0`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use legate_vivaldi::{Client, Config, Coordinate};
use serde::{Deserialize, Serialize};

use crate::config::Profile;
use crate::message::{self, DecodeError};

/// Prefix marking a coordinate-probe packet (after decryption).
pub(crate) const MAGIC: [u8; 3] = [0x00, 0xC0, 0x0D];

/// The probe interval of a timer profile: memberlist's probe interval (1 s LAN, 5 s WAN),
/// on which Serf's coordinates ride, and a fast one for loopback tests.
pub(crate) fn default_probe_interval(profile: Profile) -> Duration {
    match profile {
        Profile::Lan => Duration::from_secs(1),
        Profile::Wan => Duration::from_secs(5),
        Profile::Local => Duration::from_millis(250),
    }
}

/// A coordinate-probe message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum CoordMessage {
    /// "Tell me your coordinate": `from` is the sender's node name.
    Ping {
        seq: u64,
        from: String,
        coordinate: Coordinate,
    },
    /// The answer to the ping numbered `seq`.
    Ack {
        seq: u64,
        from: String,
        coordinate: Coordinate,
    },
}

/// Encodes a probe message for the wire (before encryption).
pub(crate) fn encode(message: &CoordMessage) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&message::encode(message));
    out
}

/// Decodes a packet: `None` when it is not a probe packet (a SWIM packet), otherwise the
/// message or why it is malformed.
pub(crate) fn decode(data: &[u8]) -> Option<Result<CoordMessage, DecodeError>> {
    let body = data.strip_prefix(&MAGIC)?;
    Some(message::decode(body))
}

/// A ping awaiting its ack.
#[derive(Debug, Clone)]
struct Pending {
    node: String,
    sent: Instant,
}

/// One node's probe state: its Vivaldi client, the pings in flight and the last coordinate
/// heard from each peer.
#[derive(Debug)]
pub(crate) struct CoordinateProbes {
    name: String,
    client: Client,
    peers: HashMap<String, Coordinate>,
    pending: BTreeMap<u64, Pending>,
    next_seq: u64,
    timeout: Duration,
    last_target: Option<String>,
}

impl CoordinateProbes {
    /// Probes for node `name` with Serf's Vivaldi defaults; pings unanswered after `timeout`
    /// are forgotten.
    pub(crate) fn new(
        name: String,
        timeout: Duration,
        seed: u64,
    ) -> Result<Self, legate_vivaldi::Error> {
        Ok(Self {
            name,
            client: Client::with_seed(Config::default(), seed)?,
            peers: HashMap::new(),
            pending: BTreeMap::new(),
            next_seq: 0,
            timeout,
            last_target: None,
        })
    }

    /// This node's current coordinate.
    pub(crate) fn coordinate(&self) -> Coordinate {
        self.client.coordinate().clone()
    }

    /// The last coordinate heard from `node` (this node's own for its own name).
    pub(crate) fn peer(&self, node: &str) -> Option<Coordinate> {
        if node == self.name {
            return Some(self.coordinate());
        }
        self.peers.get(node).cloned()
    }

    /// Number of pings awaiting an ack.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Forgets expired pings, then picks the next member of `alive` (other than this node)
    /// after the last one probed, in name order, and returns where to send which ping.
    pub(crate) fn next_probe(
        &mut self,
        now: Instant,
        alive: &[(String, SocketAddr)],
    ) -> Option<(SocketAddr, CoordMessage)> {
        self.expire(now);
        let mut peers: Vec<&(String, SocketAddr)> = alive
            .iter()
            .filter(|(name, _)| *name != self.name)
            .collect();
        peers.sort_by(|a, b| a.0.cmp(&b.0));
        let next = match &self.last_target {
            Some(last) => peers
                .iter()
                .find(|(name, _)| name > last)
                .or_else(|| peers.first()),
            None => peers.first(),
        };
        let (node, addr) = (*next?).clone();
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.pending.insert(
            seq,
            Pending {
                node: node.clone(),
                sent: now,
            },
        );
        self.last_target = Some(node);
        let ping = CoordMessage::Ping {
            seq,
            from: self.name.clone(),
            coordinate: self.coordinate(),
        };
        Some((addr, ping))
    }

    /// Handles a received probe message; returns the ack to send back for a ping.
    pub(crate) fn handle(&mut self, now: Instant, message: CoordMessage) -> Option<CoordMessage> {
        match message {
            CoordMessage::Ping {
                seq,
                from,
                coordinate,
            } => {
                if coordinate.is_valid() {
                    self.peers.insert(from, coordinate);
                }
                Some(CoordMessage::Ack {
                    seq,
                    from: self.name.clone(),
                    coordinate: self.coordinate(),
                })
            }
            CoordMessage::Ack {
                seq,
                from,
                coordinate,
            } => {
                self.observe_ack(now, seq, from, coordinate);
                None
            }
        }
    }

    /// Keeps only peers for which `keep` holds (members that left or were reaped go).
    pub(crate) fn retain_peers(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self
            .peers
            .keys()
            .filter(|name| !keep(name))
            .cloned()
            .collect();
        for name in gone {
            self.peers.remove(&name);
            self.client.forget_node(&name);
        }
    }

    fn observe_ack(&mut self, now: Instant, seq: u64, from: String, coordinate: Coordinate) {
        // An ack must answer a ping we sent to that very node, in time.
        let Some(pending) = self.pending.get(&seq) else {
            return;
        };
        if pending.node != from {
            return;
        }
        let rtt = now.saturating_duration_since(pending.sent);
        self.pending.remove(&seq);
        if rtt > self.timeout {
            return;
        }
        match self.client.update(&from, &coordinate, rtt) {
            Ok(_) => {
                self.peers.insert(from, coordinate);
            }
            Err(e) => tracing::debug!(node = %from, error = %e, "gossip: coordinate rejected"),
        }
    }

    fn expire(&mut self, now: Instant) {
        let timeout = self.timeout;
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.sent) <= timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn members(names: &[&str]) -> Vec<(String, SocketAddr)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), addr(8000 + i as u16)))
            .collect()
    }

    fn probes(name: &str) -> CoordinateProbes {
        CoordinateProbes::new(name.into(), Duration::from_millis(500), 7).unwrap()
    }

    fn seq_of(message: &CoordMessage) -> u64 {
        match message {
            CoordMessage::Ping { seq, .. } | CoordMessage::Ack { seq, .. } => *seq,
        }
    }

    #[test]
    fn wire_round_trip_and_swim_packets_pass_through() {
        let ping = CoordMessage::Ping {
            seq: 9,
            from: "a".into(),
            coordinate: Coordinate::default(),
        };
        let bytes = encode(&ping);
        assert!(bytes.starts_with(&MAGIC));
        assert_eq!(decode(&bytes), Some(Ok(ping)));
        assert_eq!(decode(&[3, b'a', b'b', b'c']), None);
        assert_eq!(decode(&[0, 0, 1]), None);
        assert!(matches!(
            decode(&[0x00, 0xC0, 0x0D, 1, 200]),
            Some(Err(DecodeError::Malformed(_)))
        ));
    }

    #[test]
    fn probes_rotate_over_alive_peers_skipping_self() {
        let mut p = probes("b");
        let now = Instant::now();
        let alive = members(&["c", "a", "b"]);
        let targets: Vec<SocketAddr> = (0..4)
            .map(|_| p.next_probe(now, &alive).unwrap().0)
            .collect();
        // Name order a, c, then around again; "b" is this node.
        assert_eq!(targets, [addr(8001), addr(8000), addr(8001), addr(8000)]);
        assert_eq!(p.in_flight(), 4);
        assert!(p.next_probe(now, &members(&["b"])).is_none());
    }

    #[test]
    fn ping_is_answered_with_own_coordinate_and_cached() {
        let mut p = probes("b");
        let mut theirs = Coordinate::default();
        theirs.vec[0] = 0.01;
        let ack = p.handle(
            Instant::now(),
            CoordMessage::Ping {
                seq: 4,
                from: "a".into(),
                coordinate: theirs.clone(),
            },
        );
        assert_eq!(
            ack,
            Some(CoordMessage::Ack {
                seq: 4,
                from: "b".into(),
                coordinate: p.coordinate(),
            })
        );
        assert_eq!(p.peer("a"), Some(theirs));
    }

    #[test]
    fn ack_measures_rtt_and_moves_the_coordinate() {
        let mut a = probes("a");
        let mut b = probes("b");
        let t0 = Instant::now();
        let (_, ping) = a.next_probe(t0, &members(&["a", "b"])).unwrap();
        let ack = b.handle(t0, ping).unwrap();
        assert_eq!(a.handle(t0 + Duration::from_millis(20), ack), None);
        assert_eq!(a.in_flight(), 0);
        assert_ne!(a.coordinate(), Coordinate::default());
        assert_eq!(a.peer("b"), Some(b.coordinate()));
        // The same ack again is not a second observation.
        let before = a.coordinate();
        let replay = CoordMessage::Ack {
            seq: 0,
            from: "b".into(),
            coordinate: b.coordinate(),
        };
        a.handle(t0 + Duration::from_millis(40), replay);
        assert_eq!(a.coordinate(), before);
    }

    #[test]
    fn repeated_probes_converge_on_the_measured_rtt() {
        let mut a = probes("a");
        let mut b = probes("b");
        let mut now = Instant::now();
        let rtt = Duration::from_millis(10);
        for _ in 0..200 {
            let (_, ping) = a.next_probe(now, &members(&["a", "b"])).unwrap();
            let ack = b.handle(now, ping).unwrap();
            now += rtt;
            a.handle(now, ack);
            let (_, ping) = b.next_probe(now, &members(&["a", "b"])).unwrap();
            let ack = a.handle(now, ping).unwrap();
            now += rtt;
            b.handle(now, ack);
        }
        let est = a.coordinate().distance_to(&b.coordinate()).as_secs_f64();
        assert!((est - 0.010).abs() < 0.002, "estimated {est}");
    }

    #[test]
    fn acks_from_the_wrong_node_or_too_late_are_ignored() {
        let mut a = probes("a");
        let t0 = Instant::now();
        let (_, ping) = a.next_probe(t0, &members(&["a", "b"])).unwrap();
        let seq = seq_of(&ping);
        let imposter = CoordMessage::Ack {
            seq,
            from: "c".into(),
            coordinate: Coordinate::default(),
        };
        a.handle(t0 + Duration::from_millis(1), imposter);
        assert_eq!(a.in_flight(), 1);
        assert_eq!(a.peer("c"), None);
        let late = CoordMessage::Ack {
            seq,
            from: "b".into(),
            coordinate: Coordinate::default(),
        };
        a.handle(t0 + Duration::from_secs(1), late);
        assert_eq!(a.in_flight(), 0);
        assert_eq!(a.coordinate(), Coordinate::default());
    }

    #[test]
    fn unanswered_pings_expire_on_the_next_probe() {
        let mut a = probes("a");
        let t0 = Instant::now();
        a.next_probe(t0, &members(&["a", "b"])).unwrap();
        a.next_probe(t0 + Duration::from_millis(100), &members(&["a", "b"]))
            .unwrap();
        assert_eq!(a.in_flight(), 2);
        a.next_probe(t0 + Duration::from_millis(550), &members(&["a", "b"]))
            .unwrap();
        // The first expired; the second and the new one remain.
        assert_eq!(a.in_flight(), 2);
    }

    #[test]
    fn invalid_peer_coordinates_are_not_cached() {
        let mut p = probes("b");
        let mut bad = Coordinate::default();
        bad.vec[0] = f64::NAN;
        p.handle(
            Instant::now(),
            CoordMessage::Ping {
                seq: 1,
                from: "a".into(),
                coordinate: bad,
            },
        );
        assert_eq!(p.peer("a"), None);
    }

    #[test]
    fn departed_peers_are_forgotten() {
        let mut p = probes("a");
        for name in ["b", "c"] {
            p.handle(
                Instant::now(),
                CoordMessage::Ping {
                    seq: 1,
                    from: name.into(),
                    coordinate: Coordinate::default(),
                },
            );
        }
        p.retain_peers(|n| n == "c");
        assert_eq!(p.peer("b"), None);
        assert!(p.peer("c").is_some());
    }
}
