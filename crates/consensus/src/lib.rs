//! Replicated state machines for Legate servers, built on openraft.
//!
//! The application supplies a byte-oriented [`StateMachine`]; [`Consensus`] replicates the
//! commands proposed with [`Consensus::write`] through raft and applies them in log order.
//! Storage: the raft log and vote live in redb (`<data_dir>/raft/raft.db`, fsync on every
//! append; redb's in-memory backend without a data dir), snapshots in `<data_dir>/raft/snapshots/`.
//!
//! Every openraft type stays inside this crate (see `types`), so an openraft alpha bump touches
//! only this crate. Server-to-server RPC is not implemented yet: remote peers are unreachable
//! (see `network`), so only single-voter groups make progress.

mod config;
mod consensus;
mod convert;
mod error;
mod fsm;
mod leadership;
mod log_store;
mod network;
mod snapshot_store;
mod state_machine;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use config::RaftConfig;
pub use consensus::Consensus;
pub use error::ConsensusError;
pub use error::WriteError;
pub use fsm::StateMachine;
pub use status::ServerInfo;
