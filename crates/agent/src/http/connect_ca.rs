//! `/v1/connect/ca/*` and `/v1/agent/connect/ca/roots`: the Connect CA's trusted roots (a
//! blocking read of the CA table, in Consul's `IndexedCARoots` shape, or with `?pem=true` the
//! certificates as one PEM chain) and its configuration. Private keys are never shown: the
//! response is built field by field from the stored roots. A client agent asks a server.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use http::HeaderValue;
use http::Method;
use http::StatusCode;
use http::Uri;
use http::header::CONTENT_TYPE;
use legate_rpc::HttpRequest;
use legate_state::Table;
use legate_state::connect_ca::CaRoot;
use legate_state::connect_ca::CaState;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::forward;
use super::query::Params;
use super::reply;

/// Consul's error when Connect is off (`ErrConnectNotEnabled`), answered with a 500.
const NOT_ENABLED: &str = "Connect must be enabled in order to use this endpoint";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/connect/ca/roots", get(roots).fallback(not_allowed))
        .route(
            "/v1/agent/connect/ca/roots",
            get(roots).fallback(not_allowed),
        )
        .route(
            "/v1/connect/ca/configuration",
            get(configuration)
                .put(configuration_set)
                .fallback(not_allowed),
        )
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// `GET /v1/connect/ca/roots[?pem=true]` and `GET /v1/agent/connect/ca/roots`.
async fn roots(
    State(agent): State<AppState>,
    uri: Uri,
    params: Params,
) -> Result<Response, ApiError> {
    if !agent.config().server {
        // The agent endpoint is local to every agent; a client has no CA state to read.
        return to_server(&agent, &uri).await;
    }
    if !agent.config().connect.enabled {
        return Err(ApiError::Internal(NOT_ENABLED.to_string()));
    }
    let pem = match params.get("pem") {
        None | Some("") => false,
        Some(v) => go_bool(v).ok_or_else(|| {
            ApiError::BadRequest("The 'pem' query parameter must be a boolean value".to_string())
        })?,
    };
    let opts = agent.query_options(params)?;
    let (state, meta) = blocking::query(agent.server(), &opts, &[Table::ConnectCa], |view| {
        Ok((view.ca_state(), view.table_index(Table::ConnectCa)))
    })
    .await?;
    if pem {
        let mut response = (
            StatusCode::OK,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("application/pem-certificate-chain"),
            )],
            pem_chain(&state),
        )
            .into_response();
        reply::add_meta(&mut response, &meta);
        return Ok(response);
    }
    let body = roots_json(&state)?;
    reply::json_with_meta(&body, opts.pretty, &meta)
}

/// Consul's `IndexedCARoots`: the CA's public side only.
fn roots_json(state: &CaState) -> Result<Value, ApiError> {
    let Some(config) = &state.config else {
        return Err(ApiError::Internal(
            "CA has not finished initializing".to_string(),
        ));
    };
    let roots: Vec<Value> = state.roots.iter().map(root_json).collect();
    Ok(json!({
        "ActiveRootID": state.active_root().map_or("", |r| r.id.as_str()),
        "TrustDomain": config.trust_domain(),
        "Roots": roots,
    }))
}

/// One root in Consul's `CARoot` field order; `IntermediateCerts` is `null` when empty, as Go
/// encodes a nil slice. Deliberately no private key.
fn root_json(r: &CaRoot) -> Value {
    let intermediates = if r.intermediate_certs.is_empty() {
        Value::Null
    } else {
        json!(r.intermediate_certs)
    };
    json!({
        "ID": r.id,
        "Name": r.name,
        "SerialNumber": r.serial_number,
        "SigningKeyID": r.signing_key_id,
        "ExternalTrustDomain": r.external_trust_domain,
        "NotBefore": r.not_before,
        "NotAfter": r.not_after,
        "RootCert": ensure_newline(&r.root_cert),
        "IntermediateCerts": intermediates,
        "Active": r.active,
        "PrivateKeyType": r.private_key_type,
        "PrivateKeyBits": r.private_key_bits,
        "CreateIndex": r.create_index,
        "ModifyIndex": r.modify_index,
    })
}

/// Every root followed by its intermediates, as one PEM chain.
fn pem_chain(state: &CaState) -> String {
    let mut out = String::new();
    for r in &state.roots {
        out.push_str(&ensure_newline(&r.root_cert));
        for i in &r.intermediate_certs {
            out.push_str(&ensure_newline(i));
        }
    }
    out
}

fn ensure_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `GET /v1/connect/ca/configuration`: provider, its settings and the Raft indexes.
async fn configuration(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    if !agent.config().connect.enabled {
        return Err(ApiError::Internal(NOT_ENABLED.to_string()));
    }
    let opts = agent.query_options(params)?;
    let (state, meta) = blocking::query(agent.server(), &opts, &[Table::ConnectCa], |view| {
        Ok((view.ca_state(), view.table_index(Table::ConnectCa)))
    })
    .await?;
    let Some(config) = state.config else {
        return Err(ApiError::Internal(
            "CA has not finished initializing".to_string(),
        ));
    };
    let body = json!({
        "Provider": config.provider,
        "Config": config.config,
        "State": null,
        "ForceWithoutCrossSigning": false,
        "CreateIndex": config.create_index,
        "ModifyIndex": config.modify_index,
    });
    reply::json_with_meta(&body, opts.pretty, &meta)
}

/// `PUT /v1/connect/ca/configuration`: CA reconfiguration and root rotation are not built yet.
async fn configuration_set(State(agent): State<AppState>) -> ApiError {
    if !agent.config().connect.enabled {
        return ApiError::Internal(NOT_ENABLED.to_string());
    }
    ApiError::Internal("CA configuration updates are not supported yet".to_string())
}

/// Ask a server for the roots on behalf of a client agent.
async fn to_server(agent: &AppState, uri: &Uri) -> Result<Response, ApiError> {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let request = HttpRequest {
        method: "GET".to_string(),
        path_and_query: format!("/v1/connect/ca/roots{query}"),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let reply = forward::to_any_server(agent, request).await?;
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in reply.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        builder = builder.header(name, value);
    }
    builder
        .body(axum::body::Body::from(reply.body))
        .map_err(|err| ApiError::Internal(format!("bad forwarded response: {err}")))
}

#[cfg(test)]
mod tests {
    use legate_state::connect_ca::CaConfig;

    use super::*;

    fn state() -> CaState {
        CaState {
            config: Some(CaConfig {
                cluster_id: "11111111-2222-3333-4444-555555555555".to_string(),
                provider: "consul".to_string(),
                ..CaConfig::default()
            }),
            roots: vec![CaRoot {
                id: "aa:bb".to_string(),
                root_cert: "CERT".to_string(),
                private_key: "SECRET KEY".to_string(),
                active: true,
                ..CaRoot::default()
            }],
        }
    }

    #[test]
    fn roots_json_has_consul_fields_and_no_key() {
        let body = roots_json(&state()).unwrap();
        assert_eq!(body["ActiveRootID"], "aa:bb");
        assert_eq!(
            body["TrustDomain"],
            "11111111-2222-3333-4444-555555555555.consul"
        );
        let root = &body["Roots"][0];
        let keys: Vec<&str> = root
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "ID",
                "Name",
                "SerialNumber",
                "SigningKeyID",
                "ExternalTrustDomain",
                "NotBefore",
                "NotAfter",
                "RootCert",
                "IntermediateCerts",
                "Active",
                "PrivateKeyType",
                "PrivateKeyBits",
                "CreateIndex",
                "ModifyIndex"
            ]
        );
        assert_eq!(root["IntermediateCerts"], Value::Null);
        assert_eq!(root["RootCert"], "CERT\n");
        assert!(!body.to_string().contains("SECRET"));
    }

    #[test]
    fn uninitialized_ca_is_an_error_and_pem_chain_concatenates() {
        assert!(roots_json(&CaState::default()).is_err());
        let mut s = state();
        s.roots[0].intermediate_certs = vec!["INT".to_string()];
        assert_eq!(pem_chain(&s), "CERT\nINT\n");
    }

    #[test]
    fn pem_flag_parses_like_go() {
        assert_eq!(go_bool("true"), Some(true));
        assert_eq!(go_bool("T"), Some(true));
        assert_eq!(go_bool("0"), Some(false));
        assert_eq!(go_bool("yes"), None);
    }
}
