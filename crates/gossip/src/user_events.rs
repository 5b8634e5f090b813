//! The recent-user-event buffer: a ring indexed by Lamport time that deduplicates
//! events by (ltime, name, payload hash) and rejects events older than the ring.

use crate::event::UserEvent;
use crate::message::payload_hash;

/// Why an incoming user event is not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Already delivered.
    Duplicate,
    /// Older than the buffer covers (or than the join-time minimum).
    TooOld,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    ltime: u64,
    events: Vec<(String, u64, UserEvent)>,
}

/// Ring of recent user events.
#[derive(Debug, Clone)]
pub(crate) struct UserEventBuffer {
    slots: Vec<Slot>,
}

impl UserEventBuffer {
    /// A buffer covering `size` Lamport ticks (at least one).
    pub(crate) fn new(size: usize) -> Self {
        Self {
            slots: vec![Slot::default(); size.max(1)],
        }
    }

    /// Records `event` if it is new. `clock_now` is the event clock after witnessing it.
    pub(crate) fn insert(&mut self, clock_now: u64, event: &UserEvent) -> Result<(), Rejected> {
        let size = self.slots.len() as u64;
        if clock_now > size && event.ltime < clock_now - size {
            return Err(Rejected::TooOld);
        }
        let index = usize::try_from(event.ltime % size).unwrap_or(0);
        let slot = &mut self.slots[index];
        let hash = payload_hash(&event.payload);
        if slot.ltime == event.ltime {
            if slot
                .events
                .iter()
                .any(|(name, h, _)| *name == event.name && *h == hash)
            {
                return Err(Rejected::Duplicate);
            }
        } else {
            *slot = Slot {
                ltime: event.ltime,
                events: Vec::new(),
            };
        }
        slot.events.push((event.name.clone(), hash, event.clone()));
        Ok(())
    }

    /// Every buffered event, oldest Lamport time first.
    pub(crate) fn recent(&self) -> Vec<UserEvent> {
        let mut slots: Vec<&Slot> = self.slots.iter().filter(|s| !s.events.is_empty()).collect();
        slots.sort_by_key(|s| s.ltime);
        slots
            .into_iter()
            .flat_map(|s| s.events.iter().map(|(_, _, e)| e.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, payload: &[u8], ltime: u64) -> UserEvent {
        UserEvent {
            name: name.into(),
            payload: payload.to_vec(),
            ltime,
            coalesce: false,
        }
    }

    #[test]
    fn dedups_by_ltime_name_and_payload() {
        let mut buf = UserEventBuffer::new(8);
        assert_eq!(buf.insert(2, &ev("deploy", b"v1", 1)), Ok(()));
        assert_eq!(
            buf.insert(2, &ev("deploy", b"v1", 1)),
            Err(Rejected::Duplicate)
        );
        assert_eq!(buf.insert(2, &ev("deploy", b"v2", 1)), Ok(()));
        assert_eq!(buf.insert(2, &ev("restart", b"v1", 1)), Ok(()));
        assert_eq!(buf.insert(3, &ev("deploy", b"v1", 2)), Ok(()));
        assert_eq!(buf.recent().len(), 4);
    }

    #[test]
    fn rejects_events_older_than_the_ring() {
        let mut buf = UserEventBuffer::new(4);
        assert_eq!(buf.insert(20, &ev("a", b"", 15)), Err(Rejected::TooOld));
        assert_eq!(buf.insert(20, &ev("a", b"", 16)), Ok(()));
    }

    #[test]
    fn newer_ltime_evicts_slot() {
        let mut buf = UserEventBuffer::new(4);
        buf.insert(2, &ev("a", b"", 1)).unwrap();
        buf.insert(6, &ev("b", b"", 5)).unwrap();
        assert_eq!(buf.recent(), vec![ev("b", b"", 5)]);
    }
}
