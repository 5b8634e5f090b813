//! Peer names: the local alias of a peering. An RFC 1123 label in lower case only
//! (`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`), so it is safe in DNS names, SNI and Envoy names.

use std::fmt;

/// Consul's explanation of the peer-name rule.
const RULE: &str = "a valid peering name must consist of lower case alphanumeric characters or \
                    '-', and must start and end with an alphanumeric character";

/// A valid peer name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerName(String);

/// A string that is not a valid peer name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name} is not a valid peer name: {RULE}")]
pub struct PeerNameError {
    /// The rejected input.
    pub name: String,
}

impl PeerName {
    /// The longest peer name (one DNS label).
    pub const MAX_LEN: usize = 63;

    /// Parse a peer name. Upper case is rejected, not folded, as Consul does.
    pub fn parse(name: &str) -> Result<PeerName, PeerNameError> {
        if is_valid(name) {
            Ok(PeerName(name.to_string()))
        } else {
            Err(PeerNameError {
                name: name.to_string(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PeerName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= PeerName::MAX_LEN
                && alnum(first)
                && alnum(last)
                && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_dns_labels_in_lower_case() {
        for ok in ["a", "0", "peer-1", "my-peer-s2", "a--b", &"a".repeat(63)] {
            assert_eq!(PeerName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_everything_else_with_consuls_message() {
        for bad in [
            "",
            "-a",
            "a-",
            "Peer",
            "a_b",
            "a.b",
            "é",
            " a",
            &"a".repeat(64),
        ] {
            assert!(PeerName::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert_eq!(
            PeerName::parse("--AA--").unwrap_err().to_string(),
            "--AA-- is not a valid peer name: a valid peering name must consist of lower case \
             alphanumeric characters or '-', and must start and end with an alphanumeric character"
        );
    }

    /// The hand-written check against the regular expression Consul uses, spelled out.
    fn reference(name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let inner = |c: char| edge(c) || c == '-';
        match chars.len() {
            0 => false,
            1 => edge(chars[0]),
            n if n <= 63 => edge(chars[0]) && edge(chars[n - 1]) && chars.iter().all(|c| inner(*c)),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn matches_the_reference_rule(name in "[a-zA-Z0-9._ -]{0,70}") {
            prop_assert_eq!(PeerName::parse(&name).is_ok(), reference(&name));
        }

        #[test]
        fn never_panics_and_round_trips(name in "\\PC{0,80}") {
            if let Ok(p) = PeerName::parse(&name) {
                prop_assert_eq!(p.as_str(), name.as_str());
                prop_assert!(p.as_str().len() <= PeerName::MAX_LEN);
            }
        }
    }
}
