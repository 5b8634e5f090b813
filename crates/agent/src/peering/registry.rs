//! The leader-local registry of peering links: for every peering ID, the stream tracker (kept
//! across reconnects), whether a stream is up, the service lists last exchanged and the last
//! dial failure. Stream drivers publish into it; the peering read API and metrics read it.
//! A new stream for a peering replaces the old one: [`Registry::begin`] cancels the previous
//! stream's token and later publications of the old generation are ignored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::SystemTime;

use legate_peerstream::Tracker;
use legate_peerstream::TrackerSnapshot;
use tokio_util::sync::CancellationToken;

/// What is known of one peering's link.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkStatus {
    /// The tracker's state (live while a stream is up, else as the last stream left it).
    pub tracker: TrackerSnapshot,
    /// Services the peer exports to us, from its last applied list.
    pub imported_services: Vec<String>,
    /// Services we export to the peer, as last sent.
    pub exported_services: Vec<String>,
}

#[derive(Debug)]
struct Link {
    generation: u64,
    tracker: Tracker,
    live: Option<CancellationToken>,
    status: LinkStatus,
}

impl Default for Link {
    fn default() -> Link {
        let tracker = Tracker::new();
        Link {
            generation: 0,
            status: LinkStatus {
                tracker: tracker.snapshot(),
                ..LinkStatus::default()
            },
            tracker,
            live: None,
        }
    }
}

/// Peering ID → link.
#[derive(Debug, Default)]
pub struct Registry {
    links: Mutex<HashMap<String, Link>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Link>> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stream for `id` is starting: cancel any previous one; returns this stream's
    /// generation and the peering's tracker (to hand to the session).
    pub fn begin(&self, id: &str, token: CancellationToken) -> (u64, Tracker) {
        let mut links = self.lock();
        let link = links.entry(id.to_string()).or_default();
        if let Some(old) = link.live.replace(token) {
            old.cancel();
        }
        link.generation += 1;
        (link.generation, link.tracker.clone())
    }

    /// The stream `generation` of `id` reports its state.
    pub fn publish(
        &self,
        id: &str,
        generation: u64,
        tracker: TrackerSnapshot,
        imported: Option<&[String]>,
        exported: Option<&[String]>,
    ) {
        let mut links = self.lock();
        let Some(link) = links.get_mut(id).filter(|l| l.generation == generation) else {
            return;
        };
        link.status.tracker = tracker;
        if let Some(imported) = imported {
            link.status.imported_services = imported.to_vec();
        }
        if let Some(exported) = exported {
            link.status.exported_services = exported.to_vec();
        }
    }

    /// The stream `generation` of `id` ended; `tracker` is what its session handed back.
    pub fn end(&self, id: &str, generation: u64, tracker: Tracker) {
        let mut links = self.lock();
        let Some(link) = links.get_mut(id).filter(|l| l.generation == generation) else {
            return;
        };
        link.live = None;
        link.status.tracker = tracker.snapshot();
        link.tracker = tracker;
    }

    /// Dialing `id` failed with `error` (no stream came up).
    pub fn dial_failed(&self, id: &str, error: String, now: SystemTime) {
        let mut links = self.lock();
        let link = links.entry(id.to_string()).or_default();
        if link.live.is_some() {
            return;
        }
        link.tracker.disconnected(Some(error), now);
        link.status.tracker = link.tracker.snapshot();
    }

    /// What is known of `id`'s link, if anything.
    pub fn status(&self, id: &str) -> Option<LinkStatus> {
        self.lock().get(id).map(|l| l.status.clone())
    }

    /// Every known link.
    pub fn all(&self) -> Vec<(String, LinkStatus)> {
        self.lock()
            .iter()
            .map(|(id, l)| (id.clone(), l.status.clone()))
            .collect()
    }

    /// Stop every live stream and forget all links (leadership lost).
    pub fn clear(&self) {
        let mut links = self.lock();
        for link in links.values() {
            if let Some(token) = &link.live {
                token.cancel();
            }
        }
        links.clear();
    }

    /// Forget `id` (its row is gone), stopping its stream.
    pub fn forget(&self, id: &str) {
        if let Some(link) = self.lock().remove(id)
            && let Some(token) = link.live
        {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stream_cancels_the_old_and_stale_reports_are_ignored() {
        let r = Registry::default();
        let first = CancellationToken::new();
        let (g1, _) = r.begin("p", first.clone());
        let second = CancellationToken::new();
        let (g2, tracker) = r.begin("p", second.clone());
        assert!(first.is_cancelled());
        assert!(!second.is_cancelled());
        assert_ne!(g1, g2);
        let mut live = tracker.clone();
        live.connected(SystemTime::UNIX_EPOCH);
        r.publish(
            "p",
            g1,
            TrackerSnapshot::default(),
            Some(&["x".into()]),
            None,
        );
        assert_eq!(
            r.status("p").unwrap().imported_services,
            Vec::<String>::new()
        );
        r.publish("p", g2, live.snapshot(), Some(&["web".into()]), None);
        let s = r.status("p").unwrap();
        assert!(s.tracker.connected);
        assert_eq!(s.imported_services, vec!["web".to_string()]);
        live.disconnected(Some("gone".into()), SystemTime::UNIX_EPOCH);
        r.end("p", g2, live);
        let s = r.status("p").unwrap();
        assert!(!s.tracker.connected);
        assert_eq!(s.tracker.disconnect_error.as_deref(), Some("gone"));
    }

    #[test]
    fn dial_failures_mark_the_link_failed_but_not_a_live_one() {
        let r = Registry::default();
        r.dial_failed("p", "refused".into(), SystemTime::UNIX_EPOCH);
        let s = r.status("p").unwrap();
        assert_eq!(s.tracker.disconnect_error.as_deref(), Some("refused"));
        assert!(s.tracker.never_connected);
        let (_, _) = r.begin("p", CancellationToken::new());
        r.dial_failed("p", "other".into(), SystemTime::UNIX_EPOCH);
        assert_eq!(
            r.status("p").unwrap().tracker.disconnect_error.as_deref(),
            Some("refused")
        );
        r.forget("p");
        assert!(r.status("p").is_none());
    }

    #[test]
    fn clear_cancels_everything() {
        let r = Registry::default();
        let t = CancellationToken::new();
        r.begin("a", t.clone());
        r.clear();
        assert!(t.is_cancelled());
        assert!(r.all().is_empty());
    }
}
