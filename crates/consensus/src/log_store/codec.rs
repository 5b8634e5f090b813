//! How a raft log entry is stored in redb's `logs` table.
//!
//! Version 1 is binary: `0x01`, the term and the index (big-endian u64), a payload tag, then
//! the payload — nothing for a blank entry, the raw command bytes for a normal one, JSON for a
//! membership change. Entries written as JSON by earlier versions (they start with `{`) are
//! still read.

use std::io;

use openraft::EntryPayload;

use crate::types::Command;
use crate::types::Entry;
use crate::types::TypeConfig;

const V1: u8 = 1;
const BLANK: u8 = 0;
const NORMAL: u8 = 1;
const MEMBERSHIP: u8 = 2;
/// Version byte, term, index, payload tag.
const HEADER: usize = 1 + 8 + 8 + 1;

/// Append the stored form of `entry` to `out`.
pub(super) fn encode_entry(entry: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
    out.push(V1);
    out.extend_from_slice(&entry.log_id.leader_id.term.to_be_bytes());
    out.extend_from_slice(&entry.log_id.index.to_be_bytes());
    match &entry.payload {
        EntryPayload::Blank => out.push(BLANK),
        EntryPayload::Normal(cmd) => {
            out.push(NORMAL);
            out.extend_from_slice(&cmd.0);
        }
        EntryPayload::Membership(m) => {
            out.push(MEMBERSHIP);
            serde_json::to_writer(&mut *out, m).map_err(invalid)?;
        }
    }
    Ok(())
}

/// Read an entry stored by [`encode_entry`] (or as JSON by an earlier version).
pub(super) fn decode_entry(bytes: &[u8]) -> io::Result<Entry> {
    if bytes.first() == Some(&b'{') {
        return serde_json::from_slice(bytes).map_err(invalid);
    }
    if bytes.len() < HEADER || bytes[0] != V1 {
        return Err(invalid("unknown raft log entry encoding"));
    }
    let (term, rest) = split_u64(&bytes[1..])?;
    let (index, rest) = split_u64(rest)?;
    let (tag, body) = rest
        .split_first()
        .ok_or_else(|| invalid("truncated raft log entry"))?;
    let payload = match *tag {
        BLANK => EntryPayload::Blank,
        NORMAL => EntryPayload::Normal(Command(body.to_vec())),
        MEMBERSHIP => EntryPayload::Membership(serde_json::from_slice(body).map_err(invalid)?),
        _ => return Err(invalid("unknown raft log entry payload")),
    };
    let leader = openraft::alias::CommittedLeaderIdOf::<TypeConfig>::new(term);
    Ok(Entry {
        log_id: openraft::LogId::new(leader, index),
        payload,
    })
}

fn split_u64(bytes: &[u8]) -> io::Result<(u64, &[u8])> {
    let (head, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| invalid("truncated raft log entry"))?;
    Ok((u64::from_be_bytes(*head), rest))
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::types::NodeKey;
    use crate::types::NodeMeta;

    fn entry(term: u64, index: u64, payload: openraft::alias::EntryPayloadOf<TypeConfig>) -> Entry {
        let leader = openraft::alias::CommittedLeaderIdOf::<TypeConfig>::new(term);
        Entry {
            log_id: openraft::LogId::new(leader, index),
            payload,
        }
    }

    fn round_trip(e: &Entry) -> Entry {
        let mut buf = Vec::new();
        encode_entry(e, &mut buf).unwrap();
        decode_entry(&buf).unwrap()
    }

    #[test]
    fn blank_and_membership_round_trip() {
        let blank = entry(3, 9, EntryPayload::Blank);
        assert_eq!(round_trip(&blank), blank);
        let nodes = BTreeMap::from([(
            NodeKey("n1".into()),
            NodeMeta {
                name: "a".into(),
                rpc_addr: "127.0.0.1:8300".into(),
            },
        )]);
        let voters = vec![BTreeSet::from([NodeKey("n1".into())])];
        let m = openraft::Membership::new(voters, nodes).unwrap();
        let e = entry(1, 1, EntryPayload::Membership(m));
        assert_eq!(round_trip(&e), e);
    }

    #[test]
    fn json_entries_from_earlier_versions_still_decode() {
        let e = entry(2, 5, EntryPayload::Normal(Command(b"hello".to_vec())));
        let json = serde_json::to_vec(&e).unwrap();
        assert_eq!(decode_entry(&json).unwrap(), e);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"\x01",
            b"\x02abcdefghijklmnopq",
            b"\x01\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x02\x09",
        ] {
            assert!(decode_entry(bad).is_err());
        }
    }

    proptest! {
        #[test]
        fn normal_entries_round_trip(term: u64, index: u64, cmd in proptest::collection::vec(any::<u8>(), 0..512)) {
            let e = entry(term, index, EntryPayload::Normal(Command(cmd)));
            prop_assert_eq!(round_trip(&e), e);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_entry(&bytes);
        }
    }
}
