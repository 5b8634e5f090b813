//! The runtime of coordinate probes (see `crate::coordinates` for the pure core): a timer
//! task that pings the next alive member every probe interval, and the UDP hook that answers
//! pings and folds acks into this node's Vivaldi coordinate. Probe packets share the SWIM
//! socket and envelope, so they are encrypted with the same keyring.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use legate_vivaldi::Coordinate;

use super::{Gossip, Inner, guard, now};
use crate::coordinates::{self, CoordinateProbes};
use crate::core::Output;
use crate::member::MemberStatus;

impl Gossip {
    /// This node's current network coordinate; `None` when coordinates are disabled.
    pub fn coordinate(&self) -> Option<Coordinate> {
        let probes = self.inner.coords.as_ref()?;
        Some(guard(probes).coordinate())
    }

    /// The last coordinate heard from member `name` (this node's own for its own name);
    /// `None` when unknown or when coordinates are disabled.
    pub fn member_coordinate(&self, name: &str) -> Option<Coordinate> {
        guard(self.inner.coords.as_ref()?).peer(name)
    }
}

/// The probe state for node `name`, or `None` (coordinates off) when `every` is `None`.
pub(super) fn probes(
    name: &str,
    every: Option<Duration>,
    seed: u64,
) -> Option<Mutex<CoordinateProbes>> {
    let every = every?;
    match CoordinateProbes::new(name.to_string(), every, seed) {
        Ok(probes) => Some(Mutex::new(probes)),
        Err(e) => {
            tracing::warn!(error = %e, "gossip: network coordinates disabled");
            None
        }
    }
}

/// Pings one alive member every `every` until the pool stops.
pub(super) async fn run(inner: Arc<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(probes) = inner.coords.as_ref() else {
            return;
        };
        let (alive, known) = {
            let core = guard(&inner.core);
            if core.has_left() {
                continue;
            }
            let members = core.members();
            let alive: Vec<(String, SocketAddr)> = members
                .iter()
                .filter(|m| m.status == MemberStatus::Alive)
                .map(|m| (m.name.clone(), m.addr))
                .collect();
            let known: HashSet<String> = members
                .into_iter()
                .filter(|m| m.status != MemberStatus::Left)
                .map(|m| m.name)
                .collect();
            (alive, known)
        };
        let probe = {
            let mut probes = guard(probes);
            probes.retain_peers(|name| known.contains(name));
            probes.next_probe(now(), &alive)
        };
        if let Some((to, ping)) = probe {
            let data = coordinates::encode(&ping);
            inner.execute(vec![Output::Send { to, data }]).await;
        }
    }
}

/// Handles `plain` if it is a probe packet and says so; SWIM packets are left alone.
pub(super) async fn intercept(inner: &Arc<Inner>, from: SocketAddr, plain: &[u8]) -> bool {
    let Some(decoded) = coordinates::decode(plain) else {
        return false;
    };
    let Some(probes) = inner.coords.as_ref() else {
        // Coordinates are off here: the peer's ping times out.
        return true;
    };
    match decoded {
        Ok(message) => {
            let reply = guard(probes).handle(now(), message);
            if let Some(ack) = reply {
                let data = coordinates::encode(&ack);
                inner.execute(vec![Output::Send { to: from, data }]).await;
            }
        }
        Err(e) => {
            inner.dropped_packets.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%from, error = %e, "gossip: dropped coordinate probe");
        }
    }
    true
}
