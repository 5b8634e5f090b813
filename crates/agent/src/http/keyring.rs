//! `/v1/operator/keyring`: the gossip keyring of every LAN member — list (`GET`), install
//! (`POST`), use (`PUT`) and remove (`DELETE`), body `{"Key": "<base64>"}`, with
//! `?relay-factor` and `?local-only` (lists only). Each operation is a query answered by
//! every member of this agent's LAN pool (see `legate_gossip::Gossip::keyring_op`).
//!
//! As in Consul, a client agent forwards these requests to a server (which runs them on
//! its own LAN pool, the same pool), and a follower answers them itself: they are not
//! leader-only. Consul answers one entry per pool: a WAN entry first when the server has
//! a WAN pool, then one per LAN pool. Legate has no WAN pool yet, so there is only the
//! LAN entry, and `local-only` (which in Consul skips the WAN pool and other datacenters)
//! changes nothing. Failures answer 500 with Consul's multi-error text, one line for the
//! pool's verdict and one per failing node.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use http::Method;
use legate_gossip::{KeyResponse, KeyringOp, SecretKey};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::kv::method_not_allowed;
use super::query::Params;
use super::reply;

/// Largest relay factor Consul accepts.
const MAX_RELAY_FACTOR: u8 = 5;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/v1/operator/keyring",
        get(handle)
            .post(handle)
            .put(handle)
            .delete(handle)
            .fallback(method_not_allowed),
    )
}

/// The request body of install, use and remove.
#[derive(Debug, Default, Deserialize)]
struct KeyringArgs {
    #[serde(rename = "Key", default)]
    key: String,
}

/// One pool's answer, as Consul's `structs.KeyringResponse` encodes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoolResponse<'a> {
    #[serde(rename = "WAN")]
    wan: bool,
    datacenter: &'a str,
    segment: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    partition: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    messages: &'a BTreeMap<String, String>,
    keys: &'a BTreeMap<String, usize>,
    primary_keys: &'a BTreeMap<String, usize>,
    num_nodes: usize,
}

async fn handle(
    State(agent): State<AppState>,
    method: Method,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let args = if method == Method::GET {
        KeyringArgs::default()
    } else {
        decode_args(&body)?
    };
    let relay_factor = relay_factor(&params)?;
    local_only(&params, method == Method::GET)?;
    let datacenter = agent.node().datacenter.clone();
    let op = match method {
        Method::GET => KeyringOp::List,
        _ => match parse_key(&args.key) {
            Ok(key) if method == Method::POST => KeyringOp::Install(key),
            Ok(key) if method == Method::PUT => KeyringOp::Use(key),
            Ok(key) => KeyringOp::Remove(key),
            Err(reason) => return Err(pool_error(&datacenter, &reason, &BTreeMap::new())),
        },
    };
    let Some(lan) = agent.lan() else {
        return Err(ApiError::Internal(
            "keyring operations need the LAN gossip pool, which is disabled (ports.serf_lan = -1)"
                .to_string(),
        ));
    };
    let response = lan
        .keyring_op(op, relay_factor)
        .await
        .map_err(|err| pool_error(&datacenter, &err.to_string(), &BTreeMap::new()))?;
    if let Some(verdict) = response.error() {
        return Err(pool_error(&datacenter, &verdict, &response.messages));
    }
    if method != Method::GET {
        return Ok(reply::empty());
    }
    reply::json(&[lan_entry(&datacenter, &response)], params.has("pretty"))
}

/// Consul decodes the body of every write (an empty body decodes to no key).
fn decode_args(body: &Bytes) -> Result<KeyringArgs, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(KeyringArgs::default());
    }
    serde_json::from_slice(body).map_err(ApiError::decode)
}

/// `?relay-factor`: 0 to 5.
fn relay_factor(params: &Params) -> Result<u8, ApiError> {
    let Some(text) = params.non_empty("relay-factor") else {
        return Ok(0);
    };
    let n: i64 = text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "Error parsing relay factor: strconv.Atoi: parsing {text:?}: invalid syntax"
        ))
    })?;
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_RELAY_FACTOR)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Invalid relay-factor: Relay factor must be in range: [0, 5]".to_string(),
            )
        })
}

/// `?local-only`: a Go boolean, only allowed on a list.
fn local_only(params: &Params, list: bool) -> Result<bool, ApiError> {
    let Some(text) = params.non_empty("local-only") else {
        return Ok(false);
    };
    let value = match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
        "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
        _ => {
            return Err(ApiError::BadRequest(format!(
                "Error parsing local-only: strconv.ParseBool: parsing {text:?}: invalid syntax"
            )));
        }
    };
    if value && !list {
        return Err(ApiError::BadRequest(
            "Invalid use of local-only: local-only can only be set for list requests".to_string(),
        ));
    }
    Ok(value)
}

/// A key from the request: base64 of 16, 24 or 32 bytes.
fn parse_key(text: &str) -> Result<SecretKey, String> {
    SecretKey::from_base64(text).map_err(|err| err.to_string())
}

/// The LAN entry of a list.
fn lan_entry<'a>(datacenter: &'a str, response: &'a KeyResponse) -> PoolResponse<'a> {
    PoolResponse {
        wan: false,
        datacenter,
        segment: "",
        partition: "",
        messages: &response.messages,
        keys: &response.keys,
        primary_keys: &response.primary_keys,
        num_nodes: response.num_nodes,
    }
}

/// Consul's 500 for a failed keyring operation: a go-multierror list with the pool's
/// verdict, then one line per failing node.
fn pool_error(datacenter: &str, verdict: &str, messages: &BTreeMap<String, String>) -> ApiError {
    let mut errors = vec![format!("{datacenter} (LAN) error: {verdict}")];
    errors.extend(messages.iter().map(|(node, msg)| format!("{node}: {msg}")));
    ApiError::Internal(multierror(&errors))
}

/// Go's `multierror` text: `1 error occurred:\n\t* e\n\n`, or `N errors occurred:` and
/// one `\t* e` line each.
fn multierror(errors: &[String]) -> String {
    let points: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
    let head = if errors.len() == 1 {
        "1 error occurred".to_string()
    } else {
        format!("{} errors occurred", errors.len())
    };
    format!("{head}:\n\t{}\n\n", points.join("\n\t"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(Some(q))
    }

    #[test]
    fn multierror_matches_go() {
        assert_eq!(multierror(&["a".into()]), "1 error occurred:\n\t* a\n\n");
        assert_eq!(
            multierror(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b\n\n"
        );
    }

    #[test]
    fn pool_error_lists_nodes() {
        let messages: BTreeMap<String, String> =
            [("n1".to_string(), "Keyring is empty".to_string())].into();
        let err = pool_error("dc1", "1/1 nodes reported failure", &messages);
        assert_eq!(
            err.to_string(),
            "2 errors occurred:\n\t* dc1 (LAN) error: 1/1 nodes reported failure\n\t* n1: Keyring is empty\n\n"
        );
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn relay_factor_is_bounded() {
        assert_eq!(relay_factor(&params("")).unwrap(), 0);
        assert_eq!(relay_factor(&params("relay-factor=5")).unwrap(), 5);
        assert_eq!(
            relay_factor(&params("relay-factor=6"))
                .unwrap_err()
                .to_string(),
            "Invalid relay-factor: Relay factor must be in range: [0, 5]"
        );
        assert!(relay_factor(&params("relay-factor=-1")).is_err());
        assert_eq!(
            relay_factor(&params("relay-factor=x"))
                .unwrap_err()
                .to_string(),
            "Error parsing relay factor: strconv.Atoi: parsing \"x\": invalid syntax"
        );
    }

    #[test]
    fn local_only_is_for_lists() {
        assert!(local_only(&params("local-only=true"), true).unwrap());
        assert!(!local_only(&params("local-only=0"), false).unwrap());
        assert_eq!(
            local_only(&params("local-only=true"), false)
                .unwrap_err()
                .to_string(),
            "Invalid use of local-only: local-only can only be set for list requests"
        );
        assert!(local_only(&params("local-only=yes"), true).is_err());
    }

    #[test]
    fn keys_are_validated() {
        assert!(parse_key("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=").is_ok());
        assert_eq!(
            parse_key("AAAA").unwrap_err(),
            "key size must be 16, 24 or 32 bytes"
        );
        assert!(
            parse_key("not base64!")
                .unwrap_err()
                .starts_with("Invalid key")
        );
        assert_eq!(
            parse_key("").unwrap_err(),
            "key size must be 16, 24 or 32 bytes"
        );
    }

    #[test]
    fn list_entry_shape() {
        let response = KeyResponse::default();
        let entry = lan_entry("dc1", &response);
        assert_eq!(
            serde_json::to_string(&entry).unwrap(),
            r#"{"WAN":false,"Datacenter":"dc1","Segment":"","Keys":{},"PrimaryKeys":{},"NumNodes":0}"#
        );
    }
}
