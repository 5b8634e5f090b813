//! The peering token: what generate-token hands the operator and establish consumes. It is the
//! standard base64 of a JSON object with Consul's field names and order (`CA`,
//! `ManualServerAddresses`, `ServerAddresses`, `ServerName`, `PeerID`, `EstablishmentSecret`,
//! `Remote{Partition, Datacenter}`; no field omitted, an absent address list is `null` as Go
//! writes a nil slice). Decoding never panics and says which layer was wrong; validation applies
//! Consul's establish-time rules.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;

/// A decoded peering token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringToken {
    /// The acceptor's Connect CA root PEMs, used to verify its servers.
    #[serde(rename = "CA", default, deserialize_with = "null_as_empty")]
    pub ca: Vec<String>,
    /// Operator-given `host:port` addresses (generate-token's `ServerExternalAddresses`); when
    /// set they override `server_addresses` for dialing.
    #[serde(
        rename = "ManualServerAddresses",
        default,
        deserialize_with = "null_as_empty",
        serialize_with = "empty_as_null"
    )]
    pub manual_server_addresses: Vec<String>,
    /// The acceptor's servers (or mesh gateways) as `host:port`.
    #[serde(
        rename = "ServerAddresses",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub server_addresses: Vec<String>,
    /// TLS name to verify: `server.<dc>.peering.<trust domain>`.
    #[serde(rename = "ServerName", default)]
    pub server_name: String,
    /// The acceptor's ID of the peering.
    #[serde(rename = "PeerID", default)]
    pub peer_id: String,
    /// One-time secret exchanged for a stream secret.
    #[serde(rename = "EstablishmentSecret", default)]
    pub establishment_secret: String,
    /// Where the acceptor runs.
    #[serde(rename = "Remote", default)]
    pub remote: TokenRemote,
}

/// The acceptor's partition and datacenter, as carried in a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRemote {
    #[serde(rename = "Partition", default)]
    pub partition: String,
    #[serde(rename = "Datacenter", default)]
    pub datacenter: String,
}

/// Why a token could not be decoded or is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is empty.
    #[error("peering token is empty")]
    Empty,
    /// The token is not standard, padded base64.
    #[error("failed to decode token: illegal base64 data at input byte {at}")]
    Base64 {
        /// Offset of the first offending byte (newlines ignored).
        at: usize,
    },
    /// The JSON inside stops early.
    #[error("failed to decode token: unexpected end of JSON input")]
    Truncated,
    /// The text inside is not JSON.
    #[error("failed to decode token: invalid JSON: {0}")]
    Syntax(String),
    /// The JSON inside does not have the token's shape.
    #[error("failed to decode token: not a peering token: {0}")]
    Shape(String),
    /// A CA PEM does not parse as an X.509 certificate.
    #[error("peering token invalid CA: {0}")]
    InvalidCa(String),
    /// Neither address list has an entry.
    #[error("peering token server addresses value is empty")]
    EmptyServerAddresses,
    /// An address is not `host:port` with a port in 1–65535.
    #[error("{0} is not a valid peering server address")]
    InvalidServerAddress(String),
    /// CA PEMs are present but there is no server name to verify.
    #[error("peering token server name value is empty")]
    EmptyServerName,
    /// The acceptor's peering ID is missing.
    #[error("peering token peer ID value is empty")]
    EmptyPeerId,
}

impl PeeringToken {
    /// The token's text form: standard base64 of its JSON.
    pub fn encode(&self) -> String {
        // A struct of strings and string lists always serializes.
        let json = serde_json::to_vec(self).unwrap_or_default();
        STANDARD.encode(json)
    }

    /// Decode a token's text form. Line breaks are ignored, as Go's decoder ignores them.
    pub fn decode(text: &str) -> Result<PeeringToken, TokenError> {
        let cleaned: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        if cleaned.is_empty() {
            return Err(TokenError::Empty);
        }
        let json = STANDARD.decode(cleaned.as_bytes()).map_err(|e| {
            use base64::DecodeError as D;
            let at = match e {
                D::InvalidByte(at, _) | D::InvalidLastSymbol(at, _) | D::InvalidLength(at) => at,
                D::InvalidPadding => cleaned.len(),
            };
            TokenError::Base64 { at }
        })?;
        serde_json::from_slice(&json).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Eof => TokenError::Truncated,
                Category::Syntax | Category::Io => TokenError::Syntax(e.to_string()),
                Category::Data => TokenError::Shape(e.to_string()),
            }
        })
    }

    /// Check the token as establish does: every CA PEM passes `check_ca` (which parses it as
    /// X.509 and says why not), there is at least one address, every address is `host:port`
    /// with a port in 1–65535, a server name accompanies CA PEMs, and the peer ID is set.
    pub fn validate(
        &self,
        check_ca: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), TokenError> {
        for pem in &self.ca {
            check_ca(pem).map_err(TokenError::InvalidCa)?;
        }
        if self.server_addresses.is_empty() && self.manual_server_addresses.is_empty() {
            return Err(TokenError::EmptyServerAddresses);
        }
        for addr in self
            .manual_server_addresses
            .iter()
            .chain(&self.server_addresses)
        {
            if !valid_server_address(addr) {
                return Err(TokenError::InvalidServerAddress(addr.clone()));
            }
        }
        if !self.ca.is_empty() && self.server_name.is_empty() {
            return Err(TokenError::EmptyServerName);
        }
        if self.peer_id.is_empty() {
            return Err(TokenError::EmptyPeerId);
        }
        Ok(())
    }

    /// The addresses to dial: the manual ones when given, else the server addresses.
    pub fn dial_addresses(&self) -> &[String] {
        if self.manual_server_addresses.is_empty() {
            &self.server_addresses
        } else {
            &self.manual_server_addresses
        }
    }
}

/// Whether `addr` splits as Go's `net.SplitHostPort` would and has a port in 1–65535. Hosts
/// are not resolved (names are allowed); IPv6 hosts need brackets.
pub fn valid_server_address(addr: &str) -> bool {
    let Some((_host, port)) = split_host_port(addr) else {
        return false;
    };
    // Go's strconv.Atoi accepts an optional sign.
    let digits = port.strip_prefix('+').unwrap_or(port);
    !digits.is_empty()
        && digits.len() <= 5
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits
            .parse::<u32>()
            .is_ok_and(|p| (1..=65535).contains(&p))
}

/// `host:port` or `[host]:port`, with Go's rules: one colon outside brackets, no stray
/// brackets.
fn split_host_port(addr: &str) -> Option<(&str, &str)> {
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        if host.contains('[') || port.contains(['[', ']', ':']) {
            return None;
        }
        return Some((host, port));
    }
    let (host, port) = addr.rsplit_once(':')?;
    if host.contains([':', '[', ']']) || port.contains(['[', ']']) {
        return None;
    }
    Some((host, port))
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn empty_as_null<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
