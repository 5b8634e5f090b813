//! Error types of the gossip layer: keyring management, packet security and the
//! public `Gossip` API.

use std::net::SocketAddr;

/// Errors from keyring management (`consul keyring` semantics).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// A key is not 16, 24 or 32 bytes long (AES-128/192/256).
    #[error("key size must be 16, 24 or 32 bytes")]
    InvalidKeySize,
    /// A key is not valid base64.
    #[error("Invalid key: {0}")]
    InvalidBase64(String),
    /// `use` of a key that is not installed.
    #[error("Requested key is not in the keyring")]
    KeyNotInstalled,
    /// `remove` of the primary key.
    #[error("Removing the primary key is not allowed")]
    RemovePrimary,
}

/// Errors from encrypting or decrypting one packet or stream frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// None of the installed keys authenticates the message (wrong key).
    #[error("No installed keys could decrypt the message")]
    NoKeyDecrypts,
    /// The message is too short to hold a version byte, nonce and tag.
    #[error("Payload is too small to decrypt")]
    TooSmall,
    /// The message's version byte is not one we know.
    #[error("Unsupported encryption version {0}")]
    UnknownVersion(u8),
    /// We have a keyring but the peer sent plaintext.
    #[error("Encryption is configured but remote state is not encrypted")]
    PlainRemoteState,
    /// We have no keyring but the peer sent ciphertext.
    #[error("Remote state is encrypted and encryption is not configured")]
    EncryptedRemoteState,
    /// The AEAD primitive failed while sealing (should not happen).
    #[error("Failed to encrypt the message")]
    SealFailed,
}

/// Errors returned by the [`crate::Gossip`] API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GossipError {
    /// Binding or using a socket failed.
    #[error("gossip I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Joining failed for every given address; one reason per address.
    #[error("failed to join any nodes: {}", format_join_errors(.0))]
    Join(Vec<(SocketAddr, String)>),
    /// `join` was called with an empty address list.
    #[error("no addresses to join")]
    NoJoinAddresses,
    /// A keyring operation failed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// Keyring operations on a node started without encryption.
    #[error("Encryption is not enabled on this node")]
    EncryptionDisabled,
    /// A user event is larger than the configured limit.
    #[error("user event exceeds configured limit of {limit} bytes before encoding")]
    UserEventTooLarge {
        /// The configured limit in bytes (name plus payload).
        limit: usize,
    },
    /// `force_leave` of a member this node does not know.
    #[error("No node found with name '{0}'")]
    UnknownMember(String),
    /// The node has left or been shut down.
    #[error("gossip is shut down")]
    Shutdown,
    /// The membership protocol rejected an operation.
    #[error("membership error: {0}")]
    Membership(String),
}

fn format_join_errors(errors: &[(SocketAddr, String)]) -> String {
    errors
        .iter()
        .map(|(addr, reason)| format!("{addr}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}
