//! The pure gossip core: foca's SWIM state machine plus our serf state, driven by
//! packets, timer firings and API calls, each with `now` given by the caller.
//! Every call returns the I/O it wants done ([`Output`]); the core owns no socket,
//! no timer and no clock.
//!
//! foca owns a [`BroadcastHandler`], so the serf state it must consult lives behind
//! a mutex shared by the handler and the core. The core never holds that lock while
//! calling into foca.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use foca::{BroadcastHandler, Foca, Notification, PostcardCodec, Runtime, Timer};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::GossipError;
use crate::event::GossipEvent;
use crate::identity::NodeId;
use crate::member::{Member, MemberStatus, Tags};
use crate::member_snapshot::Clocks;
use crate::message::{self, BroadcastKey, DecodeError, PushPull, SerfMessage};
use crate::query::{IncomingQuery, QueryKey};
use crate::serf::{SerfConfig, SerfState};

/// I/O requested by the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this (plaintext) SWIM packet to `to`.
    Send {
        /// Destination gossip address.
        to: SocketAddr,
        /// Packet bytes, before encryption.
        data: Vec<u8>,
    },
    /// Call [`Core::handle_timer`] with `timer` after `after`.
    Timer {
        /// Delay.
        after: Duration,
        /// The timer to hand back.
        timer: Timer<NodeId>,
    },
    /// Deliver this event to subscribers.
    Event(GossipEvent),
    /// Answer this query (delivered once per node, the originator included).
    Query(IncomingQuery),
}

/// Static settings of a core.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Node name.
    pub name: String,
    /// Advertised gossip address.
    pub addr: SocketAddr,
    /// Initial tags.
    pub tags: Tags,
    /// Initial SWIM generation (e.g. start time in milliseconds).
    pub generation: u64,
    /// SWIM timers and limits.
    pub swim: foca::Config,
    /// Failed members are reaped after this long.
    pub reconnect_timeout: Duration,
    /// Left members are reaped after this long.
    pub tombstone_timeout: Duration,
    /// Lamport ticks of user events remembered for dedup.
    pub event_buffer_size: usize,
    /// Maximum length of a user event's name plus payload.
    pub user_event_size_limit: usize,
}

type Shared = Arc<Mutex<SerfState>>;

fn lock(state: &Shared) -> MutexGuard<'_, SerfState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// foca's view of our custom broadcasts: decode, apply to the serf state, and tell
/// foca whether to keep disseminating.
struct Handler {
    state: Shared,
}

impl BroadcastHandler<NodeId> for Handler {
    type Key = BroadcastKey;
    type Error = DecodeError;

    fn receive_item(
        &mut self,
        data: &[u8],
        _sender: Option<&NodeId>,
    ) -> Result<Option<BroadcastKey>, DecodeError> {
        let message: SerfMessage = message::decode(data)?;
        let fresh = lock(&self.state).receive(&message);
        Ok(fresh.then(|| message.key()))
    }
}

/// Collects foca's requests and forwards its notifications to the serf state.
struct Collect<'a> {
    state: &'a Shared,
    out: &'a mut Vec<Output>,
    rejoined: bool,
}

impl Runtime<NodeId> for Collect<'_> {
    fn notify(&mut self, notification: Notification<'_, NodeId>) {
        let mut state = lock(self.state);
        match notification {
            Notification::MemberUp(id) => state.swim_up(id),
            Notification::MemberDown(id) => state.swim_down(id),
            Notification::Rename(old, new) => state.swim_renamed(old, new),
            Notification::Rejoin(id) => {
                tracing::info!(
                    generation = id.generation,
                    "gossip: rejoined with a renewed identity"
                );
                self.rejoined = true;
            }
            Notification::Active => tracing::debug!("gossip: connected to the cluster"),
            Notification::Idle => tracing::debug!("gossip: no active members"),
            Notification::Defunct => tracing::debug!("gossip: declared down by the cluster"),
        }
    }

    fn send_to(&mut self, to: NodeId, data: &[u8]) {
        self.out.push(Output::Send {
            to: to.addr,
            data: data.to_vec(),
        });
    }

    fn submit_after(&mut self, timer: Timer<NodeId>, after: Duration) {
        self.out.push(Output::Timer { after, timer });
    }
}

/// One node's gossip state machine.
pub struct Core {
    foca: Foca<NodeId, PostcardCodec, StdRng, Handler>,
    state: Shared,
    user_event_size_limit: usize,
    left: bool,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("identity", self.foca.identity())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A core whose only member is itself. `seed` seeds SWIM's member selection.
    /// The returned outputs schedule SWIM's first timers.
    pub fn new(config: CoreConfig, seed: [u8; 32], now: Instant) -> (Self, Vec<Output>) {
        let serf = SerfConfig {
            reconnect_timeout: config.reconnect_timeout,
            tombstone_timeout: config.tombstone_timeout,
            event_buffer_size: config.event_buffer_size,
        };
        let state = Arc::new(Mutex::new(SerfState::new(
            config.name.clone(),
            config.addr,
            config.tags,
            serf,
            now,
        )));
        let identity = NodeId {
            name: config.name,
            addr: config.addr,
            generation: config.generation,
        };
        let foca = Foca::with_custom_broadcast(
            identity,
            config.swim,
            StdRng::from_seed(seed),
            PostcardCodec,
            Handler {
                state: state.clone(),
            },
        );
        let mut core = Self {
            foca,
            state,
            user_event_size_limit: config.user_event_size_limit,
            left: false,
        };
        let mut out = Vec::new();
        let intent = lock(&core.state).local_alive_intent(None);
        core.disseminate(&intent, &mut out);
        // foca arms its probe/gossip timers itself once it has a member.
        (core, out)
    }

    /// The local SWIM identity.
    pub fn identity(&self) -> &NodeId {
        self.foca.identity()
    }

    /// Every known member (including the local one), by name.
    pub fn members(&self) -> Vec<Member> {
        lock(&self.state).members()
    }

    /// The local member.
    pub fn local_member(&self) -> Member {
        lock(&self.state).local_member()
    }

    /// Number of members SWIM considers reachable (excluding the local node).
    pub fn num_reachable(&self) -> usize {
        self.foca.num_members()
    }

    /// The serf Lamport clocks (member, user event, query).
    pub fn clocks(&self) -> Clocks {
        lock(&self.state).clocks()
    }

    /// Restores a previous run's clocks and announces the local node again with a time
    /// newer than any intent that run issued, so peers take this run's record.
    pub fn restore_clocks(&mut self, now: Instant, clocks: Clocks) -> Vec<Output> {
        lock(&self.state).restore_clocks(clocks);
        self.local_intent(now, |state| state.local_alive_intent(None))
    }

    /// Whether the local node has completed a leave.
    pub fn has_left(&self) -> bool {
        self.left
    }

    /// Handles one received (already decrypted) SWIM packet.
    pub fn handle_packet(&mut self, now: Instant, data: &[u8]) -> Vec<Output> {
        self.step(now, |foca, rt| foca.handle_data(data, rt))
    }

    /// Handles a timer previously requested with [`Output::Timer`].
    pub fn handle_timer(&mut self, now: Instant, timer: Timer<NodeId>) -> Vec<Output> {
        self.step(now, |foca, rt| foca.handle_timer(timer, rt))
    }

    /// Periodic housekeeping: reaps failed and left members past their timeouts.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut state = lock(&self.state);
        state.set_now(now);
        state.reap();
        state.take_events().into_iter().map(Output::Event).collect()
    }

    /// Changes the local tags and announces them.
    pub fn set_tags(&mut self, now: Instant, tags: Tags) -> Vec<Output> {
        self.local_intent(now, |state| state.local_alive_intent(Some(tags)))
    }

    /// Starts a graceful leave: announces the intent (status leaving). Call
    /// [`Core::finish_leave`] after giving the intent time to spread.
    pub fn start_leave(&mut self, now: Instant) -> Vec<Output> {
        self.local_intent(now, |state| {
            let name = state.local_member().name;
            state.leave_intent(&name, false)
        })
    }

    /// Completes a graceful leave: SWIM declares the local identity down (status left).
    pub fn finish_leave(&mut self, now: Instant) -> Vec<Output> {
        self.left = true;
        let mut out = self.step(now, |foca, rt| foca.leave_cluster(rt));
        let mut state = lock(&self.state);
        state.local_left();
        out.extend(state.take_events().into_iter().map(Output::Event));
        out
    }

    /// Forces a member out: a failed member becomes left (and is forgotten with
    /// `prune`); an alive member is marked leaving and will refute if it is alive.
    pub fn force_leave(
        &mut self,
        now: Instant,
        name: &str,
        prune: bool,
    ) -> Result<Vec<Output>, GossipError> {
        if lock(&self.state).member(name).is_none() {
            return Err(GossipError::UnknownMember(name.to_string()));
        }
        Ok(self.local_intent(now, |state| state.leave_intent(name, prune)))
    }

    /// Fires a user event to every member (including this one).
    pub fn user_event(
        &mut self,
        now: Instant,
        name: &str,
        payload: &[u8],
        coalesce: bool,
    ) -> Result<Vec<Output>, GossipError> {
        if name.len() + payload.len() > self.user_event_size_limit {
            return Err(GossipError::UserEventTooLarge {
                limit: self.user_event_size_limit,
            });
        }
        Ok(self.local_intent(now, |state| {
            SerfMessage::User(state.user_event(name.to_string(), payload.to_vec(), coalesce))
        }))
    }

    /// Starts a query named `name` with random `id`: stamps it with the query clock and
    /// disseminates it. Every member, this one included, gets it once as
    /// [`Output::Query`]; answers go to this node's address.
    pub(crate) fn query(
        &mut self,
        now: Instant,
        id: u32,
        name: &str,
        payload: &[u8],
        relay_factor: u8,
    ) -> (QueryKey, Vec<Output>) {
        let identity = self.foca.identity().clone();
        let mut key = None;
        let out = self.local_intent(now, |state| {
            let query = state.queries().stamp(
                id,
                &identity.name,
                identity.addr,
                name,
                payload,
                relay_factor,
            );
            key = Some(query.key());
            SerfMessage::Query(query)
        });
        // `local_intent` always runs the closure.
        let key = key.unwrap_or(QueryKey { ltime: 0, id });
        (key, out)
    }

    /// The state to send in a push-pull exchange.
    pub(crate) fn push_pull(&self, join: bool) -> PushPull {
        let state = lock(&self.state);
        PushPull {
            from: self.foca.identity().clone(),
            join,
            member_ltime: state.member_ltime(),
            event_ltime: state.event_ltime(),
            members: state.all_members(),
            swim: self.foca.iter_membership_state().cloned().collect(),
            events: state.recent_user_events(),
        }
    }

    /// Merges a peer's push-pull state. With `join`, user events older than the
    /// peer's clock are not replayed to us.
    pub(crate) fn merge_push_pull(&mut self, now: Instant, remote: PushPull) -> Vec<Output> {
        let mut out = Vec::new();
        {
            let mut state = lock(&self.state);
            state.set_now(now);
            state.witness_member_clock(remote.member_ltime);
            if remote.join {
                state.ignore_user_events_before(remote.event_ltime);
            }
        }
        for member in remote.members {
            let intent = if member.status == MemberStatus::Left {
                SerfMessage::Leave {
                    name: member.name,
                    ltime: member.status_ltime,
                    prune: false,
                }
            } else {
                SerfMessage::Alive {
                    name: member.name,
                    addr: member.addr,
                    tags: member.tags,
                    ltime: member.status_ltime,
                }
            };
            self.disseminate(&intent, &mut out);
        }
        if !remote.join {
            for event in remote.events {
                self.disseminate(&SerfMessage::User(event), &mut out);
            }
        }
        let from = remote.from.clone();
        let mut swim = remote.swim;
        swim.push(foca::Member::alive(from.clone()));
        out.extend(self.step(now, |foca, rt| {
            foca.apply_many(swim.into_iter(), true, &mut *rt)?;
            foca.announce(from, rt)
        }));
        out
    }

    fn local_intent(
        &mut self,
        now: Instant,
        make: impl FnOnce(&mut SerfState) -> SerfMessage,
    ) -> Vec<Output> {
        let message = {
            let mut state = lock(&self.state);
            state.set_now(now);
            make(&mut state)
        };
        let mut out = Vec::new();
        self.disseminate(&message, &mut out);
        out.extend(self.step(now, |foca, rt| foca.gossip(rt)));
        out
    }

    /// Applies a message through foca's handler so that new ones are disseminated.
    fn disseminate(&mut self, message: &SerfMessage, out: &mut Vec<Output>) {
        if let Err(e) = self.foca.add_broadcast(&message::encode(message)) {
            tracing::warn!(error = %e, "gossip: cannot queue broadcast");
        }
        self.drain_state(out);
    }

    fn drain_state(&mut self, out: &mut Vec<Output>) {
        loop {
            let (events, outgoing, queries) = {
                let mut state = lock(&self.state);
                let queries = state.queries().take_delivered();
                (state.take_events(), state.take_outgoing(), queries)
            };
            out.extend(events.into_iter().map(Output::Event));
            out.extend(queries.into_iter().map(|q| Output::Query(IncomingQuery(q))));
            if outgoing.is_empty() {
                return;
            }
            for message in outgoing {
                if let Err(e) = self.foca.add_broadcast(&message::encode(&message)) {
                    tracing::warn!(error = %e, "gossip: cannot queue broadcast");
                }
            }
        }
    }

    fn step(
        &mut self,
        now: Instant,
        call: impl FnOnce(
            &mut Foca<NodeId, PostcardCodec, StdRng, Handler>,
            &mut Collect<'_>,
        ) -> Result<(), foca::Error>,
    ) -> Vec<Output> {
        lock(&self.state).set_now(now);
        let mut out = Vec::new();
        let mut collect = Collect {
            state: &self.state,
            out: &mut out,
            rejoined: false,
        };
        if let Err(e) = call(&mut self.foca, &mut collect) {
            tracing::debug!(error = %e, "gossip: SWIM rejected input");
        }
        let rejoined = collect.rejoined;
        self.drain_state(&mut out);
        if rejoined && !self.left {
            let intent = lock(&self.state).local_alive_intent(None);
            self.disseminate(&intent, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests;
