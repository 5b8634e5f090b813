//! `POST /v1/peering/establish` (dialer side of a peering): decode and validate the token
//! (CA PEMs parse as X.509 CA certificates, addresses, server name, peer ID), refuse a token
//! this very cluster minted and a name already used as an acceptor, exchange the establishment
//! secret for a stream secret through the agent's [`SecretExchanger`], and only then write the
//! dialer row (ESTABLISHING) with its active secret in one Raft entry. Unlike Consul, nothing
//! is written before the exchange, so a failed establish leaves the peerings table untouched.
//!
//! [`SecretExchanger`]: crate::peering_exchange::SecretExchanger

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use legate_peering::PeerName;
use legate_peering::PeeringToken;
use legate_peering::establish::check_not_self;
use legate_peering::establish::dialer_row;
use legate_peering::establish::establish_write;
use serde::Deserialize;
use serde_json::json;

use super::check_partition;
use super::decode_body;
use super::new_peering_id;
use super::require_enabled;
use super::tls_materials;
use super::write;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::reply;
use crate::peering_exchange::ExchangeError;
use crate::peering_exchange::ExchangeRequest;

/// The request body (Consul's `PeeringEstablishRequest`).
#[derive(Debug, Default, Deserialize)]
struct EstablishRequest {
    #[serde(rename = "PeerName", default)]
    peer_name: String,
    #[serde(rename = "PeeringToken", default)]
    peering_token: String,
    #[serde(rename = "Partition", default)]
    partition: String,
    #[serde(rename = "Meta", default)]
    meta: Option<BTreeMap<String, String>>,
}

/// Field names as Go's case-insensitive decoder matches them.
const FIELDS: [&str; 4] = ["PeerName", "PeeringToken", "Partition", "Meta"];

/// `POST /v1/peering/establish`: `{}` once the acceptor handed out a stream secret.
pub(super) async fn establish(
    State(agent): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: EstablishRequest = decode_body(&body, &FIELDS, &["Meta"])?;
    if request.peer_name.is_empty() {
        return Err(ApiError::BadRequest(
            "PeerName is required in the payload when establishing a peering.".to_string(),
        ));
    }
    if request.peering_token.is_empty() {
        return Err(ApiError::BadRequest(
            "PeeringToken is required in the payload when establishing a peering.".to_string(),
        ));
    }
    require_enabled(&agent)?;
    check_partition(&request.partition)?;
    let name =
        PeerName::parse(&request.peer_name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let token = decode_token(&request.peering_token)?;
    let meta = request.meta.unwrap_or_default();
    crate::definition::validate_meta(&meta)
        .map_err(|e| ApiError::BadRequest(format!("meta tags failed validation: {e}")))?;

    let dc = agent.node().datacenter.clone();
    let view = agent.server().store().view();
    let local = tls_materials(&view, &dc)
        .map_err(|e| ApiError::Internal(format!("failed to fetch TLS materials: {e}")))?;
    check_not_self(&token, &local.server_name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let existing = view.peering(name.as_str());
    // Checks the role before anything leaves this cluster.
    let row = dialer_row(
        existing.as_ref(),
        &new_peering_id(&view),
        &name,
        &token,
        meta,
        "",
        false,
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;

    let exchange = ExchangeRequest {
        token,
        local_ca_pems: local.ca_pems,
        local_trust_domain: local.trust_domain,
        local_datacenter: dc,
    };
    let stream_secret = agent
        .peering_exchanger()
        .exchange(&exchange)
        .await
        .map_err(|e| match e {
            ExchangeError::PermissionDenied(_) => ApiError::Forbidden(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        })?;
    write(&agent, establish_write(row, stream_secret)).await?;
    reply::json(&json!({}), false)
}

/// Decode and validate a token; every failure is a 400 with the reason.
fn decode_token(text: &str) -> Result<PeeringToken, ApiError> {
    let token = PeeringToken::decode(text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    token
        .validate(|pem| {
            legate_connect::parse_ca_pems(&[pem.to_string()])
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(token)
}
