//! Leader redirects: a follower answers peering RPCs with `FailedPrecondition` and the
//! leader's peering address in the `x-legate-leader` metadata, so the dialer retries there at
//! once instead of backing off.

use tonic::Code;
use tonic::Status;
use tonic::metadata::MetadataValue;

/// The metadata key carrying the leader's `host:port` on the peering port.
pub const LEADER_METADATA_KEY: &str = "x-legate-leader";

/// The status a follower returns: `FailedPrecondition`, with the leader's address when known.
pub fn not_leader(leader: Option<&str>) -> Status {
    let mut status = Status::new(
        Code::FailedPrecondition,
        "cannot handle peering requests: not the leader",
    );
    if let Some(value) = leader.and_then(|addr| MetadataValue::try_from(addr).ok()) {
        status.metadata_mut().insert(LEADER_METADATA_KEY, value);
    }
    status
}

/// The leader address a `FailedPrecondition` status points at, if any.
pub fn leader_redirect(status: &Status) -> Option<String> {
    if status.code() != Code::FailedPrecondition {
        return None;
    }
    let value = status.metadata().get(LEADER_METADATA_KEY)?;
    let addr = value.to_str().ok()?.trim();
    (!addr.is_empty()).then(|| addr.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_round_trips() {
        let s = not_leader(Some("10.0.0.2:8503"));
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(leader_redirect(&s).as_deref(), Some("10.0.0.2:8503"));
    }

    #[test]
    fn no_leader_known_means_no_redirect() {
        assert_eq!(leader_redirect(&not_leader(None)), None);
        assert_eq!(leader_redirect(&not_leader(Some("bad\nvalue"))), None);
    }

    #[test]
    fn only_failed_precondition_redirects() {
        let mut s = Status::permission_denied("bad secret");
        s.metadata_mut()
            .insert(LEADER_METADATA_KEY, MetadataValue::from_static("x:1"));
        assert_eq!(leader_redirect(&s), None);
    }
}
