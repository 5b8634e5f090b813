//! HTTP checks: one request per run with Consul's defaults (GET, `User-Agent: Consul Health
//! Check`, 10 s timeout, no keep-alive). 2xx is passing, 429 warning, anything else critical;
//! output is `HTTP <method> <url>: <status> Output: <body tail>`.

use std::time::Duration;

use legate_state::model::health;
use reqwest::Method;
use reqwest::header::ACCEPT;
use reqwest::header::HeaderMap;
use reqwest::header::HeaderName;
use reqwest::header::HeaderValue;
use reqwest::header::USER_AGENT;

use super::output::TailBuffer;
use super::probe::ProbeResult;
use super::probe::go_io_error;
use super::tls::danger_skip_verify_config;
use crate::definition::CheckKind;

/// Consul's `User-Agent` for HTTP checks.
const CHECK_USER_AGENT: &str = "Consul Health Check";
/// Consul's default `Accept` for HTTP checks.
const CHECK_ACCEPT: &str = "text/plain, text/*, */*";

/// An HTTP check, ready to run.
pub(crate) struct HttpProbe {
    /// The client, or why it could not be built (reported as critical on every run).
    client: Result<reqwest::Client, String>,
    url: String,
    method: String,
    headers: HeaderMap,
    body: String,
    output_max: usize,
}

impl HttpProbe {
    /// Builds the probe for an [`CheckKind::Http`] definition.
    pub(crate) fn new(kind: &CheckKind, timeout: Duration, output_max: usize) -> Self {
        let CheckKind::Http {
            url,
            method,
            header,
            body,
            tls_skip_verify,
            disable_redirects,
            ..
        } = kind
        else {
            return HttpProbe {
                client: Err("not an HTTP check".into()),
                url: String::new(),
                method: String::new(),
                headers: HeaderMap::new(),
                body: String::new(),
                output_max,
            };
        };
        let method = if method.is_empty() {
            "GET".to_string()
        } else {
            method.clone()
        };
        HttpProbe {
            client: build_client(timeout, *tls_skip_verify, *disable_redirects),
            url: url.clone(),
            method,
            headers: build_headers(header),
            body: body.clone(),
            output_max,
        }
    }

    pub(crate) async fn check(&self) -> ProbeResult {
        let critical = |output: String| ProbeResult {
            status: health::CRITICAL,
            output,
        };
        let client = match &self.client {
            Ok(c) => c,
            Err(e) => return critical(e.clone()),
        };
        let method = match Method::from_bytes(self.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return critical(format!("net/http: invalid method {:?}", self.method)),
        };
        let request = client
            .request(method, &self.url)
            .headers(self.headers.clone())
            .body(self.body.clone());
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return critical(describe_error(&self.method, &self.url, &e)),
        };
        let mut tail = TailBuffer::new(self.output_max);
        // A body cut short still yields the status; Consul only logs read errors.
        while let Ok(Some(chunk)) = response.chunk().await {
            tail.write(&chunk);
        }
        let code = response.status();
        let status_text = match code.canonical_reason() {
            Some(reason) => format!("{} {reason}", code.as_u16()),
            None => format!("{} status code {}", code.as_u16(), code.as_u16()),
        };
        let output = format!(
            "HTTP {} {}: {status_text} Output: {}",
            self.method,
            self.url,
            tail.text()
        );
        let status = if code.is_success() {
            health::PASSING
        } else if code.as_u16() == 429 {
            health::WARNING
        } else {
            health::CRITICAL
        };
        ProbeResult { status, output }
    }
}

fn build_client(
    timeout: Duration,
    skip_verify: bool,
    disable_redirects: bool,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(0);
    if disable_redirects {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    if skip_verify {
        let tls = danger_skip_verify_config().map_err(|e| e.to_string())?;
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder.build().map_err(|e| e.to_string())
}

/// The check's headers plus Consul's `User-Agent` and `Accept` defaults. Names or values
/// that are not valid HTTP are skipped.
fn build_headers(header: &std::collections::BTreeMap<String, Vec<String>>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, values) in header {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.append(name.clone(), value);
            }
        }
    }
    if !map.contains_key(USER_AGENT) {
        map.insert(USER_AGENT, HeaderValue::from_static(CHECK_USER_AGENT));
    }
    if !map.contains_key(ACCEPT) {
        map.insert(ACCEPT, HeaderValue::from_static(CHECK_ACCEPT));
    }
    map
}

/// A request error worded like Go's `*url.Error`: `Get "<url>": <cause>`.
fn describe_error(method: &str, url: &str, err: &reqwest::Error) -> String {
    let mut op = method.to_lowercase();
    if let Some(first) = op.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if err.is_timeout() {
        return format!(
            "{op} \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        );
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let cause = match cause.downcast_ref::<std::io::Error>() {
        Some(io) => format!("dial tcp: connect: {}", go_io_error(io)),
        None => cause.to_string(),
    };
    format!("{op} \"{url}\": {cause}")
}
