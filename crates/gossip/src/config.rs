//! Configuration of a gossip pool: who we are, where we listen, the keyring, and a
//! timing profile (LAN, WAN, or fast local timers for tests).

use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use crate::crypto;
use crate::keyring::Keyring;
use crate::member::Tags;

/// Largest UDP payload we send, envelope included.
pub(crate) const MAX_PACKET: usize = 1400;
/// Default reconnect timeout (Consul's `reconnect_timeout`, 72h).
pub const DEFAULT_RECONNECT_TIMEOUT: Duration = Duration::from_secs(72 * 3600);
/// Default tombstone timeout for left members (serf's 24h).
pub const DEFAULT_TOMBSTONE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Serf's default user-event size limit (name plus payload).
pub const DEFAULT_USER_EVENT_SIZE_LIMIT: usize = 512;

/// Timer profile of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Local-area network timers (Consul's LAN pool).
    Lan,
    /// Wide-area timers (Consul's WAN pool of servers).
    Wan,
    /// Fast timers for tests on loopback.
    Local,
}

/// Settings of one gossip pool member.
#[derive(Debug, Clone)]
pub struct GossipConfig {
    /// Node name, unique in the pool.
    pub name: String,
    /// Address the UDP and TCP sockets bind to (port 0 picks a free port).
    pub bind_addr: SocketAddr,
    /// Address announced to peers; an unspecified IP or port 0 is taken from the
    /// bound socket.
    pub advertise_addr: SocketAddr,
    /// Initial tags.
    pub tags: Tags,
    /// Encryption keys; `None` sends plaintext.
    pub keyring: Option<Keyring>,
    /// Where to save the keyring whenever a keyring operation changes it (Consul's
    /// `serf/local.keyring`); `None` keeps it in memory only.
    pub keyring_file: Option<PathBuf>,
    /// Where to keep the member snapshot (Consul's `serf/local.snapshot`): restored clocks
    /// and members re-joined at start; `None` keeps nothing across restarts.
    pub snapshot_file: Option<PathBuf>,
    /// Re-join the snapshot's members even after a graceful leave (`rejoin_after_leave`).
    pub rejoin_after_leave: bool,
    /// Timer profile.
    pub profile: Profile,
    /// How long failed members are kept before being reaped.
    pub reconnect_timeout: Duration,
    /// How long left members are kept before being reaped.
    pub tombstone_timeout: Duration,
    /// Maximum length of a user event's name plus payload.
    pub user_event_size_limit: usize,
    /// How often to probe a peer for its network coordinate (Vivaldi RTT); `None` disables
    /// coordinates (Consul's `disable_coordinates`).
    pub coordinate_probe_interval: Option<Duration>,
}

impl GossipConfig {
    /// A config with no tags, no encryption and default timeouts, advertising the
    /// bind address.
    pub fn new(name: impl Into<String>, bind_addr: SocketAddr, profile: Profile) -> Self {
        Self {
            name: name.into(),
            bind_addr,
            advertise_addr: bind_addr,
            tags: Tags::new(),
            keyring: None,
            keyring_file: None,
            snapshot_file: None,
            rejoin_after_leave: false,
            profile,
            reconnect_timeout: DEFAULT_RECONNECT_TIMEOUT,
            tombstone_timeout: DEFAULT_TOMBSTONE_TIMEOUT,
            user_event_size_limit: DEFAULT_USER_EVENT_SIZE_LIMIT,
            coordinate_probe_interval: Some(crate::coordinates::default_probe_interval(profile)),
        }
    }
}

/// Timers derived from a profile.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    pub(crate) swim: foca::Config,
    pub(crate) push_pull_interval: Duration,
    pub(crate) reap_interval: Duration,
    pub(crate) leave_propagate_delay: Duration,
    pub(crate) stream_timeout: Duration,
}

impl Timing {
    pub(crate) fn for_profile(profile: Profile) -> Self {
        let hint = NonZeroU32::new(32).unwrap_or(NonZeroU32::MIN);
        let mut timing = match profile {
            Profile::Lan => Self {
                swim: foca::Config::new_lan(hint),
                push_pull_interval: Duration::from_secs(30),
                reap_interval: Duration::from_secs(1),
                leave_propagate_delay: Duration::from_secs(1),
                stream_timeout: Duration::from_secs(10),
            },
            Profile::Wan => Self {
                swim: foca::Config::new_wan(hint),
                push_pull_interval: Duration::from_secs(60),
                reap_interval: Duration::from_secs(1),
                leave_propagate_delay: Duration::from_secs(2),
                stream_timeout: Duration::from_secs(30),
            },
            Profile::Local => Self {
                swim: local_swim(),
                push_pull_interval: Duration::from_secs(2),
                reap_interval: Duration::from_millis(100),
                leave_propagate_delay: Duration::from_millis(300),
                stream_timeout: Duration::from_secs(5),
            },
        };
        timing.swim.max_packet_size =
            NonZeroUsize::new(MAX_PACKET - crypto::OVERHEAD).unwrap_or(NonZeroUsize::MIN);
        timing
    }
}

fn local_swim() -> foca::Config {
    let three = NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN);
    foca::Config {
        probe_period: Duration::from_millis(250),
        probe_rtt: Duration::from_millis(150),
        num_indirect_probes: three,
        max_transmissions: NonZeroU8::new(8).unwrap_or(NonZeroU8::MIN),
        suspect_to_down_after: Duration::from_millis(1500),
        remove_down_after: Some(Duration::from_secs(15)),
        max_packet_size: NonZeroUsize::new(MAX_PACKET).unwrap_or(NonZeroUsize::MIN),
        notify_down_members: true,
        periodic_announce: Some(foca::PeriodicParams {
            frequency: Duration::from_secs(2),
            num_members: NonZeroUsize::MIN,
        }),
        periodic_announce_to_down_members: Some(foca::PeriodicParams {
            frequency: Duration::from_secs(3),
            num_members: NonZeroUsize::MIN,
        }),
        periodic_gossip: Some(foca::PeriodicParams {
            frequency: Duration::from_millis(100),
            num_members: three,
        }),
    }
}
