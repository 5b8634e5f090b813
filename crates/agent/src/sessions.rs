//! Session TTLs. A session created with a `TTL` must be renewed within it, or the leader
//! destroys it. As Consul, the deadline is `TTL × 2` after creation or the last renewal (the
//! grace period covers clients and network delays). [`TtlTimers`] is the pure bookkeeping
//! (time passed in); [`SessionTimers`] shares it between the HTTP handlers and [`run`], the
//! routine that, while this server leads, destroys sessions whose deadline passed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_state::command::Command;
use legate_state::model::Session;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::agent::Agent;

/// Consul's `SessionTTLMultiplier`: a session expires `TTL × 2` after its last renewal.
pub const TTL_MULTIPLIER: u32 = 2;

/// How long to wait before retrying a destroy that could not be written.
const RETRY: Duration = Duration::from_secs(1);

/// Deadlines of TTL sessions, in milliseconds on the caller's clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TtlTimers {
    deadlines: BTreeMap<String, u64>,
}

impl TtlTimers {
    /// Start or restart the timer of session `id` (created or renewed at `now_ms`): it expires
    /// `ttl × TTL_MULTIPLIER` later. A zero TTL removes the timer.
    pub fn insert(&mut self, id: &str, ttl: Duration, now_ms: u64) {
        if ttl.is_zero() {
            self.remove(id);
            return;
        }
        let grace = ttl.saturating_mul(TTL_MULTIPLIER);
        let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.insert_deadline(id, now_ms.saturating_add(grace_ms));
    }

    /// Set the deadline of `id` directly (a retry after a failed destroy).
    pub fn insert_deadline(&mut self, id: &str, deadline_ms: u64) {
        self.deadlines.insert(id.to_string(), deadline_ms);
    }

    /// Forget the timer of `id`; whether there was one.
    pub fn remove(&mut self, id: &str) -> bool {
        self.deadlines.remove(id).is_some()
    }

    /// Forget every timer (leadership lost).
    pub fn clear(&mut self) {
        self.deadlines.clear();
    }

    /// The earliest deadline, if any timer runs.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.values().copied().min()
    }

    /// Remove and return a session whose deadline is at or before `now_ms` (the earliest).
    pub fn next_expired(&mut self, now_ms: u64) -> Option<String> {
        let (id, deadline) = self
            .deadlines
            .iter()
            .min_by_key(|(_, deadline)| **deadline)
            .map(|(id, deadline)| (id.clone(), *deadline))?;
        if deadline > now_ms {
            return None;
        }
        self.deadlines.remove(&id);
        Some(id)
    }

    /// How many timers run.
    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    /// Whether no timer runs.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }
}

/// The TTL timers of this agent, shared by the session endpoints (create, renew, destroy) and
/// the expiry routine. Times come from tokio's clock, so paused-clock tests can drive it.
pub struct SessionTimers {
    timers: Mutex<TtlTimers>,
    changed: Notify,
    origin: Instant,
}

impl Default for SessionTimers {
    fn default() -> Self {
        SessionTimers {
            timers: Mutex::new(TtlTimers::default()),
            changed: Notify::new(),
            origin: Instant::now(),
        }
    }
}

impl SessionTimers {
    /// Start or restart the timer of `session` if it has a non-zero TTL (Consul's
    /// `resetSessionTimer`, on create and renew).
    pub fn reset(&self, session: &Session) {
        if let Some(ttl) = session_ttl(session) {
            let now = self.now_ms();
            self.lock().insert(&session.id, ttl, now);
            self.changed.notify_one();
        }
    }

    /// Stop the timer of session `id` (destroyed).
    pub fn clear(&self, id: &str) {
        if self.lock().remove(id) {
            self.changed.notify_one();
        }
    }

    /// How many timers run.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no timer runs.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn clear_all(&self) {
        self.lock().clear();
    }

    fn retry_later(&self, id: &str) {
        let at = self.now_ms().saturating_add(millis(RETRY));
        self.lock().insert_deadline(id, at);
    }

    fn next_expired(&self) -> Option<String> {
        let now = self.now_ms();
        self.lock().next_expired(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.lock()
            .next_deadline()
            .map(|ms| self.origin + Duration::from_millis(ms))
    }

    fn now_ms(&self) -> u64 {
        millis(self.origin.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TtlTimers> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The TTL of `session`, when it has a non-zero one that parses.
pub fn session_ttl(session: &Session) -> Option<Duration> {
    if session.ttl.is_empty() {
        return None;
    }
    legate_types::go_duration::parse(&session.ttl)
        .ok()
        .filter(|ttl| !ttl.is_zero())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Run the session TTL expiry routine until shutdown: whenever this server leads, arm a timer
/// for every TTL session in the store and destroy sessions whose deadline passes; on losing
/// leadership, drop every timer.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    loop {
        if *leadership.borrow_and_update() {
            let timers = agent.session_timers();
            timers.clear_all();
            for session in agent.server().store().view().sessions() {
                timers.reset(&session);
            }
            let still_running = lead(&agent, &mut leadership, &shutdown).await;
            agent.session_timers().clear_all();
            if !still_running {
                return;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
        }
    }
}

/// Expire sessions while leadership lasts. `false` when the agent is shutting down.
async fn lead(
    agent: &Arc<Agent>,
    leadership: &mut tokio::sync::watch::Receiver<bool>,
    shutdown: &CancellationToken,
) -> bool {
    let timers = agent.session_timers();
    loop {
        // Listen before looking, so a reset made in between is not missed.
        let changed = timers.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        while let Some(id) = timers.next_expired() {
            expire(agent, &id).await;
        }
        let next = timers.next_deadline();
        let wake = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return false,
            result = leadership.changed() => {
                if result.is_err() {
                    return false;
                }
                if !*leadership.borrow_and_update() {
                    return true;
                }
            }
            () = &mut changed => {}
            () = wake => {}
        }
    }
}

/// Destroy an expired session (if it still exists); retry later if the write fails.
async fn expire(agent: &Arc<Agent>, id: &str) {
    if agent.server().store().view().session(id).is_none() {
        return;
    }
    let command = Command::SessionDestroy {
        id: id.to_string(),
        now_ms: crate::clock::now_unix_ms(),
    };
    match agent.server().write(command).await {
        Ok(_) => tracing::debug!(target: "agent.session", session = id, "Session TTL expired"),
        Err(err) => {
            tracing::warn!(target: "agent.session", session = id, error = %err,
                "failed to invalidate expired session");
            agent.session_timers().retry_later(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1000;

    #[test]
    fn deadline_is_twice_the_ttl() {
        let mut t = TtlTimers::default();
        t.insert("a", Duration::from_secs(10), 5 * SEC);
        assert_eq!(t.next_deadline(), Some(25 * SEC));
        assert_eq!(t.next_expired(25 * SEC - 1), None);
        assert_eq!(t.next_expired(25 * SEC).as_deref(), Some("a"));
        assert!(t.is_empty());
    }

    #[test]
    fn renew_pushes_the_deadline_back() {
        let mut t = TtlTimers::default();
        t.insert("a", Duration::from_secs(10), 0);
        t.insert("a", Duration::from_secs(10), 15 * SEC);
        assert_eq!(t.len(), 1);
        assert_eq!(t.next_expired(20 * SEC), None);
        assert_eq!(t.next_expired(35 * SEC).as_deref(), Some("a"));
    }

    #[test]
    fn earliest_expires_first_and_removed_never_expire() {
        let mut t = TtlTimers::default();
        t.insert("late", Duration::from_secs(30), 0);
        t.insert("early", Duration::from_secs(10), 0);
        t.insert("gone", Duration::from_secs(10), 0);
        assert!(t.remove("gone"));
        assert!(!t.remove("gone"));
        assert_eq!(t.next_deadline(), Some(20 * SEC));
        let now = 100 * SEC;
        assert_eq!(t.next_expired(now).as_deref(), Some("early"));
        assert_eq!(t.next_expired(now).as_deref(), Some("late"));
        assert_eq!(t.next_expired(now), None);
    }

    #[test]
    fn zero_ttl_has_no_timer() {
        let mut t = TtlTimers::default();
        t.insert("a", Duration::from_secs(10), 0);
        t.insert("a", Duration::ZERO, 0);
        assert!(t.is_empty());
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn clear_drops_everything() {
        let mut t = TtlTimers::default();
        t.insert("a", Duration::from_secs(10), 0);
        t.insert_deadline("b", 7);
        assert_eq!(t.next_deadline(), Some(7));
        t.clear();
        assert_eq!(t.next_expired(u64::MAX), None);
    }

    #[test]
    fn session_ttl_parses_go_durations() {
        let mut s = Session::default();
        assert_eq!(session_ttl(&s), None);
        s.ttl = "0s".into();
        assert_eq!(session_ttl(&s), None);
        s.ttl = "1m30s".into();
        assert_eq!(session_ttl(&s), Some(Duration::from_secs(90)));
    }

    #[test]
    fn shared_timers_track_ttl_sessions_only() {
        let timers = SessionTimers::default();
        let mut session = Session {
            id: "s".into(),
            ttl: "10s".into(),
            ..Session::default()
        };
        timers.reset(&session);
        assert_eq!(timers.len(), 1);
        // A fresh timer cannot have expired: its deadline is 20 s away.
        assert_eq!(timers.next_expired(), None);
        timers.clear("s");
        assert!(timers.is_empty());
        session.ttl = String::new();
        timers.reset(&session);
        assert!(timers.is_empty());
    }
}
