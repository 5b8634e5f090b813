//! User events (`/v1/event/fire`, `/v1/event/list`): the most recent ones this agent has seen,
//! as Consul keeps them. Events travel between agents by gossip (`membership.rs`); one fired
//! here and echoed back by gossip is kept once (same ID).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;
use serde::Serialize;
use tokio::sync::watch;

/// How many events an agent remembers, as Consul.
pub const EVENT_BUFFER_SIZE: usize = 256;

/// One user event, in Consul's JSON shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserEvent {
    /// Event ID (UUID).
    #[serde(rename = "ID")]
    pub id: String,
    /// Event name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Opaque payload, base64 in JSON (`null` when absent).
    #[serde(rename = "Payload", with = "payload_base64", default)]
    pub payload: Option<Vec<u8>>,
    /// Regexp of node names that should handle it.
    #[serde(rename = "NodeFilter")]
    pub node_filter: String,
    /// Regexp of service names that should handle it.
    #[serde(rename = "ServiceFilter")]
    pub service_filter: String,
    /// Regexp of tags that should handle it.
    #[serde(rename = "TagFilter")]
    pub tag_filter: String,
    /// Event protocol version.
    #[serde(rename = "Version", default)]
    pub version: u32,
    /// Lamport time.
    #[serde(rename = "LTime", default)]
    pub ltime: u64,
}

mod payload_base64 {
    use base64::Engine;
    use serde::Deserialize;
    use serde::Deserializer;
    use serde::Serializer;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| base64::engine::general_purpose::STANDARD.decode(t))
            .transpose()
            .map_err(serde::de::Error::custom)
    }

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => s.serialize_none(),
        }
    }
}

/// The most recent events, and an index that moves with each one for blocking queries.
pub struct EventLog {
    events: Mutex<VecDeque<UserEvent>>,
    ltime: Mutex<u64>,
    index: watch::Sender<u64>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog {
            events: Mutex::new(VecDeque::new()),
            ltime: Mutex::new(0),
            index: watch::channel(0).0,
        }
    }
}

impl EventLog {
    /// Stamp `event` with the next Lamport time, remember it, and return it. An event already
    /// seen (same ID: fired here and echoed back by gossip) is kept once.
    pub fn fire(&self, mut event: UserEvent) -> UserEvent {
        if let Some(seen) = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|e| e.id == event.id)
        {
            return seen.clone();
        }
        {
            let mut ltime = self.ltime.lock().unwrap_or_else(|p| p.into_inner());
            *ltime += 1;
            event.ltime = *ltime;
        }
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() == EVENT_BUFFER_SIZE {
            events.pop_front();
        }
        events.push_back(event.clone());
        drop(events);
        self.index.send_modify(|i| *i += 1);
        event
    }

    /// Events, oldest first, optionally only those named `name`.
    pub fn list(&self, name: Option<&str>) -> Vec<UserEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|e| name.is_none_or(|n| e.name == n))
            .cloned()
            .collect()
    }

    /// A receiver whose value changes with every event.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.index.subscribe()
    }
}

/// Consul's index for an event list: derived from the last event's ID, so that any new event
/// changes it (Consul XORs the UUID halves).
pub fn list_index(events: &[UserEvent]) -> u64 {
    let Some(last) = events.last() else {
        return 1;
    };
    match uuid::Uuid::parse_str(&last.id) {
        Ok(id) => {
            let (hi, lo) = id.as_u64_pair();
            (hi ^ lo).max(1)
        }
        Err(_) => 1,
    }
}
