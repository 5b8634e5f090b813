//! Keyring operations across the pool (serf's key manager), the pure part: the four
//! operations as internal queries, what one member does with one (apply it to its own
//! keyring and answer), and how the originator folds the answers into a
//! [`KeyResponse`] with serf's messages and verdicts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keyring::{Keyring, SecretKey};
use crate::message;

/// Query name of a list.
const LIST: &str = "_serf_list-keys";
/// Query name of an install.
const INSTALL: &str = "_serf_install-key";
/// Query name of a use.
const USE: &str = "_serf_use-key";
/// Query name of a remove.
const REMOVE: &str = "_serf_remove-key";

/// A keyring operation run on every member of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyringOp {
    /// Report every member's installed keys and primary key.
    List,
    /// Install a key for decryption (installing an installed key succeeds).
    Install(SecretKey),
    /// Make an installed key the primary (fails where it is not installed).
    Use(SecretKey),
    /// Remove a key (fails where it is the primary).
    Remove(SecretKey),
}

/// The request payload of a keyring query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeyRequest {
    key: Vec<u8>,
}

/// One member's answer to a keyring query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeKeyResponse {
    /// Whether the operation succeeded on that member.
    pub(crate) result: bool,
    /// The reason when it did not.
    pub(crate) message: String,
    /// For a list: every installed key (base64), primary first.
    pub(crate) keys: Vec<String>,
    /// For a list: the primary key (base64).
    pub(crate) primary_key: String,
}

impl KeyringOp {
    /// The internal query carrying this operation: name and payload.
    pub(crate) fn to_query(&self) -> (&'static str, Vec<u8>) {
        let (name, key) = match self {
            Self::List => (LIST, None),
            Self::Install(key) => (INSTALL, Some(key)),
            Self::Use(key) => (USE, Some(key)),
            Self::Remove(key) => (REMOVE, Some(key)),
        };
        let request = KeyRequest {
            key: key.map(|k| k.as_bytes().to_vec()).unwrap_or_default(),
        };
        (name, message::encode(&request))
    }

    /// The operation a query carries: `None` when `name` is not a keyring query, an
    /// error text when its payload is not a valid request.
    pub(crate) fn from_query(name: &str, payload: &[u8]) -> Option<Result<Self, String>> {
        let make: fn(SecretKey) -> Self = match name {
            LIST => return Some(Ok(Self::List)),
            INSTALL => Self::Install,
            USE => Self::Use,
            REMOVE => Self::Remove,
            _ => return None,
        };
        let parsed = message::decode::<KeyRequest>(payload)
            .map_err(|e| format!("Failed to decode key request: {e}"))
            .and_then(|r| SecretKey::new(r.key).map_err(|e| e.to_string()))
            .map(make);
        Some(parsed)
    }
}

/// Applies `op` to this member's keyring (`None`: encryption is off) and builds its
/// answer, with serf's texts. Returns whether the keyring changed and should be saved.
pub(crate) fn apply(op: &KeyringOp, keyring: Option<&mut Keyring>) -> (NodeKeyResponse, bool) {
    let mut response = NodeKeyResponse::default();
    let Some(ring) = keyring else {
        response.message = match op {
            KeyringOp::List => "Keyring is empty (encryption not enabled)",
            _ => "No keyring to modify (encryption not enabled)",
        }
        .to_string();
        return (response, false);
    };
    let outcome = match op {
        KeyringOp::List => {
            response.keys = ring.list();
            response.primary_key = ring.primary().to_base64();
            Ok(false)
        }
        KeyringOp::Install(key) => {
            ring.install(key.clone());
            Ok(true)
        }
        KeyringOp::Use(key) => ring.use_key(key).map(|()| true),
        KeyringOp::Remove(key) => ring.remove(key).map(|()| true),
    };
    match outcome {
        Ok(changed) => {
            response.result = true;
            (response, changed)
        }
        Err(e) => {
            response.message = e.to_string();
            (response, false)
        }
    }
}

/// The pool-wide outcome of a keyring operation (serf's `KeyResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyResponse {
    /// Per-member failure messages, by node name.
    pub messages: BTreeMap<String, String>,
    /// Members the pool had when the operation started (this one included).
    pub num_nodes: usize,
    /// Members that answered.
    pub num_resp: usize,
    /// Members that answered with a failure.
    pub num_err: usize,
    /// For a list: each installed key (base64) and on how many members.
    pub keys: BTreeMap<String, usize>,
    /// For a list: each primary key (base64) and on how many members.
    pub primary_keys: BTreeMap<String, usize>,
}

impl KeyResponse {
    /// Serf's verdict: `None` when every member answered without failure, otherwise
    /// `"N/M nodes reported failure"` or `"N/M nodes reported success"`.
    pub fn error(&self) -> Option<String> {
        if self.num_err != 0 {
            return Some(format!(
                "{}/{} nodes reported failure",
                self.num_err, self.num_nodes
            ));
        }
        if self.num_resp != self.num_nodes {
            return Some(format!(
                "{}/{} nodes reported success",
                self.num_resp, self.num_nodes
            ));
        }
        None
    }
}

/// Folds the answers (by responder name) of a pool of `num_nodes` members.
pub(crate) fn aggregate(num_nodes: usize, answers: BTreeMap<String, Vec<u8>>) -> KeyResponse {
    let mut out = KeyResponse {
        num_nodes,
        ..KeyResponse::default()
    };
    for (from, payload) in answers {
        out.num_resp += 1;
        let answer = match message::decode::<NodeKeyResponse>(&payload) {
            Ok(answer) => answer,
            Err(e) => {
                out.messages
                    .insert(from, format!("Failed to decode key query response: {e}"));
                out.num_err += 1;
                continue;
            }
        };
        if !answer.result {
            out.messages.insert(from, answer.message);
            out.num_err += 1;
        }
        for key in answer.keys {
            *out.keys.entry(key).or_default() += 1;
        }
        if !answer.primary_key.is_empty() {
            *out.primary_keys.entry(answer.primary_key).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::new(vec![byte; 32]).unwrap()
    }

    fn answer(op: &KeyringOp, ring: Option<&mut Keyring>) -> Vec<u8> {
        message::encode(&apply(op, ring).0)
    }

    #[test]
    fn queries_round_trip() {
        for op in [
            KeyringOp::List,
            KeyringOp::Install(key(1)),
            KeyringOp::Use(key(2)),
            KeyringOp::Remove(key(3)),
        ] {
            let (name, payload) = op.to_query();
            assert!(name.starts_with(crate::query::INTERNAL_PREFIX));
            assert_eq!(KeyringOp::from_query(name, &payload), Some(Ok(op)));
        }
        assert_eq!(KeyringOp::from_query("deploy", b""), None);
        let bad = message::encode(&KeyRequest { key: vec![1; 5] });
        assert_eq!(
            KeyringOp::from_query(INSTALL, &bad),
            Some(Err("key size must be 16, 24 or 32 bytes".to_string()))
        );
        assert!(matches!(
            KeyringOp::from_query(USE, &[9, 9]),
            Some(Err(e)) if e.starts_with("Failed to decode key request")
        ));
    }

    #[test]
    fn install_use_remove_follow_consul() {
        let mut ring = Keyring::new(key(1));
        let (r, changed) = apply(&KeyringOp::Install(key(2)), Some(&mut ring));
        assert!(r.result && changed);
        let (r, _) = apply(&KeyringOp::Install(key(2)), Some(&mut ring));
        assert!(r.result, "install is idempotent");

        let (r, changed) = apply(&KeyringOp::Use(key(3)), Some(&mut ring));
        assert!(!r.result && !changed);
        assert_eq!(r.message, "Requested key is not in the keyring");

        let (r, _) = apply(&KeyringOp::Remove(key(1)), Some(&mut ring));
        assert_eq!(r.message, "Removing the primary key is not allowed");

        assert!(apply(&KeyringOp::Use(key(2)), Some(&mut ring)).0.result);
        assert!(apply(&KeyringOp::Remove(key(1)), Some(&mut ring)).0.result);
        let (r, changed) = apply(&KeyringOp::List, Some(&mut ring));
        assert!(r.result && !changed);
        assert_eq!(r.keys, vec![key(2).to_base64()]);
        assert_eq!(r.primary_key, key(2).to_base64());
    }

    #[test]
    fn encryption_off_answers_with_serf_texts() {
        let (r, _) = apply(&KeyringOp::List, None);
        assert!(!r.result);
        assert_eq!(r.message, "Keyring is empty (encryption not enabled)");
        let (r, _) = apply(&KeyringOp::Install(key(1)), None);
        assert_eq!(r.message, "No keyring to modify (encryption not enabled)");
    }

    #[test]
    fn aggregate_counts_keys_and_failures() {
        let mut a = Keyring::new(key(1));
        a.install(key(2));
        let mut b = Keyring::new(key(2));
        b.install(key(1));
        let answers: BTreeMap<String, Vec<u8>> = [
            ("a".to_string(), answer(&KeyringOp::List, Some(&mut a))),
            ("b".to_string(), answer(&KeyringOp::List, Some(&mut b))),
        ]
        .into();
        let out = aggregate(2, answers);
        assert_eq!(out.error(), None);
        assert_eq!(out.num_resp, 2);
        assert_eq!(out.keys[&key(1).to_base64()], 2);
        assert_eq!(out.keys[&key(2).to_base64()], 2);
        assert_eq!(out.primary_keys[&key(1).to_base64()], 1);
        assert_eq!(out.primary_keys[&key(2).to_base64()], 1);

        let answers: BTreeMap<String, Vec<u8>> = [
            ("a".to_string(), answer(&KeyringOp::List, None)),
            ("b".to_string(), vec![1, 255]),
        ]
        .into();
        let out = aggregate(3, answers);
        assert_eq!(out.error().as_deref(), Some("2/3 nodes reported failure"));
        assert_eq!(
            out.messages["a"],
            "Keyring is empty (encryption not enabled)"
        );
        assert!(out.messages["b"].starts_with("Failed to decode key query response"));
    }

    #[test]
    fn missing_answers_are_reported() {
        let mut a = Keyring::new(key(1));
        let answers: BTreeMap<String, Vec<u8>> =
            [("a".to_string(), answer(&KeyringOp::List, Some(&mut a)))].into();
        let out = aggregate(3, answers);
        assert_eq!(out.error().as_deref(), Some("1/3 nodes reported success"));
    }
}
