//! Peering secrets and their pure transitions: the one-time establishment secret minted with a
//! token, the pending stream secret minted by the exchange, and the active stream secret the
//! dialer opens streams with. The same checks run in the acceptor's RPC handler (to answer
//! quickly) and again when the write is applied (to guard against concurrent callers), so they
//! live here, next to the record. Secret comparisons are constant-time.

use serde::Deserialize;
use serde::Serialize;
use subtle::ConstantTimeEq;

/// The secrets of one peering, stored by peering ID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeeringSecrets {
    /// The local peering's ID.
    #[serde(rename = "PeerID")]
    pub peering_id: String,
    /// The unused establishment secret of the latest token (acceptor only).
    #[serde(rename = "EstablishmentSecretID")]
    pub establishment: Option<String>,
    /// The stream secret minted by the last exchange, not yet used to open a stream.
    #[serde(rename = "PendingSecretID")]
    pub pending: Option<String>,
    /// The stream secret streams are opened with.
    #[serde(rename = "ActiveSecretID")]
    pub active: Option<String>,
}

/// A change to a peering's secrets, carried by the peering commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SecretsWrite {
    /// Acceptor, generate-token: a new establishment secret replaces any unused one; stream
    /// secrets are kept.
    GenerateToken { establishment: String },
    /// Acceptor, exchange: the presented establishment secret is re-checked and consumed, and
    /// `pending` replaces any unused pending secret; the active secret is kept.
    Exchange {
        establishment: String,
        pending: String,
    },
    /// Acceptor, stream open with the pending secret: it becomes the active one.
    PromotePending { active: String },
    /// Dialer, after a successful exchange: store the stream secret as active.
    Establish { active: String },
}

/// Why a secret was refused. Every variant means the dialer needs a new token (the HTTP layer
/// answers 403 "a new peering token must be generated").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No secrets are known for the peering.
    #[error("no known secrets for peering")]
    Unknown,
    /// The establishment secret was already exchanged.
    #[error("invalid establishment secret: peering was already established")]
    AlreadyEstablished,
    /// The presented establishment secret is not the current one.
    #[error("invalid establishment secret")]
    InvalidEstablishment,
    /// The presented secret is not the pending stream secret.
    #[error("invalid pending stream secret")]
    InvalidPending,
    /// The presented stream secret is neither the active nor the pending one.
    #[error("invalid peering stream secret")]
    InvalidStream,
}

/// What opening a stream with a secret did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenOutcome {
    /// The secret is the active one; nothing to write.
    Matched,
    /// The secret was pending; these secrets (pending promoted to active, old active dropped)
    /// must be written through Raft ([`SecretsWrite::PromotePending`]).
    Promoted(PeeringSecrets),
}

impl PeeringSecrets {
    /// Secrets after generating a token: `establishment` replaces any unused establishment
    /// secret; stream secrets of `existing` are kept so a live peering is not disturbed.
    pub fn generate_token(
        existing: Option<&PeeringSecrets>,
        peering_id: &str,
        establishment: String,
    ) -> PeeringSecrets {
        PeeringSecrets {
            peering_id: peering_id.to_string(),
            establishment: Some(establishment),
            pending: existing.and_then(|s| s.pending.clone()),
            active: existing.and_then(|s| s.active.clone()),
        }
    }

    /// Secrets after exchanging `presented` (an establishment secret) for the new pending
    /// stream secret `new_pending`. The establishment secret is consumed; any unused pending
    /// secret is overwritten; the active secret is kept.
    pub fn exchange(
        &self,
        presented: &str,
        new_pending: String,
    ) -> Result<PeeringSecrets, SecretError> {
        let Some(current) = self.establishment.as_deref() else {
            return Err(SecretError::AlreadyEstablished);
        };
        if !secret_eq(current, presented) {
            return Err(SecretError::InvalidEstablishment);
        }
        Ok(PeeringSecrets {
            peering_id: self.peering_id.clone(),
            establishment: None,
            pending: Some(new_pending),
            active: self.active.clone(),
        })
    }

    /// Check a stream secret presented in a stream's `Open`: the active secret matches as is; the
    /// pending secret is promoted to active (dropping the old active one).
    pub fn open(&self, presented: &str) -> Result<OpenOutcome, SecretError> {
        if self
            .active
            .as_deref()
            .is_some_and(|a| secret_eq(a, presented))
        {
            return Ok(OpenOutcome::Matched);
        }
        match self.promote(presented) {
            Ok(promoted) => Ok(OpenOutcome::Promoted(promoted)),
            Err(_) => Err(SecretError::InvalidStream),
        }
    }

    /// Secrets after promoting `presented`, which must be the pending secret, to active. The
    /// establishment secret is kept.
    pub fn promote(&self, presented: &str) -> Result<PeeringSecrets, SecretError> {
        if !self
            .pending
            .as_deref()
            .is_some_and(|p| secret_eq(p, presented))
        {
            return Err(SecretError::InvalidPending);
        }
        Ok(PeeringSecrets {
            peering_id: self.peering_id.clone(),
            establishment: self.establishment.clone(),
            pending: None,
            active: Some(presented.to_string()),
        })
    }

    /// Every secret ID held.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        [&self.establishment, &self.pending, &self.active]
            .into_iter()
            .filter_map(|s| s.as_deref())
    }
}

/// Constant-time equality of two secrets (the length is not hidden; secrets are UUIDs).
pub fn secret_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(e: Option<&str>, p: Option<&str>, a: Option<&str>) -> PeeringSecrets {
        PeeringSecrets {
            peering_id: "p1".into(),
            establishment: e.map(String::from),
            pending: p.map(String::from),
            active: a.map(String::from),
        }
    }

    #[test]
    fn generate_token_replaces_establishment_and_keeps_stream_secrets() {
        let old = secrets(Some("e1"), Some("p1"), Some("a1"));
        let new = PeeringSecrets::generate_token(Some(&old), "p1", "e2".into());
        assert_eq!(new, secrets(Some("e2"), Some("p1"), Some("a1")));
        let fresh = PeeringSecrets::generate_token(None, "p1", "e1".into());
        assert_eq!(fresh, secrets(Some("e1"), None, None));
    }

    #[test]
    fn exchange_consumes_the_establishment_secret_once() {
        let s = secrets(Some("e1"), Some("old-pending"), Some("a1"));
        assert_eq!(
            s.exchange("wrong", "p2".into()),
            Err(SecretError::InvalidEstablishment)
        );
        let after = s.exchange("e1", "p2".into()).unwrap();
        assert_eq!(after, secrets(None, Some("p2"), Some("a1")));
        assert_eq!(
            after.exchange("e1", "p3".into()),
            Err(SecretError::AlreadyEstablished)
        );
    }

    #[test]
    fn open_matches_active_or_promotes_pending() {
        let s = secrets(Some("e2"), Some("p1"), Some("a1"));
        assert_eq!(s.open("a1"), Ok(OpenOutcome::Matched));
        assert_eq!(
            s.open("p1"),
            Ok(OpenOutcome::Promoted(secrets(Some("e2"), None, Some("p1"))))
        );
        assert_eq!(s.open("e2"), Err(SecretError::InvalidStream));
        assert_eq!(
            secrets(None, None, None).open(""),
            Err(SecretError::InvalidStream)
        );
    }

    #[test]
    fn promote_requires_the_pending_secret() {
        let s = secrets(None, Some("p1"), Some("a1"));
        assert_eq!(s.promote("a1"), Err(SecretError::InvalidPending));
        assert_eq!(s.promote("p1").unwrap().active.as_deref(), Some("p1"));
        assert_eq!(s.ids().collect::<Vec<_>>(), ["p1", "a1"]);
    }

    #[test]
    fn secret_eq_compares_exactly() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("abc", "abcd"));
        assert!(!secret_eq("", "a"));
    }
}
