//! Commands: every change to the state store is one of these, carried in one Raft log entry and
//! applied in log order by [`crate::Store::apply`]. Anything time-dependent (lock delays) carries
//! the proposer's clock in the command, so apply stays deterministic on every server.

use serde::Deserialize;
use serde::Serialize;

use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::model::HealthCheck;
use crate::model::KvEntry;
use crate::model::Node;
use crate::model::Service;
use crate::model::Session;

/// Version byte written before every encoded command and snapshot.
pub const ENCODING_VERSION: u8 = 1;

/// A state change. Encoded as one version byte followed by JSON (see [`Command::encode`]).
// Commands are built once per log entry and moved, never stored in bulk: size is fine.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Command {
    /// Catalog register: upsert the node (unless `skip_node_update` and it exists), then the
    /// optional service, then each check. Indexes in the records are ignored and set by apply.
    Register(RegisterRequest),
    /// Catalog deregister: with neither id the whole node (and its services, checks and
    /// sessions); with `service_id` that service and its checks; with `check_id` that check.
    Deregister {
        node: String,
        service_id: Option<String>,
        check_id: Option<String>,
    },
    /// One KV operation.
    Kv(KvOp),
    /// All-or-nothing transaction.
    Txn(Vec<TxnOp>),
    /// Create a session (ID chosen by the proposer).
    SessionCreate(Session),
    /// Destroy a session, releasing or deleting its locks per its behaviour. `now_ms` (Unix
    /// milliseconds at the proposer) starts the lock delay on the keys it held.
    SessionDestroy { id: String, now_ms: u64 },
    /// Create or replace a config entry; with `cas`, only if the entry's ModifyIndex equals it
    /// (0 = must not exist). Result: [`CommandResult::Bool`].
    ConfigSet {
        entry: ConfigEntry,
        cas: Option<u64>,
    },
    /// Delete a config entry; with `cas` as for `ConfigSet`. Result: [`CommandResult::Bool`].
    ConfigDelete {
        kind: String,
        name: String,
        cas: Option<u64>,
    },
    /// Upsert coordinates.
    CoordinateBatch(Vec<Coordinate>),
    /// Replace the whole state with a snapshot (the snapshot restore endpoint).
    Restore(Box<crate::snapshot::Snapshot>),
    /// Replace the Connect CA roots and configuration together; with `cas`, only if the CA
    /// table's index equals it (`Some(0)`: only if the CA was never written). Exactly one root
    /// must be active. Result: [`CommandResult::Bool`].
    CaSet {
        config: crate::connect_ca::CaConfig,
        roots: Vec<crate::connect_ca::CaRoot>,
        cas: Option<u64>,
    },
    /// Store the autopilot configuration; with `cas`, `Some(0)` only if none exists yet and
    /// `Some(n)` only if the stored one has ModifyIndex `n`. Result: [`CommandResult::Bool`].
    AutopilotSet {
        config: crate::autopilot::AutopilotConfig,
        cas: Option<u64>,
    },
    /// State of the world for one service imported from `peer`: upsert the instances (unchanged
    /// rows keep their indexes), delete the peer's instances of `service` not listed, and
    /// imported nodes left without services. An empty list deletes the service.
    ImportServiceSnapshot {
        peer: String,
        service: String,
        instances: Vec<ImportedInstance>,
    },
    /// The full list of services `peer` exports to us: delete every imported service of that
    /// peer not listed (the `<name>-sidecar-proxy` twins of listed names are kept).
    ImportServiceList { peer: String, services: Vec<String> },
    /// Remove everything imported from `peer` (peering deleted or terminated).
    ImportDropPeer { peer: String },
    /// Upsert a peering (Consul's `PeeringWrite`: keeps CreateIndex; an UNDEFINED state keeps
    /// the stored one) and apply `secrets` to it in the same entry, all or nothing.
    PeeringWrite {
        peering: crate::model::Peering,
        secrets: Option<crate::model::SecretsWrite>,
    },
    /// Mark a peering for deletion: state DELETING, DeletedAt = the proposal clock. No-op when
    /// absent or already deleting.
    PeeringDelete { name: String },
    /// Remove a peering row that is marked for deletion or terminated.
    PeeringRemove { id: String },
    /// Change a peering's secrets; presented secrets are re-checked at apply.
    PeeringSecretsWrite {
        peering_id: String,
        request: crate::model::SecretsWrite,
    },
    /// Store a peer's trust bundle and refresh the peering's `PeerCAPems`.
    PeeringTrustBundleWrite(crate::model::PeeringTrustBundle),
    /// Delete a peer's trust bundle.
    PeeringTrustBundleDelete { name: String },
}

/// What a Raft log entry carries: a command and the proposer's clock (Unix milliseconds), so
/// time-dependent effects of any command (lock delays of sessions it invalidates) are
/// deterministic on every server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Proposer's Unix milliseconds.
    pub now_ms: u64,
    /// The state change.
    pub command: Command,
}

/// Body of [`Command::Register`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub node: Node,
    pub skip_node_update: bool,
    pub service: Option<Service>,
    pub checks: Vec<HealthCheck>,
}

/// One imported service instance (Consul's `CheckServiceNode`) in
/// [`Command::ImportServiceSnapshot`]. Indexes and `peer_name` in the records are ignored and set
/// by apply; checks are bound to this instance's node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportedInstance {
    pub node: Node,
    pub service: Service,
    pub checks: Vec<HealthCheck>,
}

/// KV verbs, shared by [`Command::Kv`] and [`TxnOp::Kv`] (Consul's txn verbs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum KvVerb {
    /// Set unconditionally.
    Set,
    /// Set if ModifyIndex equals `index` (0: only if absent).
    Cas,
    /// Acquire the lock for `session` and set.
    Lock,
    /// Release the lock held by `session` and set.
    Unlock,
    /// Read one key (txn only).
    Get,
    /// Read a prefix (txn only).
    GetTree,
    /// Fail unless ModifyIndex equals `index` (txn only).
    CheckIndex,
    /// Fail unless `session` holds the key (txn only).
    CheckSession,
    /// Fail if the key exists (txn only).
    CheckNotExists,
    /// Delete one key.
    Delete,
    /// Delete if ModifyIndex equals `index`.
    DeleteCas,
    /// Delete every key with the prefix.
    DeleteTree,
}

/// A KV operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvOp {
    pub verb: KvVerb,
    pub key: String,
    pub value: Option<Vec<u8>>,
    pub flags: u64,
    /// For Cas, DeleteCas and CheckIndex.
    pub index: u64,
    /// For Lock, Unlock and CheckSession.
    pub session: Option<String>,
    /// Proposer's Unix milliseconds, to honour lock delays on Lock.
    pub now_ms: u64,
}

/// One operation of a transaction. Only KV for now; node/service/check ops come later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TxnOp {
    Kv(KvOp),
}

/// The outcome of applying a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CommandResult {
    /// Applied; nothing to report.
    Ok,
    /// Conditional writes (KV cas/lock/unlock/delete-cas, config cas): whether it took effect.
    Bool(bool),
    /// A transaction's outcome.
    Txn(TxnOutcome),
    /// The command was rejected by the state store; nothing was changed. The message is meant
    /// for the user (e.g. `invalid session "…"`).
    Rejected(String),
}

/// Result of a transaction: either every op's result, or the errors and no change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TxnOutcome {
    /// One entry per op that yields a KV result (sets, gets, cas, lock…), in op order.
    pub results: Vec<KvEntry>,
    /// `(op index, message)` for each failed op; non-empty means nothing was applied.
    pub errors: Vec<(usize, String)>,
}

/// Why an encoded command or snapshot could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input was empty.
    #[error("empty input")]
    Empty,
    /// The version byte is not one this build understands.
    #[error("unsupported encoding version {0}")]
    Version(u8),
    /// The body is not valid JSON for the expected type.
    #[error("malformed body: {0}")]
    Body(#[from] serde_json::Error),
}

/// Encode `value` as the version byte followed by JSON.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![ENCODING_VERSION];
    // Serializing our own plain data types to a Vec cannot fail (no maps with non-string keys).
    serde_json::to_writer(&mut out, value).expect("state types always serialize");
    out
}

/// Decode bytes written by [`encode`].
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if version != ENCODING_VERSION {
        return Err(DecodeError::Version(version));
    }
    Ok(serde_json::from_slice(body)?)
}
