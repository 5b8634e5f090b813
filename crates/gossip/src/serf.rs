//! The serf layer's pure state: members by name with status and Lamport times, the
//! SWIM up/down view, the user-event buffer, and every transition between them. It
//! never touches sockets or clocks: `now` is set by the caller before each input.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::clock::LamportClock;
use crate::event::{GossipEvent, UserEvent};
use crate::identity::NodeId;
use crate::member::{Member, MemberStatus, Tags};
use crate::member_snapshot::Clocks;
use crate::message::SerfMessage;
use crate::query::QueryState;
use crate::user_events::UserEventBuffer;

/// Timeouts and sizes of the serf layer.
#[derive(Debug, Clone)]
pub(crate) struct SerfConfig {
    /// How long a failed member is kept before it is reaped.
    pub(crate) reconnect_timeout: Duration,
    /// How long a left member is kept before it is reaped.
    pub(crate) tombstone_timeout: Duration,
    /// Lamport ticks of recent user events kept for dedup.
    pub(crate) event_buffer_size: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    member: Member,
    /// When the member stopped being alive (failed, left, or never seen alive).
    down_since: Option<Instant>,
}

/// Serf state of one node.
#[derive(Debug)]
pub(crate) struct SerfState {
    local: String,
    config: SerfConfig,
    now: Instant,
    clock: LamportClock,
    event_clock: LamportClock,
    event_min_time: u64,
    members: BTreeMap<String, Entry>,
    swim_up: BTreeMap<String, NodeId>,
    user_events: UserEventBuffer,
    queries: QueryState,
    leaving: bool,
    /// Lamport time of the last intent this node issued about itself.
    issued: u64,
    events: Vec<GossipEvent>,
    outgoing: Vec<SerfMessage>,
}

impl SerfState {
    /// A state whose only member is the local node, alive with `tags`.
    pub(crate) fn new(
        name: String,
        addr: SocketAddr,
        tags: Tags,
        config: SerfConfig,
        now: Instant,
    ) -> Self {
        let mut clock = LamportClock::default();
        let ltime = clock.increment();
        let local = Member {
            name: name.clone(),
            addr,
            tags,
            status: MemberStatus::Alive,
            status_ltime: ltime,
        };
        let user_events = UserEventBuffer::new(config.event_buffer_size);
        let queries = QueryState::new(config.event_buffer_size);
        Self {
            local: name.clone(),
            config,
            now,
            clock,
            event_clock: LamportClock::default(),
            event_min_time: 0,
            members: [(
                name,
                Entry {
                    member: local,
                    down_since: None,
                },
            )]
            .into(),
            swim_up: BTreeMap::new(),
            user_events,
            queries,
            leaving: false,
            issued: ltime,
            events: Vec::new(),
            outgoing: Vec::new(),
        }
    }

    /// Sets the time used by the following transitions.
    pub(crate) fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    /// The local member.
    pub(crate) fn local_member(&self) -> Member {
        self.members
            .get(&self.local)
            .map(|e| e.member.clone())
            .unwrap_or_else(|| unreachable_local(&self.local))
    }

    /// Every known member with a status (members only known by intent are hidden).
    pub(crate) fn members(&self) -> Vec<Member> {
        self.members
            .values()
            .filter(|e| e.member.status != MemberStatus::None)
            .map(|e| e.member.clone())
            .collect()
    }

    /// Every known member, including intent-only ones (for push-pull).
    pub(crate) fn all_members(&self) -> Vec<Member> {
        self.members.values().map(|e| e.member.clone()).collect()
    }

    /// One member by name.
    pub(crate) fn member(&self, name: &str) -> Option<Member> {
        self.members.get(name).map(|e| e.member.clone())
    }

    /// Current member-clock time.
    pub(crate) fn member_ltime(&self) -> u64 {
        self.clock.time()
    }

    /// Current user-event-clock time.
    pub(crate) fn event_ltime(&self) -> u64 {
        self.event_clock.time()
    }

    /// The member, user-event and query clocks (for the member snapshot).
    pub(crate) fn clocks(&self) -> Clocks {
        Clocks {
            member: self.clock.time(),
            event: self.event_clock.time(),
            query: self.queries.ltime(),
        }
    }

    /// Moves every clock past a previous run's `clocks`; user events up to its event
    /// time were delivered then and are not delivered again (serf's `eventMinTime`).
    pub(crate) fn restore_clocks(&mut self, clocks: Clocks) {
        self.clock.witness(clocks.member);
        self.ignore_user_events_before(clocks.event.saturating_add(1));
        self.queries.restore_clock(clocks.query);
    }

    /// Recent user events (for push-pull).
    pub(crate) fn recent_user_events(&self) -> Vec<UserEvent> {
        self.user_events.recent()
    }

    /// Takes the events emitted so far, in order.
    pub(crate) fn take_events(&mut self) -> Vec<GossipEvent> {
        std::mem::take(&mut self.events)
    }

    /// The query clock, seen-query ring and delivered queries.
    pub(crate) fn queries(&mut self) -> &mut QueryState {
        &mut self.queries
    }

    /// Takes the messages the state wants disseminated (refutations, rejoin intents).
    pub(crate) fn take_outgoing(&mut self) -> Vec<SerfMessage> {
        std::mem::take(&mut self.outgoing)
    }

    // ----- local intents -------------------------------------------------------

    /// A new alive intent for the local node with `tags` (start, set_tags, rejoin).
    pub(crate) fn local_alive_intent(&mut self, tags: Option<Tags>) -> SerfMessage {
        let local = self.local_member();
        self.issued = self.clock.increment();
        SerfMessage::Alive {
            name: local.name,
            addr: local.addr,
            tags: tags.unwrap_or(local.tags),
            ltime: self.issued,
        }
    }

    /// A leave intent for `name` (the local node, or a force-leave).
    pub(crate) fn leave_intent(&mut self, name: &str, prune: bool) -> SerfMessage {
        let ltime = self.clock.increment();
        if name == self.local {
            self.leaving = true;
            self.issued = ltime;
        }
        SerfMessage::Leave {
            name: name.to_string(),
            ltime,
            prune,
        }
    }

    /// A user event stamped with the event clock (which then advances).
    pub(crate) fn user_event(
        &mut self,
        name: String,
        payload: Vec<u8>,
        coalesce: bool,
    ) -> UserEvent {
        let ltime = self.event_clock.time();
        self.event_clock.increment();
        UserEvent {
            name,
            payload,
            ltime,
            coalesce,
        }
    }

    /// Marks the local node left once its SWIM identity was declared down.
    pub(crate) fn local_left(&mut self) {
        let now = self.now;
        if let Some(entry) = self.members.get_mut(&self.local) {
            entry.member.status = MemberStatus::Left;
            entry.down_since = Some(now);
        }
    }

    /// Ignores user events older than `ltime` (set when joining).
    pub(crate) fn ignore_user_events_before(&mut self, ltime: u64) {
        if let Some(seen) = ltime.checked_sub(1) {
            self.event_clock.witness(seen);
        }
        self.event_min_time = self.event_min_time.max(ltime);
    }

    /// Observes a peer's member clock.
    pub(crate) fn witness_member_clock(&mut self, ltime: u64) {
        self.clock.witness(ltime);
    }

    // ----- received messages ---------------------------------------------------

    /// Applies a disseminated message. Returns true when it was new and should be
    /// disseminated further.
    pub(crate) fn receive(&mut self, message: &SerfMessage) -> bool {
        match message {
            SerfMessage::Alive {
                name,
                addr,
                tags,
                ltime,
            } => self.on_alive_intent(name, *addr, tags, *ltime),
            SerfMessage::Leave { name, ltime, prune } => self.on_leave_intent(name, *ltime, *prune),
            SerfMessage::User(event) => self.on_user_event(event),
            SerfMessage::Query(query) => self.queries.receive(query),
        }
    }

    fn on_alive_intent(&mut self, name: &str, addr: SocketAddr, tags: &Tags, ltime: u64) -> bool {
        self.clock.witness(ltime);
        let now = self.now;
        if name == self.local
            && let Some(me) = self.members.get(name)
        {
            // An intent about us that we did not issue (a previous life, maybe with other
            // tags or address, maybe stamped with the same time as our fresh clock's first
            // intent): refute it with a newer one, so everyone learns our current record.
            let same = me.member.tags == *tags && me.member.addr == addr;
            let ours = ltime == self.issued && (ltime > me.member.status_ltime || same);
            if !ours {
                if ltime >= me.member.status_ltime && !self.leaving {
                    let refute = self.local_alive_intent(None);
                    self.outgoing.push(refute);
                }
                return false;
            }
        }
        let swim_up = self.swim_up.contains_key(name);
        let Some(entry) = self.members.get_mut(name) else {
            let (status, down_since) = if swim_up {
                (MemberStatus::Alive, None)
            } else {
                (MemberStatus::None, Some(now))
            };
            let member = Member {
                name: name.to_string(),
                addr,
                tags: tags.clone(),
                status,
                status_ltime: ltime,
            };
            if swim_up {
                self.events.push(GossipEvent::MemberJoin(member.clone()));
            }
            self.members
                .insert(name.to_string(), Entry { member, down_since });
            return true;
        };
        if ltime <= entry.member.status_ltime {
            return false;
        }
        let changed = entry.member.tags != *tags || entry.member.addr != addr;
        entry.member.tags = tags.clone();
        entry.member.addr = addr;
        entry.member.status_ltime = ltime;
        match entry.member.status {
            MemberStatus::Alive if changed => {
                self.events
                    .push(GossipEvent::MemberUpdate(entry.member.clone()));
            }
            MemberStatus::Leaving if name != self.local => {
                entry.member.status = MemberStatus::Alive;
            }
            MemberStatus::Left | MemberStatus::None if swim_up => {
                entry.member.status = MemberStatus::Alive;
                entry.down_since = None;
                self.events
                    .push(GossipEvent::MemberJoin(entry.member.clone()));
            }
            _ => {}
        }
        true
    }

    fn on_leave_intent(&mut self, name: &str, ltime: u64, prune: bool) -> bool {
        self.clock.witness(ltime);
        let now = self.now;
        let Some(entry) = self.members.get_mut(name) else {
            return false;
        };
        if ltime <= entry.member.status_ltime {
            return false;
        }
        if name == self.local && ltime != self.issued {
            // Somebody wants us gone (or replays an old leave) while we live: refute.
            if !self.leaving {
                let refute = self.local_alive_intent(None);
                self.outgoing.push(refute);
            }
            return false;
        }
        entry.member.status_ltime = ltime;
        match entry.member.status {
            MemberStatus::Alive => entry.member.status = MemberStatus::Leaving,
            MemberStatus::Failed => {
                entry.member.status = MemberStatus::Left;
                entry.down_since = Some(now);
                self.events
                    .push(GossipEvent::MemberLeave(entry.member.clone()));
            }
            MemberStatus::None => {
                entry.member.status = MemberStatus::Left;
                entry.down_since.get_or_insert(now);
            }
            MemberStatus::Leaving | MemberStatus::Left => {}
        }
        if prune && entry.member.status == MemberStatus::Left {
            let member = entry.member.clone();
            self.members.remove(name);
            self.events.push(GossipEvent::MemberReap(member));
        }
        true
    }

    fn on_user_event(&mut self, event: &UserEvent) -> bool {
        self.event_clock.witness(event.ltime);
        if event.ltime < self.event_min_time {
            return false;
        }
        if self
            .user_events
            .insert(self.event_clock.time(), event)
            .is_err()
        {
            return false;
        }
        self.events.push(GossipEvent::UserEvent(event.clone()));
        true
    }

    // ----- SWIM notifications --------------------------------------------------

    /// SWIM reports `id` reachable.
    pub(crate) fn swim_up(&mut self, id: &NodeId) {
        self.swim_up.insert(id.name.clone(), id.clone());
        let Some(entry) = self.members.get_mut(&id.name) else {
            return;
        };
        entry.member.addr = id.addr;
        if matches!(
            entry.member.status,
            MemberStatus::None | MemberStatus::Failed | MemberStatus::Left
        ) {
            entry.member.status = MemberStatus::Alive;
            entry.down_since = None;
            self.events
                .push(GossipEvent::MemberJoin(entry.member.clone()));
        }
    }

    /// SWIM reports `id` down (failed, or its graceful leave completed).
    pub(crate) fn swim_down(&mut self, id: &NodeId) {
        if self.swim_up.get(&id.name) != Some(id) {
            return;
        }
        self.swim_up.remove(&id.name);
        let now = self.now;
        let Some(entry) = self.members.get_mut(&id.name) else {
            return;
        };
        match entry.member.status {
            MemberStatus::Alive => {
                entry.member.status = MemberStatus::Failed;
                entry.down_since = Some(now);
                self.events
                    .push(GossipEvent::MemberFailed(entry.member.clone()));
            }
            MemberStatus::Leaving => {
                entry.member.status = MemberStatus::Left;
                entry.down_since = Some(now);
                self.events
                    .push(GossipEvent::MemberLeave(entry.member.clone()));
            }
            MemberStatus::None | MemberStatus::Left | MemberStatus::Failed => {}
        }
    }

    /// SWIM replaced identity `old` by `new` (same address, renewed generation).
    pub(crate) fn swim_renamed(&mut self, old: &NodeId, new: &NodeId) {
        if self.swim_up.get(&old.name) == Some(old) {
            self.swim_up.insert(new.name.clone(), new.clone());
        }
    }

    // ----- time ----------------------------------------------------------------

    /// Reaps failed members past the reconnect timeout and left ones past the
    /// tombstone timeout.
    pub(crate) fn reap(&mut self) {
        let now = self.now;
        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|(name, _)| **name != self.local)
            .filter_map(|(name, e)| {
                let since = e.down_since?;
                let timeout = match e.member.status {
                    MemberStatus::Failed | MemberStatus::None => self.config.reconnect_timeout,
                    MemberStatus::Left => self.config.tombstone_timeout,
                    MemberStatus::Alive | MemberStatus::Leaving => return None,
                };
                (now.saturating_duration_since(since) >= timeout).then(|| name.clone())
            })
            .collect();
        for name in expired {
            if let Some(entry) = self.members.remove(&name)
                && entry.member.status != MemberStatus::None
            {
                self.events.push(GossipEvent::MemberReap(entry.member));
            }
        }
    }
}

fn unreachable_local(name: &str) -> Member {
    // The local entry is inserted at construction and never removed (reap skips it).
    Member {
        name: name.to_string(),
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        tags: Tags::new(),
        status: MemberStatus::None,
        status_ltime: 0,
    }
}

#[cfg(test)]
mod tests;
