//! `POST /v1/peering/token` (acceptor side of a peering): validate the request, write the
//! acceptor row (PENDING when new) and a fresh establishment secret in one Raft entry —
//! replacing any unused secret of an earlier token — and answer the token that carries this
//! cluster's CA roots, server addresses and TLS server name. [`server_addresses`] is the pure
//! choice of addresses from gossip members.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use legate_peering::PeerName;
use legate_peering::PeeringToken;
use legate_peering::TokenError;
use legate_peering::TokenRemote;
use legate_peering::establish::generate_token_write;
use legate_peering::token::valid_server_address;
use legate_state::command::Command;
use serde::Deserialize;
use serde_json::json;

use super::check_partition;
use super::new_peering_id;
use super::require_enabled;
use super::tls_materials;
use super::write;
use crate::agent::Agent;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::reply;
use crate::peering::export::join_host_port;
use crate::peering::export::server_addresses;
use crate::reconcile::MemberInfo;

/// The request body (Consul's `PeeringGenerateTokenRequest`).
#[derive(Debug, Default, Deserialize)]
struct GenerateTokenRequest {
    #[serde(rename = "PeerName", default)]
    peer_name: String,
    #[serde(rename = "Partition", default)]
    partition: String,
    #[serde(rename = "Meta", default)]
    meta: Option<BTreeMap<String, String>>,
    #[serde(rename = "ServerExternalAddresses", default)]
    server_external_addresses: Option<Vec<String>>,
}

/// Field names as Go's case-insensitive decoder matches them.
const FIELDS: [&str; 4] = ["PeerName", "Partition", "Meta", "ServerExternalAddresses"];

/// `POST /v1/peering/token`: `{"PeeringToken": "<base64>"}`.
pub(super) async fn generate(
    State(agent): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: GenerateTokenRequest = super::decode_body(&body, &FIELDS, &["Meta"])?;
    if request.peer_name.is_empty() {
        return Err(ApiError::BadRequest(
            "PeerName is required in the payload when generating a new peering token.".to_string(),
        ));
    }
    require_enabled(&agent)?;
    check_partition(&request.partition)?;
    let name =
        PeerName::parse(&request.peer_name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let meta = request.meta.unwrap_or_default();
    crate::definition::validate_meta(&meta)
        .map_err(|e| ApiError::BadRequest(format!("meta tags failed validation: {e}")))?;
    let manual = request.server_external_addresses.unwrap_or_default();
    if let Some(bad) = manual.iter().find(|a| !valid_server_address(a)) {
        return Err(ApiError::BadRequest(
            TokenError::InvalidServerAddress(bad.clone()).to_string(),
        ));
    }

    let config = agent.config();
    if !config.connect.enabled {
        return Err(ApiError::BadRequest(
            "connect.enabled must be set to true in the server's configuration when generating peering tokens"
                .to_string(),
        ));
    }
    let Some(grpc_tls_port) = config.ports.grpc_tls.filter(|p| *p > 0) else {
        return Err(ApiError::BadRequest(
            "TLS for gRPC must be enabled when generating peering tokens".to_string(),
        ));
    };
    let dc = agent.node().datacenter.clone();
    let tls = tls_materials(&agent.server().store().view(), &dc)?;

    let (peer_id, establishment_secret) = write_row(&agent, &name, meta).await?;
    let token = PeeringToken {
        ca: tls.ca_pems,
        manual_server_addresses: manual,
        server_addresses: local_addresses(&agent, grpc_tls_port)?,
        server_name: tls.server_name,
        peer_id,
        establishment_secret,
        remote: TokenRemote {
            partition: String::new(),
            datacenter: dc,
        },
    };
    reply::json(&json!({ "PeeringToken": token.encode() }), false)
}

/// Write the acceptor row with a new establishment secret; returns the row's ID and the secret.
/// Two first-time calls racing for one name: the loser's ID is refused by the store, so it
/// retries once with the winner's row, as Consul does.
async fn write_row(
    agent: &Agent,
    name: &PeerName,
    meta: BTreeMap<String, String>,
) -> Result<(String, String), ApiError> {
    let mut retried = false;
    loop {
        let view = agent.server().store().view();
        let existing = view.peering(name.as_str());
        let secret = uuid::Uuid::new_v4().to_string();
        let command = generate_token_write(
            existing.as_ref(),
            &new_peering_id(&view),
            name,
            meta.clone(),
            "",
            secret.clone(),
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let Command::PeeringWrite { peering, .. } = &command else {
            return Err(ApiError::Internal("unexpected peering command".to_string()));
        };
        let id = peering.id.clone();
        match write(agent, command).await {
            Err(ApiError::Internal(m))
                if !retried && m.contains("A peering already exists with the name") =>
            {
                retried = true;
            }
            Err(e) => return Err(e),
            Ok(()) => return Ok((id, secret)),
        }
    }
}

/// The addresses of this datacenter's servers peers may dial: from gossip when it runs, else
/// this server alone. A server's WAN address (from its catalog node) wins over its LAN one.
fn local_addresses(agent: &Agent, own_grpc_tls_port: u16) -> Result<Vec<String>, ApiError> {
    let addresses = match agent.lan() {
        Some(lan) => {
            let members: Vec<MemberInfo> = lan
                .members()
                .iter()
                .map(crate::membership::member_info)
                .collect();
            let view = agent.server().store().view();
            server_addresses(&members, &agent.node().datacenter, |node| {
                view.node(node)
                    .and_then(|n| n.tagged_addresses.get("wan").cloned())
            })
        }
        None => vec![join_host_port(&agent.node().wan_address, own_grpc_tls_port)],
    };
    if addresses.is_empty() {
        return Err(ApiError::Internal(
            "a grpc bind port must be specified in the configuration for all servers".to_string(),
        ));
    }
    Ok(addresses)
}
