//! The application-facing state-machine trait that this crate replicates.

/// The application state machine, driven by this crate in log order.
///
/// Calls are serialised: `apply`, `snapshot` and `restore` are never invoked concurrently by
/// this crate. `apply` must be deterministic: every server applies the same commands in the
/// same order and must reach the same state.
pub trait StateMachine: Send + Sync + 'static {
    /// Apply one committed command at raft log `index`; returns the encoded response.
    fn apply(&self, index: u64, command: &[u8]) -> Vec<u8>;
    /// Serialize the whole current state (called for raft snapshots).
    fn snapshot(&self) -> Vec<u8>;
    /// Replace the whole state from bytes made by `snapshot`.
    fn restore(&self, snapshot: &[u8]) -> Result<(), String>;
}
