//! Cluster peering logic, as pure cores: the peering token (JSON shape, base64 codec and
//! establish-time validation), peer names, the role and self-peering rules of generate-token and
//! establish, the rows those calls write, and the HTTP API shape of a peering. No I/O, no clocks,
//! no Raft: callers pass time and randomness in and propose the resulting commands.
//!
//! The peering records themselves (rows, states, secrets and their transitions, trust bundles)
//! live in `legate-state`'s model so the state store can apply them without depending on this
//! crate; they are re-exported here. The stream protocol and its I/O shell come later.
#![forbid(unsafe_code)]

pub mod api;
pub mod establish;
pub mod exporter;
pub mod name;
pub mod token;

pub use legate_state::model::OpenOutcome;
pub use legate_state::model::Peering;
pub use legate_state::model::PeeringRemote;
pub use legate_state::model::PeeringSecrets;
pub use legate_state::model::PeeringState;
pub use legate_state::model::PeeringTrustBundle;
pub use legate_state::model::SecretError;
pub use legate_state::model::SecretsWrite;
pub use name::PeerName;
pub use name::PeerNameError;
pub use token::PeeringToken;
pub use token::TokenError;
pub use token::TokenRemote;
