//! The agent HTTP client shared by every command: address, token and datacenter from the
//! common flags and `CONSUL_HTTP_*` variables, request building, and Go-client error texts
//! (`Unexpected response code: <status> (<body>)`, `Get "<url>": dial tcp …`).

use std::io::Read;
use std::time::Duration;

use legate_config::goflag::Flags;
use reqwest::Method;
use reqwest::blocking;

/// Where the agent listens, as derived from `-http-addr`/`CONSUL_HTTP_ADDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// TCP: a base URL such as `http://127.0.0.1:8500`.
    Tcp(String),
    /// A Unix socket path (`unix:///path`).
    Unix(String),
}

/// An error talking to the agent, displayed the way Consul's Go API client reports it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// The agent answered with a non-2xx status.
    #[error("Unexpected response code: {status} ({body})")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Response body, as text.
        body: String,
    },
    /// The request never got an answer (connection refused, DNS, …).
    #[error("{op} \"{url}\": {detail}")]
    Transport {
        /// Go's capitalised method name (`Get`, `Put`, `Delete`).
        op: String,
        /// The request URL.
        url: String,
        /// The low-level reason.
        detail: String,
    },
    /// The response body could not be decoded.
    #[error("{0}")]
    Decode(String),
    /// The client could not be configured (bad scheme, unreadable TLS file, …).
    #[error("{0}")]
    Config(String),
}

/// Settings for talking to one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientConfig {
    /// Where the agent is.
    pub(crate) target: Target,
    /// ACL token sent as `X-Consul-Token` (empty: none).
    pub(crate) token: String,
    /// `?dc=` added to every request (empty: none).
    pub(crate) datacenter: String,
    /// Whether `-stale` was given.
    pub(crate) stale: bool,
    ca_file: String,
    client_cert: String,
    client_key: String,
    skip_verify: bool,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Turns an address (`host:port`, `http://…`, `https://…`, `unix://…`) into a [`Target`],
/// like the Go client: `https` when the scheme says so or `CONSUL_HTTP_SSL` is true.
pub(crate) fn parse_addr(addr: &str, ssl: bool) -> Result<Target, ApiError> {
    let addr = if addr.is_empty() {
        "127.0.0.1:8500"
    } else {
        addr
    };
    let mut scheme = if ssl { "https" } else { "http" };
    let rest = match addr.split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", rest)) => {
            scheme = "https";
            rest
        }
        Some(("unix", path)) => return Ok(Target::Unix(path.to_string())),
        Some((other, _)) => {
            return Err(ApiError::Config(format!(
                "Unknown protocol scheme: {other}"
            )));
        }
        None => addr,
    };
    let rest = rest.trim_end_matches('/');
    Ok(Target::Tcp(format!("{scheme}://{rest}")))
}

fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

impl ClientConfig {
    /// Builds the settings from parsed common flags, falling back to the environment.
    pub(crate) fn from_flags(flags: &Flags) -> Result<Self, ApiError> {
        let pick = |flag: &str, var: &str| flags.opt_string(flag).unwrap_or_else(|| env(var));
        let ssl = parse_go_bool(&env("CONSUL_HTTP_SSL")).unwrap_or(false);
        let target = parse_addr(&pick("http-addr", "CONSUL_HTTP_ADDR"), ssl)?;
        let mut token = pick("token", "CONSUL_HTTP_TOKEN");
        let token_file = pick("token-file", "CONSUL_HTTP_TOKEN_FILE");
        if flags.is_set("token-file") || (token.is_empty() && !token_file.is_empty()) {
            token = std::fs::read_to_string(&token_file)
                .map_err(|e| ApiError::Config(format!("Error loading token file: {e}")))?
                .trim()
                .to_string();
        }
        Ok(ClientConfig {
            target,
            token,
            datacenter: flags.string("datacenter"),
            stale: flags.bool("stale"),
            ca_file: pick("ca-file", "CONSUL_CACERT"),
            client_cert: pick("client-cert", "CONSUL_CLIENT_CERT"),
            client_key: pick("client-key", "CONSUL_CLIENT_KEY"),
            skip_verify: parse_go_bool(&env("CONSUL_HTTP_SSL_VERIFY")) == Some(false),
        })
    }
}

/// A configured agent client.
pub(crate) struct Client {
    config: ClientConfig,
    base: String,
    http: blocking::Client,
}

/// A complete response.
#[derive(Debug)]
pub(crate) struct Response {
    /// `X-Consul-Index`, when present.
    pub(crate) index: Option<u64>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// Decodes the body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::Decode(e.to_string()))
    }
}

impl Client {
    /// Builds a client from flags; errors read like Go's `api.NewClient` errors.
    pub(crate) fn from_flags(flags: &Flags) -> Result<Self, ApiError> {
        Self::new(ClientConfig::from_flags(flags)?)
    }

    /// Builds a client for `config`.
    pub(crate) fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let mut builder = blocking::Client::builder()
            .no_proxy()
            .timeout(None::<Duration>)
            .connect_timeout(Duration::from_secs(30));
        let base = match &config.target {
            Target::Tcp(url) => url.clone(),
            Target::Unix(path) => {
                builder = builder.unix_socket(path.as_str());
                "http://localhost".to_string()
            }
        };
        if !config.ca_file.is_empty() {
            let pem = std::fs::read(&config.ca_file)
                .map_err(|e| ApiError::Config(format!("Error loading CA File: {e}")))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ApiError::Config(format!("Error loading CA File: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        if !config.client_cert.is_empty() && !config.client_key.is_empty() {
            let mut pem = std::fs::read(&config.client_cert)
                .map_err(|e| ApiError::Config(format!("Error loading client cert: {e}")))?;
            let key = std::fs::read(&config.client_key)
                .map_err(|e| ApiError::Config(format!("Error loading client key: {e}")))?;
            pem.extend_from_slice(b"\n");
            pem.extend_from_slice(&key);
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| ApiError::Config(format!("Error loading client cert: {e}")))?;
            builder = builder.identity(id);
        }
        if config.skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ApiError::Config(e.to_string()))?;
        Ok(Client { config, base, http })
    }

    /// Starts a GET request for an already-escaped `path`.
    pub(crate) fn get(&self, path: &str) -> Request<'_> {
        self.request(Method::GET, path)
    }

    /// Starts a PUT request.
    pub(crate) fn put(&self, path: &str) -> Request<'_> {
        self.request(Method::PUT, path)
    }

    /// Starts a DELETE request.
    pub(crate) fn delete(&self, path: &str) -> Request<'_> {
        self.request(Method::DELETE, path)
    }

    /// Starts a POST request.
    pub(crate) fn post(&self, path: &str) -> Request<'_> {
        self.request(Method::POST, path)
    }

    fn request(&self, method: Method, path: &str) -> Request<'_> {
        let mut query = Vec::new();
        if !self.config.datacenter.is_empty() {
            query.push(("dc".to_string(), self.config.datacenter.clone()));
        }
        Request {
            client: self,
            method,
            path: path.to_string(),
            query,
            body: None,
            content_type: None,
        }
    }

    /// The agent's node name (`GET /v1/agent/self` → `Config.NodeName`), which several
    /// commands fetch first to check the agent is reachable.
    pub(crate) fn node_name(&self) -> Result<String, ApiError> {
        let self_info: serde_json::Value = self.get("/v1/agent/self").send()?.json()?;
        Ok(self_info
            .pointer("/Config/NodeName")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string())
    }
}

/// A request being built.
pub(crate) struct Request<'c> {
    client: &'c Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<blocking::Body>,
    content_type: Option<&'static str>,
}

impl Request<'_> {
    /// Adds a query parameter.
    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// Adds a query parameter only when `value` is not empty.
    pub(crate) fn query_nonempty(self, key: &str, value: &str) -> Self {
        if value.is_empty() {
            self
        } else {
            self.query(key, value)
        }
    }

    /// Adds `?stale` when `-stale` was given.
    pub(crate) fn allow_stale(self) -> Self {
        if self.client.config.stale {
            self.query("stale", "")
        } else {
            self
        }
    }

    /// Sends `value` as a JSON body.
    pub(crate) fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        self.body = Some(bytes.into());
        self.content_type = Some("application/json");
        self
    }

    /// Sends raw bytes as the body.
    pub(crate) fn bytes(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body.into());
        self.content_type = Some("application/octet-stream");
        self
    }

    /// Streams a reader (e.g. a snapshot file) as the body.
    pub(crate) fn reader<R: Read + Send + 'static>(mut self, body: R) -> Self {
        self.body = Some(blocking::Body::new(body));
        self.content_type = Some("application/octet-stream");
        self
    }

    /// The full URL this request goes to.
    pub(crate) fn url(&self) -> String {
        build_url(&self.client.base, &self.path, &self.query)
    }

    /// Sends the request and returns the raw response when it is 2xx.
    pub(crate) fn send_streaming(self) -> Result<blocking::Response, ApiError> {
        let url = self.url();
        let op = go_op(&self.method);
        let mut req = self.client.http.request(self.method, &url);
        if !self.client.config.token.is_empty() {
            req = req.header("X-Consul-Token", &self.client.config.token);
        }
        if let Some(ct) = self.content_type {
            req = req.header("Content-Type", ct);
        }
        if let Some(body) = self.body {
            req = req.body(body);
        }
        let resp = req.send().map_err(|e| ApiError::Transport {
            op: op.to_string(),
            url: url.clone(),
            detail: transport_detail(&e, &url),
        })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = resp.text().unwrap_or_default();
            return Err(ApiError::Status { status, body });
        }
        Ok(resp)
    }

    /// Sends the request and reads the whole 2xx response.
    pub(crate) fn send(self) -> Result<Response, ApiError> {
        let url = self.url();
        let op = go_op(&self.method).to_string();
        let resp = self.send_streaming()?;
        read_response(resp, &op, &url)
    }

    /// Like [`Request::send`], but a 404 is `Ok(None)` (the Go client's "not found" reads).
    pub(crate) fn send_optional(self) -> Result<Option<Response>, ApiError> {
        match self.send() {
            Ok(r) => Ok(Some(r)),
            Err(ApiError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn read_response(mut resp: blocking::Response, op: &str, url: &str) -> Result<Response, ApiError> {
    let index = resp
        .headers()
        .get("X-Consul-Index")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut body = Vec::new();
    resp.read_to_end(&mut body)
        .map_err(|e| ApiError::Transport {
            op: op.to_string(),
            url: url.to_string(),
            detail: e.to_string(),
        })?;
    Ok(Response { index, body })
}

fn go_op(method: &Method) -> &'static str {
    match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        Method::POST => "Post",
        _ => "Request",
    }
}

/// Go's `dial tcp <addr>: connect: connection refused` for refused connections, else the
/// innermost error text.
fn transport_detail(err: &reqwest::Error, url: &str) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return format!("dial tcp {}: connect: connection refused", host_port(url));
        }
        innermost = e.to_string();
        source = e.source();
    }
    if err.is_connect() && innermost.contains("refused") {
        return format!("dial tcp {}: connect: connection refused", host_port(url));
    }
    innermost
}

fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Joins base, path and a Go-encoded query (`url.Values.Encode`: sorted by key).
pub(crate) fn build_url(base: &str, path: &str, query: &[(String, String)]) -> String {
    let mut url = format!("{base}{path}");
    if !query.is_empty() {
        let mut pairs: Vec<&(String, String)> = query.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        url.push('?');
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            if i > 0 {
                url.push('&');
            }
            url.push_str(&query_escape(k));
            url.push('=');
            url.push_str(&query_escape(v));
        }
    }
    url
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Escapes a path (e.g. a KV key) the way Go's `url.URL.EscapedPath` does; `/` is kept.
pub(crate) fn escape_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'/'
            | b'$'
            | b'&'
            | b'+'
            | b','
            | b':'
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_without_scheme_gets_http() {
        assert_eq!(
            parse_addr("127.0.0.1:8500", false),
            Ok(Target::Tcp("http://127.0.0.1:8500".into()))
        );
        assert_eq!(
            parse_addr("", false),
            Ok(Target::Tcp("http://127.0.0.1:8500".into()))
        );
    }

    #[test]
    fn addr_scheme_and_ssl_env() {
        assert_eq!(
            parse_addr("https://h:1", false),
            Ok(Target::Tcp("https://h:1".into()))
        );
        assert_eq!(
            parse_addr("h:1", true),
            Ok(Target::Tcp("https://h:1".into()))
        );
        assert_eq!(
            parse_addr("unix:///tmp/c.sock", false),
            Ok(Target::Unix("/tmp/c.sock".into()))
        );
        assert_eq!(
            parse_addr("ftp://x", false).unwrap_err().to_string(),
            "Unknown protocol scheme: ftp"
        );
    }

    #[test]
    fn url_query_is_sorted_and_escaped() {
        let q = vec![
            ("separator".to_string(), "/".to_string()),
            ("dc".to_string(), "dc 1".to_string()),
            ("keys".to_string(), String::new()),
        ];
        assert_eq!(
            build_url("http://a:1", "/v1/kv/x", &q),
            "http://a:1/v1/kv/x?dc=dc+1&keys=&separator=%2F"
        );
    }

    #[test]
    fn path_escaping_keeps_slashes() {
        assert_eq!(escape_path("a b/c?d#e"), "a%20b/c%3Fd%23e");
        assert_eq!(escape_path("k=v@x"), "k=v@x");
    }

    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escape_path_round_trips(s in "\\PC{0,40}") {
            let escaped = escape_path(&s);
            proptest::prop_assert!(!escaped.contains(['?', '#', ' ']));
            proptest::prop_assert_eq!(unescape(&escaped), s.as_bytes().to_vec());
        }

        #[test]
        fn query_escape_is_url_safe(s in "\\PC{0,40}") {
            let escaped = query_escape(&s);
            proptest::prop_assert!(escaped.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~%+".contains(c)));
        }
    }

    #[test]
    fn status_error_text_matches_go_client() {
        let e = ApiError::Status {
            status: 403,
            body: "ACL not found".into(),
        };
        assert_eq!(
            e.to_string(),
            "Unexpected response code: 403 (ACL not found)"
        );
    }
}
