//! Runner tests against real local listeners. Every test waits on the update channel (with a
//! generous timeout), never on a sleep.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::StreamBody;
use hyper::body::Frame;
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::unbounded_channel;

use super::*;
use crate::definition::CheckDefinition;
use crate::definition::DefinitionError;

const WAIT: Duration = Duration::from_secs(10);

fn runners(opts: RunnerOptions) -> (CheckRunners, UnboundedReceiver<CheckUpdate>) {
    let (tx, rx) = unbounded_channel();
    (
        CheckRunners::with_min_interval(tx, opts, Duration::from_millis(10)),
        rx,
    )
}

fn check(v: serde_json::Value) -> CheckDefinition {
    CheckDefinition::from_value(&v).unwrap()
}

async fn next(rx: &mut UnboundedReceiver<CheckUpdate>) -> CheckUpdate {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no update in time")
        .expect("channel closed")
}

/// An HTTP/1.1 server answering the n-th request with `codes[min(n, last)]` and body "ok".
async fn http_server(bind: &str, codes: &'static [u16]) -> u16 {
    let listener = TcpListener::bind(bind).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                let code = codes[n.min(codes.len() - 1)];
                let reply = format!(
                    "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn http_check_flips_passing_warning_critical() {
    static CODES: [u16; 3] = [200, 429, 500];
    let port = http_server("127.0.0.1:0", &CODES).await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    let url = format!("http://127.0.0.1:{port}/health");
    runners
        .start(
            &check(json!({"Name": "web", "HTTP": url, "Interval": "20ms"})),
            CheckSource::Api,
        )
        .unwrap();
    let first = next(&mut rx).await;
    assert_eq!(first.check_id, "web");
    assert_eq!(first.status, "passing");
    assert_eq!(first.output, format!("HTTP GET {url}: 200 OK Output: ok"));
    let second = next(&mut rx).await;
    assert_eq!(second.status, "warning");
    assert_eq!(
        second.output,
        format!("HTTP GET {url}: 429 Too Many Requests Output: ok")
    );
    let third = next(&mut rx).await;
    assert_eq!(third.status, "critical");
    assert_eq!(
        third.output,
        format!("HTTP GET {url}: 500 Internal Server Error Output: ok")
    );
    runners.stop_all();
}

#[tokio::test]
async fn http_check_on_localhost_reaches_an_ipv4_only_listener() {
    static CODES: [u16; 1] = [200];
    let port = http_server("127.0.0.1:0", &CODES).await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    let def = check(
        json!({"Name": "local", "HTTP": format!("http://localhost:{port}/"), "Interval": "1s"}),
    );
    runners.start(&def, CheckSource::Api).unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "passing", "{}", update.output);
}

#[tokio::test]
async fn http_check_connection_refused_is_critical() {
    let port = closed_port().await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    let url = format!("http://127.0.0.1:{port}/");
    runners
        .start(
            &check(json!({"Name": "down", "HTTP": url, "Interval": "1s"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "critical");
    assert!(
        update.output.starts_with(&format!("Get \"{url}\": ")),
        "{}",
        update.output
    );
}

async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn tcp_check_open_and_closed_ports() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = closed_port().await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    runners
        .start(
            &check(json!({"Name": "open", "TCP": format!("127.0.0.1:{open}"), "Interval": "1s"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (update.check_id.as_str(), update.status),
        ("open", "passing")
    );
    assert_eq!(
        update.output,
        format!("TCP connect 127.0.0.1:{open}: Success")
    );
    runners.stop("open");
    assert!(!runners.is_running("open"));

    runners
        .start(
            &check(
                json!({"Name": "closed", "TCP": format!("127.0.0.1:{closed}"), "Interval": "1s"}),
            ),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (update.check_id.as_str(), update.status),
        ("closed", "critical")
    );
    assert_eq!(
        update.output,
        format!("dial tcp 127.0.0.1:{closed}: connect: connection refused")
    );
    drop(listener);
}

#[tokio::test]
async fn udp_check_with_an_echo_server_passes() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        while let Ok((_, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(b"pong", from).await;
        }
    });
    let (runners, mut rx) = runners(RunnerOptions::default());
    let addr = format!("127.0.0.1:{port}");
    runners
        .start(
            &check(json!({"Name": "udp", "UDP": addr, "Interval": "1s"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "passing");
    assert_eq!(update.output, format!("UDP connect {addr}: Success"));
}

#[tokio::test]
async fn ttl_check_pass_then_expiry() {
    let (runners, mut rx) = runners(RunnerOptions::default());
    runners
        .start(
            &check(json!({"Name": "beat", "TTL": "200ms"})),
            CheckSource::Api,
        )
        .unwrap();
    runners.ttl_update("beat", "passing", "ok").unwrap();
    let update = next(&mut rx).await;
    assert_eq!((update.status, update.output.as_str()), ("passing", "ok"));
    let expired = next(&mut rx).await;
    assert_eq!(expired.status, "critical");
    assert_eq!(
        expired.output,
        "TTL expired (last output before timeout follows): ok"
    );
}

#[tokio::test]
async fn ttl_check_expires_without_any_update() {
    let (runners, mut rx) = runners(RunnerOptions::default());
    runners
        .start(
            &check(json!({"Name": "beat", "TTL": "50ms"})),
            CheckSource::Api,
        )
        .unwrap();
    let expired = next(&mut rx).await;
    assert_eq!(
        (expired.status, expired.output.as_str()),
        ("critical", "TTL expired")
    );
}

#[tokio::test]
async fn ttl_update_errors_and_output_truncation() {
    let (runners, mut rx) = runners(RunnerOptions::default());
    assert_eq!(
        runners
            .ttl_update("nope", "passing", "")
            .unwrap_err()
            .to_string(),
        "CheckID \"nope\" does not have associated TTL"
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    runners
        .start(
            &check(json!({"Name": "tcp", "TCP": format!("127.0.0.1:{port}"), "Interval": "1h"})),
            CheckSource::Api,
        )
        .unwrap();
    assert!(runners.ttl_update("tcp", "passing", "").is_err());

    runners
        .start(
            &check(json!({"Name": "t", "TTL": "1h", "OutputMaxSize": 3})),
            CheckSource::Api,
        )
        .unwrap();
    runners.ttl_update("t", "warning", "abcdef").unwrap();
    loop {
        let update = next(&mut rx).await;
        if update.check_id == "t" {
            assert_eq!(
                (update.status, update.output.as_str()),
                ("warning", "abc ... (captured 3 of 6 bytes)")
            );
            break;
        }
    }
}

#[tokio::test]
async fn script_checks_map_exit_codes() {
    let opts = RunnerOptions {
        enable_script_checks: true,
        enable_local_script_checks: false,
    };
    let (runners, mut rx) = runners(opts);
    runners
        .start(
            &check(json!({"Name": "ok", "args": ["/bin/true"], "Interval": "1h"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (
            update.check_id.as_str(),
            update.status,
            update.output.as_str()
        ),
        ("ok", "passing", "")
    );

    let warn = json!({"Name": "warn", "args": ["sh", "-c", "echo out; echo err >&2; exit 1"], "Interval": "1h"});
    runners.start(&check(warn), CheckSource::Api).unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (update.check_id.as_str(), update.status),
        ("warn", "warning")
    );
    assert!(
        update.output.contains("out\n") && update.output.contains("err\n"),
        "{:?}",
        update.output
    );

    let crit = json!({"Name": "crit", "ScriptArgs": ["sh", "-c", "exit 2"], "Interval": "1h"});
    runners.start(&check(crit), CheckSource::Api).unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (update.check_id.as_str(), update.status),
        ("crit", "critical")
    );

    let missing = json!({"Name": "missing", "args": ["/no/such/program"], "Interval": "1h"});
    runners.start(&check(missing), CheckSource::Api).unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "critical");
    assert_eq!(
        update.output,
        "exec: \"/no/such/program\": executable file not found in $PATH"
    );
}

#[tokio::test]
async fn script_check_timeout_is_critical() {
    let opts = RunnerOptions {
        enable_script_checks: true,
        enable_local_script_checks: false,
    };
    let (runners, mut rx) = runners(opts);
    let def = json!({"Name": "slow", "args": ["sh", "-c", "echo started; exec sleep 30"], "Interval": "1h", "Timeout": "300ms"});
    runners.start(&check(def), CheckSource::Api).unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "critical");
    assert_eq!(
        update.output,
        "Timed out (300ms) running check\n\nstarted\n"
    );
}

#[tokio::test]
async fn script_checks_obey_the_enable_options() {
    let def = check(json!({"Name": "s", "args": ["/bin/true"], "Interval": "1s"}));
    let (none, _rx) = runners(RunnerOptions::default());
    assert_eq!(
        none.start(&def, CheckSource::Api),
        Err(DefinitionError::RemoteScriptsDisabled)
    );
    assert_eq!(
        none.start(&def, CheckSource::LocalConfig),
        Err(DefinitionError::ScriptsDisabled)
    );
    let local_only = RunnerOptions {
        enable_script_checks: false,
        enable_local_script_checks: true,
    };
    let (local, _rx) = runners(local_only);
    assert_eq!(
        local.start(&def, CheckSource::Api),
        Err(DefinitionError::RemoteScriptsDisabled)
    );
    assert!(local.start(&def, CheckSource::LocalConfig).is_ok());
    local.stop_all();
    assert!(!local.is_running("s"));
}

#[tokio::test]
async fn alias_checks_are_accepted_but_not_run() {
    let (runners, _rx) = runners(RunnerOptions::default());
    runners
        .start(
            &check(json!({"Name": "a", "AliasService": "web"})),
            CheckSource::Api,
        )
        .unwrap();
    assert!(!runners.is_running("a"));
}

/// A gRPC health server answering `status` for every service, recording the service asked.
async fn grpc_server(status: u64) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_srv = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen_srv);
            let svc =
                hyper::service::service_fn(move |req: ::http::Request<hyper::body::Incoming>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        if let Some(service) = grpc::codec::decode_request(&body) {
                            seen.lock().unwrap().push(service);
                        }
                        let mut trailers = ::http::HeaderMap::new();
                        trailers.insert("grpc-status", ::http::HeaderValue::from_static("0"));
                        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = vec![
                            Ok(Frame::data(grpc::codec::frame(
                                &grpc::codec::encode_response(status),
                            ))),
                            Ok(Frame::trailers(trailers)),
                        ];
                        let response = ::http::Response::builder()
                            .header("content-type", "application/grpc")
                            .body(StreamBody::new(futures::stream::iter(frames)))
                            .unwrap();
                        Ok::<_, hyper::Error>(response)
                    }
                });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn grpc_check_serving_and_not_serving() {
    let (serving, seen) = grpc_server(1).await;
    let (not_serving, _) = grpc_server(2).await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    let target = format!("127.0.0.1:{serving}/my.Svc");
    runners
        .start(
            &check(json!({"Name": "g1", "GRPC": target, "Interval": "1h"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(
        (update.status, update.output.clone()),
        ("passing", format!("gRPC check {target}: success"))
    );
    assert_eq!(*seen.lock().unwrap(), vec!["my.Svc".to_string()]);

    let target = format!("127.0.0.1:{not_serving}");
    runners
        .start(
            &check(json!({"Name": "g2", "GRPC": target, "Interval": "1h"})),
            CheckSource::Api,
        )
        .unwrap();
    let update = next(&mut rx).await;
    assert_eq!(update.status, "critical");
    assert_eq!(
        update.output,
        format!("gRPC {target} serving status: NOT_SERVING")
    );
}

#[tokio::test]
async fn thresholds_hold_back_a_single_failure() {
    static CODES: [u16; 3] = [200, 500, 200];
    let port = http_server("127.0.0.1:0", &CODES).await;
    let (runners, mut rx) = runners(RunnerOptions::default());
    let def = json!({
        "Name": "flaky", "HTTP": format!("http://127.0.0.1:{port}/"), "Interval": "20ms",
        "FailuresBeforeCritical": 2
    });
    runners.start(&check(def), CheckSource::Api).unwrap();
    // 200 → passing; 500 is the first failure and is held back; 200 → passing again.
    assert_eq!(next(&mut rx).await.status, "passing");
    assert_eq!(next(&mut rx).await.status, "passing");
    runners.stop_all();
}
