//! Encoding of openraft requests and replies into the opaque payloads a [`RaftTransport`]
//! carries.
//!
//! Every message is JSON (openraft's own serde derives; commands are base64 inside). A snapshot
//! is framed as `u32 big-endian header length | JSON header {vote, meta} | raw snapshot bytes`
//! so the (possibly large) state is not inflated by JSON. The whole snapshot travels in one
//! message; chunked streaming is future work.
//!
//! [`RaftTransport`]: crate::RaftTransport

use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::SnapshotMeta;
use crate::types::Vote;

/// Encode one message as JSON.
pub(crate) fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(msg).map_err(|e| format!("encode raft message: {e}"))
}

/// Decode one JSON message.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("decode raft message: {e}"))
}

/// The JSON part of an install-snapshot message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapshotHeader {
    pub(crate) vote: Vote,
    pub(crate) meta: SnapshotMeta,
}

/// Frame a snapshot: header length, JSON header, raw data.
pub(crate) fn encode_snapshot(header: &SnapshotHeader, data: &[u8]) -> Result<Vec<u8>, String> {
    let head = encode(header)?;
    let len = u32::try_from(head.len()).map_err(|_| "snapshot header too large".to_string())?;
    let mut out = Vec::with_capacity(4 + head.len() + data.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(data);
    Ok(out)
}

/// Split a framed snapshot back into header and data.
pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<(SnapshotHeader, Vec<u8>), String> {
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| "snapshot message too short".to_string())?;
    let len = usize::try_from(u32::from_be_bytes(*len))
        .map_err(|_| "snapshot header length overflows".to_string())?;
    if rest.len() < len {
        return Err("snapshot header truncated".to_string());
    }
    let (head, data) = rest.split_at(len);
    Ok((decode(head)?, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::types::NodeKey;

    fn header() -> SnapshotHeader {
        SnapshotHeader {
            vote: Vote::new(3, NodeKey("a".into())),
            meta: SnapshotMeta::default(),
        }
    }

    #[test]
    fn snapshot_frame_round_trips() {
        let bytes = encode_snapshot(&header(), b"state").unwrap();
        let (h, data) = decode_snapshot(&bytes).unwrap();
        assert_eq!(h, header());
        assert_eq!(data, b"state");
    }

    #[test]
    fn short_or_truncated_frames_are_errors() {
        assert!(decode_snapshot(&[0, 0]).is_err());
        assert!(decode_snapshot(&[0, 0, 0, 9, b'{']).is_err());
    }

    proptest! {
        #[test]
        fn decode_snapshot_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_snapshot(&bytes);
        }

        #[test]
        fn snapshot_data_survives_framing(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let bytes = encode_snapshot(&header(), &data).unwrap();
            let (_, back) = decode_snapshot(&bytes).unwrap();
            prop_assert_eq!(back, data);
        }
    }
}
