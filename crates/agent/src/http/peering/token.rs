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
use crate::reconcile::MemberInfo;
use crate::reconcile::MemberStatus;

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

/// `host:port` of every alive server of datacenter `dc` among `members`, sorted by node name:
/// its WAN address (`wan_of(node)`, when non-empty) else its gossip address, with its
/// `grpc_tls_port` tag (else `grpc_port`). Servers advertising neither port are skipped.
pub(crate) fn server_addresses(
    members: &[MemberInfo],
    dc: &str,
    wan_of: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut servers: Vec<&MemberInfo> = members
        .iter()
        .filter(|m| {
            m.status == MemberStatus::Alive
                && m.tags.get("role").map(String::as_str) == Some("consul")
                && m.tags.get("dc").map(String::as_str) == Some(dc)
        })
        .collect();
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    servers
        .into_iter()
        .filter_map(|m| {
            let port = ["grpc_tls_port", "grpc_port"]
                .iter()
                .filter_map(|k| m.tags.get(*k))
                .find_map(|p| p.parse::<u16>().ok().filter(|p| *p > 0))?;
            let host = wan_of(&m.name)
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| m.address.clone());
            Some(join_host_port(&host, port))
        })
        .collect()
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, addr: &str, status: MemberStatus, tags: &[(&str, &str)]) -> MemberInfo {
        MemberInfo {
            name: name.into(),
            address: addr.into(),
            status,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn alive_servers_of_the_dc_with_their_grpc_tls_port() {
        let server = [("role", "consul"), ("dc", "dc1"), ("grpc_tls_port", "8503")];
        let members = vec![
            member("s2", "10.0.0.2", MemberStatus::Alive, &server),
            member("s1", "10.0.0.1", MemberStatus::Alive, &server),
            member("s3", "10.0.0.3", MemberStatus::Failed, &server),
            member(
                "s4",
                "fe80::1",
                MemberStatus::Alive,
                &[("role", "consul"), ("dc", "dc1"), ("grpc_port", "8502")],
            ),
            member(
                "other-dc",
                "10.9.0.1",
                MemberStatus::Alive,
                &[("role", "consul"), ("dc", "dc2"), ("grpc_tls_port", "8503")],
            ),
            member(
                "client",
                "10.0.0.9",
                MemberStatus::Alive,
                &[("role", "node"), ("dc", "dc1")],
            ),
            member(
                "noport",
                "10.0.0.8",
                MemberStatus::Alive,
                &[("role", "consul"), ("dc", "dc1")],
            ),
        ];
        let got = server_addresses(&members, "dc1", |n| {
            (n == "s2").then(|| "203.0.113.2".to_string())
        });
        assert_eq!(got, ["10.0.0.1:8503", "203.0.113.2:8503", "[fe80::1]:8502"]);
    }

    #[test]
    fn empty_wan_address_falls_back_to_gossip() {
        let members = vec![member(
            "s1",
            "10.0.0.1",
            MemberStatus::Alive,
            &[
                ("role", "consul"),
                ("dc", "dc1"),
                ("grpc_tls_port", "0"),
                ("grpc_port", "8502"),
            ],
        )];
        assert_eq!(
            server_addresses(&members, "dc1", |_| Some(String::new())),
            ["10.0.0.1:8502"]
        );
    }
}
