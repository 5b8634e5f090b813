//! The I/O shell: runs a [`Core`] on one UDP socket (SWIM packets), a TCP listener
//! on the same port (join, periodic push-pull, and answers to queries), and tokio
//! timers. Packets are sealed with the keyring's primary key and opened with any
//! installed key; those no key opens are dropped and counted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::config::{GossipConfig, MAX_PACKET, Timing};
use crate::core::{Core, CoreConfig, Output};
use crate::crypto;
use crate::error::{GossipError, KeyringError};
use crate::event::GossipEvent;
use crate::keyring::{Keyring, SecretKey};
use crate::member::{Member, MemberStatus, Tags};
use crate::message::{self, PushPull};
use crate::transport::{Frame, read_frame, write_frame};

mod probe;
mod queries;
mod snapshots;

/// Capacity of the event channel; slow subscribers see `Lagged`.
const EVENT_CHANNEL: usize = 4096;
/// Lamport ticks of user events remembered for dedup.
const EVENT_BUFFER: usize = 512;

/// Counters of a running pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GossipStats {
    /// UDP packets dropped because they could not be opened (wrong key, plaintext
    /// while encrypted, …) or decoded.
    pub dropped_packets: u64,
    /// TCP push-pull exchanges refused for the same reasons.
    pub rejected_streams: u64,
}

struct Inner {
    core: Mutex<Core>,
    keyring: RwLock<Option<Keyring>>,
    socket: UdpSocket,
    events: broadcast::Sender<GossipEvent>,
    timing: Timing,
    local_addr: SocketAddr,
    stopped: AtomicBool,
    dropped_packets: AtomicU64,
    rejected_streams: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Network-coordinate probes; `None` when coordinates are disabled.
    coords: Option<Mutex<crate::coordinates::CoordinateProbes>>,
    /// Queries this node started and is collecting answers for.
    pending: Mutex<queries::Pending>,
    /// Where the keyring is saved when it changes.
    keyring_file: Option<std::path::PathBuf>,
    /// The member snapshot file and its builder; `None` without a snapshot file.
    snapshot: Mutex<Option<snapshots::SnapshotWriter>>,
}

/// A running member of one gossip pool (LAN or WAN).
pub struct Gossip {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gossip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gossip")
            .field("local_addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl Gossip {
    /// Binds the sockets and starts the pool with only the local member.
    pub async fn start(config: GossipConfig) -> Result<Self, GossipError> {
        let (socket, listener) = bind(config.bind_addr).await?;
        let bound = socket.local_addr()?;
        let mut advertise = config.advertise_addr;
        if advertise.ip().is_unspecified() {
            advertise.set_ip(bound.ip());
        }
        if advertise.port() == 0 {
            advertise.set_port(bound.port());
        }
        let timing = Timing::for_profile(config.profile);
        let mut seed = [0u8; 32];
        aws_lc_rs::rand::fill(&mut seed)
            .map_err(|_| GossipError::Membership("no randomness for SWIM".into()))?;
        let generation = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let probe_every = config.coordinate_probe_interval;
        let restored = snapshots::restore(config.snapshot_file, config.rejoin_after_leave);
        let coords = probe::probes(
            &config.name,
            probe_every,
            u64::from_le_bytes([
                seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7],
            ]),
        );
        let (mut core, mut outputs) = Core::new(
            CoreConfig {
                name: config.name,
                addr: advertise,
                tags: config.tags,
                generation,
                swim: timing.swim.clone(),
                reconnect_timeout: config.reconnect_timeout,
                tombstone_timeout: config.tombstone_timeout,
                event_buffer_size: EVENT_BUFFER,
                user_event_size_limit: config.user_event_size_limit,
            },
            seed,
            now(),
        );
        if let Some(previous) = &restored.previous {
            outputs.extend(core.restore_clocks(now(), previous.clocks));
        }
        let (events, _) = broadcast::channel(EVENT_CHANNEL);
        let inner = Arc::new(Inner {
            core: Mutex::new(core),
            keyring: RwLock::new(config.keyring),
            keyring_file: config.keyring_file,
            snapshot: Mutex::new(restored.writer),
            pending: Mutex::new(queries::Pending::default()),
            socket,
            events,
            timing,
            local_addr: advertise,
            stopped: AtomicBool::new(false),
            dropped_packets: AtomicU64::new(0),
            rejected_streams: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
            coords,
        });
        inner.execute(outputs).await;
        let mut tasks = vec![
            tokio::spawn(udp_loop(inner.clone())),
            tokio::spawn(tcp_loop(inner.clone(), listener)),
            tokio::spawn(periodic_loop(inner.clone())),
        ];
        if let (Some(every), Some(_)) = (probe_every, &inner.coords) {
            tasks.push(tokio::spawn(probe::run(inner.clone(), every)));
        }
        if guard(&inner.snapshot).is_some() {
            tasks.push(tokio::spawn(snapshots::run_writer(inner.clone())));
        }
        if !restored.rejoin.is_empty() {
            tasks.push(tokio::spawn(snapshots::run_rejoin(
                inner.clone(),
                restored.rejoin,
            )));
        }
        guard(&inner.tasks).extend(tasks);
        Ok(Self { inner })
    }

    /// The advertised gossip address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Joins the pools of `addrs` by a TCP push-pull with each. Returns how many
    /// were contacted successfully; fails only if none was, with every reason.
    pub async fn join(&self, addrs: &[SocketAddr]) -> Result<usize, GossipError> {
        if addrs.is_empty() {
            return Err(GossipError::NoJoinAddresses);
        }
        self.inner.check_running()?;
        let mut joined = 0;
        let mut errors = Vec::new();
        for addr in addrs {
            match self.inner.push_pull(*addr, true).await {
                Ok(()) => joined += 1,
                Err(reason) => {
                    tracing::warn!(%addr, %reason, "gossip: join failed");
                    errors.push((*addr, reason));
                }
            }
        }
        if joined == 0 {
            Err(GossipError::Join(errors))
        } else {
            Ok(joined)
        }
    }

    /// Leaves gracefully: announces the intent, waits for it to spread, then
    /// declares the local identity down. Other members see the node as left.
    pub async fn leave(&self) -> Result<(), GossipError> {
        self.inner.check_running()?;
        let outputs = self.inner.with_core(|core| core.start_leave(now()));
        self.inner.execute(outputs).await;
        tokio::time::sleep(self.inner.timing.leave_propagate_delay).await;
        let outputs = self.inner.with_core(|core| core.finish_leave(now()));
        self.inner.execute(outputs).await;
        self.inner.save_snapshot(true);
        Ok(())
    }

    /// Forces `name` out of the pool: a failed member becomes left (and with `prune`
    /// is forgotten at once).
    pub async fn force_leave(&self, name: &str, prune: bool) -> Result<(), GossipError> {
        self.inner.check_running()?;
        let outputs = self
            .inner
            .with_core_result(|core| core.force_leave(now(), name, prune))?;
        self.inner.execute(outputs).await;
        Ok(())
    }

    /// Every known member, the local one included.
    pub fn members(&self) -> Vec<Member> {
        guard(&self.inner.core).members()
    }

    /// Members with status alive.
    pub fn alive_members(&self) -> Vec<Member> {
        self.members()
            .into_iter()
            .filter(|m| m.status == MemberStatus::Alive)
            .collect()
    }

    /// The local member.
    pub fn local_member(&self) -> Member {
        guard(&self.inner.core).local_member()
    }

    /// Replaces the local tags and announces them.
    pub async fn set_tags(&self, tags: Tags) -> Result<(), GossipError> {
        self.inner.check_running()?;
        let outputs = self.inner.with_core(|core| core.set_tags(now(), tags));
        self.inner.execute(outputs).await;
        Ok(())
    }

    /// Fires a user event; every member (this one included) receives it once.
    pub async fn user_event(
        &self,
        name: &str,
        payload: &[u8],
        coalesce: bool,
    ) -> Result<(), GossipError> {
        self.inner.check_running()?;
        let outputs = self
            .inner
            .with_core_result(|core| core.user_event(now(), name, payload, coalesce))?;
        self.inner.execute(outputs).await;
        Ok(())
    }

    /// Subscribes to events from now on.
    pub fn events(&self) -> broadcast::Receiver<GossipEvent> {
        self.inner.events.subscribe()
    }

    /// Installs a key (base64) for decryption on this node.
    pub fn install_key(&self, key: &str) -> Result<(), GossipError> {
        let key = SecretKey::from_base64(key)?;
        self.inner.with_keyring(|ring| {
            ring.install(key);
            Ok(())
        })
    }

    /// Makes an installed key (base64) the primary on this node.
    pub fn use_key(&self, key: &str) -> Result<(), GossipError> {
        let key = SecretKey::from_base64(key)?;
        self.inner.with_keyring(|ring| ring.use_key(&key))
    }

    /// Removes a key (base64) from this node; the primary cannot be removed.
    pub fn remove_key(&self, key: &str) -> Result<(), GossipError> {
        let key = SecretKey::from_base64(key)?;
        self.inner.with_keyring(|ring| ring.remove(&key))
    }

    /// The installed keys (base64), primary first.
    pub fn list_keys(&self) -> Result<Vec<String>, GossipError> {
        let ring = self
            .inner
            .keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.as_ref()
            .map(Keyring::list)
            .ok_or(GossipError::EncryptionDisabled)
    }

    /// Counters.
    pub fn stats(&self) -> GossipStats {
        GossipStats {
            dropped_packets: self.inner.dropped_packets.load(Ordering::Relaxed),
            rejected_streams: self.inner.rejected_streams.load(Ordering::Relaxed),
        }
    }

    /// Stops all tasks without leaving: peers will see this node fail.
    pub fn shutdown(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        for task in guard(&self.inner.tasks).drain(..) {
            task.abort();
        }
    }
}

impl Drop for Gossip {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    fn check_running(&self) -> Result<(), GossipError> {
        if self.stopped.load(Ordering::SeqCst) {
            Err(GossipError::Shutdown)
        } else {
            Ok(())
        }
    }

    /// Runs `f` on the core and publishes its events before releasing the lock, so
    /// subscribers see events in the order the core produced them.
    fn with_core(&self, f: impl FnOnce(&mut Core) -> Vec<Output>) -> Vec<Output> {
        let mut core = guard(&self.core);
        let outputs = f(&mut core);
        self.publish(outputs)
    }

    fn with_core_result(
        &self,
        f: impl FnOnce(&mut Core) -> Result<Vec<Output>, GossipError>,
    ) -> Result<Vec<Output>, GossipError> {
        let mut core = guard(&self.core);
        let outputs = f(&mut core)?;
        Ok(self.publish(outputs))
    }

    fn publish(&self, outputs: Vec<Output>) -> Vec<Output> {
        outputs
            .into_iter()
            .filter_map(|output| match output {
                Output::Event(event) => {
                    // No subscriber is not an error.
                    let _ = self.events.send(event);
                    None
                }
                other => Some(other),
            })
            .collect()
    }

    fn with_keyring(
        &self,
        f: impl FnOnce(&mut Keyring) -> Result<(), KeyringError>,
    ) -> Result<(), GossipError> {
        let saved = {
            let mut guard = self
                .keyring
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let ring = guard.as_mut().ok_or(GossipError::EncryptionDisabled)?;
            f(ring)?;
            ring.clone()
        };
        if let Err(e) = self.save_keyring(&saved) {
            tracing::warn!(error = %e, "gossip: cannot save the keyring");
        }
        Ok(())
    }

    fn keyring(&self) -> Option<Keyring> {
        self.keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Performs the sends and schedules the timers the core asked for.
    async fn execute(self: &Arc<Self>, outputs: Vec<Output>) {
        let keyring = self.keyring();
        for output in outputs {
            match output {
                Output::Send { to, data } => {
                    let packet = match crypto::seal(keyring.as_ref(), &data) {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(error = %e, "gossip: cannot seal packet");
                            continue;
                        }
                    };
                    if let Err(e) = self.socket.send_to(&packet, to).await {
                        tracing::debug!(%to, error = %e, "gossip: send failed");
                    }
                }
                Output::Timer { after, timer } => {
                    let inner = Arc::downgrade(self);
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let Some(inner) = inner.upgrade() else { return };
                        if inner.check_running().is_err() {
                            return;
                        }
                        let outputs = inner.with_core(|core| core.handle_timer(now(), timer));
                        inner.execute_boxed(outputs).await;
                    });
                }
                Output::Event(event) => {
                    let _ = self.events.send(event);
                }
                Output::Query(query) => self.answer(query),
            }
        }
    }

    /// `execute` behind a box, for the recursion through timer tasks.
    fn execute_boxed(
        self: &Arc<Self>,
        outputs: Vec<Output>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.execute(outputs))
    }

    /// One push-pull exchange with `addr`; the error is a human-readable reason.
    async fn push_pull(self: &Arc<Self>, addr: SocketAddr, join: bool) -> Result<(), String> {
        let exchange = async {
            let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let local = guard(&self.core).push_pull(join);
            let sealed = crypto::seal(self.keyring().as_ref(), &message::encode(&local))
                .map_err(|e| e.to_string())?;
            write_frame(&mut stream, &Frame::Data(sealed))
                .await
                .map_err(|e| e.to_string())?;
            match read_frame(&mut stream).await.map_err(|e| e.to_string())? {
                Frame::Error(reason) => Err(reason),
                Frame::Response(_) => Err("unexpected query answer in push-pull".to_string()),
                Frame::Data(data) => {
                    let plain =
                        crypto::open(self.keyring().as_ref(), &data).map_err(|e| e.to_string())?;
                    message::decode::<PushPull>(&plain).map_err(|e| e.to_string())
                }
            }
        };
        let remote = tokio::time::timeout(self.timing.stream_timeout, exchange)
            .await
            .map_err(|_| "timed out".to_string())??;
        let outputs = self.with_core(|core| core.merge_push_pull(now(), remote));
        self.execute(outputs).await;
        Ok(())
    }

    /// Answers one incoming push-pull stream.
    async fn serve_stream(self: Arc<Self>, mut stream: TcpStream) {
        let served = async {
            let data = match read_frame(&mut stream).await? {
                Frame::Data(data) => data,
                Frame::Response(sealed) => {
                    self.receive_response(&sealed);
                    return Ok::<_, std::io::Error>(());
                }
                Frame::Error(_) => return Ok(()),
            };
            let keyring = self.keyring();
            let remote = crypto::open(keyring.as_ref(), &data)
                .map_err(|e| e.to_string())
                .and_then(|plain| message::decode::<PushPull>(&plain).map_err(|e| e.to_string()));
            let remote = match remote {
                Ok(remote) => remote,
                Err(reason) => {
                    self.rejected_streams.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%reason, "gossip: refused push-pull");
                    return write_frame(&mut stream, &Frame::Error(reason)).await;
                }
            };
            let reply = guard(&self.core).push_pull(remote.join);
            let sealed = crypto::seal(keyring.as_ref(), &message::encode(&reply))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            write_frame(&mut stream, &Frame::Data(sealed)).await?;
            let outputs = self.with_core(|core| core.merge_push_pull(now(), remote));
            self.execute(outputs).await;
            Ok(())
        };
        match tokio::time::timeout(self.timing.stream_timeout, served).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "gossip: push-pull stream failed"),
            Err(_) => tracing::debug!("gossip: push-pull stream timed out"),
        }
    }
}

/// Binds UDP and TCP on the same port (retrying when port 0 picked a port whose
/// TCP side is taken).
async fn bind(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), GossipError> {
    let mut last = None;
    for _ in 0..16 {
        let socket = UdpSocket::bind(addr).await?;
        let mut tcp_addr = addr;
        tcp_addr.set_port(socket.local_addr()?.port());
        match TcpListener::bind(tcp_addr).await {
            Ok(listener) => return Ok((socket, listener)),
            Err(e) if addr.port() == 0 => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last
        .unwrap_or_else(|| std::io::Error::other("cannot bind gossip sockets"))
        .into())
}

async fn udp_loop(inner: Arc<Inner>) {
    let mut buf = vec![0u8; MAX_PACKET + 64];
    loop {
        let (len, from) = match inner.socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!(error = %e, "gossip: UDP receive failed");
                continue;
            }
        };
        let plain = match crypto::open(inner.keyring().as_ref(), &buf[..len]) {
            Ok(plain) => plain,
            Err(e) => {
                inner.dropped_packets.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%from, error = %e, "gossip: dropped packet");
                continue;
            }
        };
        if probe::intercept(&inner, from, &plain).await {
            continue;
        }
        let outputs = inner.with_core(|core| core.handle_packet(now(), &plain));
        inner.execute(outputs).await;
    }
}

async fn tcp_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(inner.clone().serve_stream(stream));
            }
            Err(e) => tracing::debug!(error = %e, "gossip: accept failed"),
        }
    }
}

/// Reaps on a short interval and runs push-pull anti-entropy with a random alive
/// member on the profile's interval.
async fn periodic_loop(inner: Arc<Inner>) {
    let mut reap = tokio::time::interval(inner.timing.reap_interval);
    let mut push_pull = tokio::time::interval(inner.timing.push_pull_interval);
    push_pull.tick().await;
    loop {
        tokio::select! {
            _ = reap.tick() => {
                let outputs = inner.with_core(|core| core.tick(now()));
                inner.execute(outputs).await;
            }
            _ = push_pull.tick() => {
                if let Some(peer) = random_peer(&inner)
                    && let Err(reason) = inner.push_pull(peer, false).await
                {
                    tracing::debug!(%peer, %reason, "gossip: push-pull failed");
                }
            }
        }
    }
}

fn random_peer(inner: &Inner) -> Option<SocketAddr> {
    let core = guard(&inner.core);
    if core.has_left() {
        return None;
    }
    let local = core.local_member().name;
    let peers: Vec<SocketAddr> = core
        .members()
        .into_iter()
        .filter(|m| m.status == MemberStatus::Alive && m.name != local)
        .map(|m| m.addr)
        .collect();
    if peers.is_empty() {
        return None;
    }
    let mut pick = [0u8; 8];
    aws_lc_rs::rand::fill(&mut pick).ok()?;
    let index = usize::try_from(u64::from_le_bytes(pick) % peers.len() as u64).unwrap_or(0);
    peers.get(index).copied()
}
