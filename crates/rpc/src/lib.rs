//! Legate's server-to-server RPC over tonic (HTTP/2, plain TCP for now).
//!
//! One crate owns the protobuf definitions (`proto/legate_rpc.proto`, compiled by protox in
//! `build.rs`, no `protoc`), the server ([`serve`], which dispatches to an [`RpcHandler`]) and
//! the client ([`RpcClient`], which also implements `legate_consensus::RaftTransport`).
//! Everything it carries is opaque bytes: raft messages are encoded by `legate-consensus`,
//! commands and results by the agent. It depends on neither openraft nor the agent.
//!
//! Errors: a server that is not the leader answers with gRPC status `FAILED_PRECONDITION` and
//! the leader's RPC address in the [`LEADER_ADDR_KEY`] metadata entry (absent if no leader is
//! known); the client turns that back into [`RpcError::NotLeader`].

mod client;
mod error;
mod handler;
mod kind;
mod server;

#[allow(unreachable_pub, missing_docs, clippy::all, clippy::pedantic)]
mod pb {
    tonic::include_proto!("legate.rpc.v1");
}

pub use client::RpcClient;
pub use error::LEADER_ADDR_KEY;
pub use error::RpcError;
pub use handler::HttpReply;
pub use handler::HttpRequest;
pub use handler::RpcHandler;
pub use server::serve;

/// Largest message either side accepts (whole raft snapshots travel in one message).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;
