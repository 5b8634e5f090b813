//! Mapping between `legate_consensus::RaftRpcKind` and the protobuf `RaftKind` enum.

use legate_consensus::RaftRpcKind;

use crate::pb::RaftKind;

pub(crate) fn to_proto(kind: RaftRpcKind) -> RaftKind {
    match kind {
        RaftRpcKind::AppendEntries => RaftKind::AppendEntries,
        RaftRpcKind::Vote => RaftKind::Vote,
        RaftRpcKind::PreVote => RaftKind::PreVote,
        RaftRpcKind::InstallSnapshot => RaftKind::InstallSnapshot,
        RaftRpcKind::TransferLeader => RaftKind::TransferLeader,
    }
}

/// `None` for `UNSPECIFIED` and for values this build does not know.
pub(crate) fn from_proto(raw: i32) -> Option<RaftRpcKind> {
    match RaftKind::try_from(raw).ok()? {
        RaftKind::Unspecified => None,
        RaftKind::AppendEntries => Some(RaftRpcKind::AppendEntries),
        RaftKind::Vote => Some(RaftRpcKind::Vote),
        RaftKind::PreVote => Some(RaftRpcKind::PreVote),
        RaftKind::InstallSnapshot => Some(RaftRpcKind::InstallSnapshot),
        RaftKind::TransferLeader => Some(RaftRpcKind::TransferLeader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        for kind in RaftRpcKind::ALL {
            assert_eq!(from_proto(to_proto(kind) as i32), Some(kind));
        }
        assert_eq!(from_proto(0), None);
        assert_eq!(from_proto(99), None);
    }
}
