//! Replicated state machines for Legate servers, built on openraft.
//!
//! The application supplies a byte-oriented [`StateMachine`]; [`Consensus`] replicates the
//! commands proposed with [`Consensus::write`] through raft and applies them in log order.
//! Storage: the raft log and vote live in redb (`<data_dir>/raft/raft.db`, fsync on every
//! append; redb's in-memory backend without a data dir), snapshots in `<data_dir>/raft/snapshots/`.
//!
//! Every openraft type stays inside this crate (see `types`), so an openraft alpha bump touches
//! only this crate. Raft messages to other servers are encoded here (see `wire`) and carried as
//! opaque bytes by a [`RaftTransport`] given in [`RaftConfig`]; the receiving server passes them
//! to [`Consensus::handle_raft_rpc`]. Without a transport only single-voter groups make progress.

mod autopilot;
mod config;
mod consensus;
mod convert;
mod error;
mod fsm;
mod leadership;
mod log_store;
mod membership;
mod network;
mod reads;
mod rpc_server;
mod snapshot_store;
mod state_machine;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
mod types;
mod wire;

pub use autopilot::Progress;
pub use config::DEFAULT_TRAILING_LOGS;
pub use config::RaftConfig;
pub use consensus::Consensus;
pub use error::ConsensusError;
pub use error::WriteError;
pub use fsm::StateMachine;
pub use membership::AddressUpdate;
pub use membership::Peer;
pub use status::ServerInfo;
pub use transport::BoxFuture;
pub use transport::RaftRpcKind;
pub use transport::RaftTransport;
pub use transport::TransportError;
