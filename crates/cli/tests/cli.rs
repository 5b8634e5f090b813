//! End-to-end checks of `legate_cli::run` that need no agent: version output, usage errors,
//! and the Go-client error texts for an HTTP error status and a refused connection.

use std::io::BufRead;
use std::io::BufReader;
use std::io::Write;
use std::net::TcpListener;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = legate_cli::run(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("utf8 stdout"),
        String::from_utf8(err).expect("utf8 stderr"),
    )
}

/// `version -format=json` prints Consul's 3-space-indented object that the SDK parses.
#[test]
fn version_json_is_parseable() {
    let (code, out, _) = run(&["version", "-format=json"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("{\n   \"Version\": \"1.21.0\",\n"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["RPC"]["Default"], 2);
}

/// `-format` with an unknown value fails like Consul.
#[test]
fn version_unknown_format() {
    let (code, _, err) = run(&["version", "-format=xml"]);
    assert_eq!(code, Some(1));
    assert_eq!(err, "Unknown format: xml\n");
}

/// An unknown flag prints Go's message and the usage on stderr, exit 1.
#[test]
fn unknown_flag_is_a_usage_error() {
    let (code, out, err) = run(&["kv", "get", "-bogus", "k"]);
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert!(
        err.starts_with("flag provided but not defined: -bogus\nUsage:\n"),
        "{err}"
    );
}

/// A non-2xx answer becomes `Unexpected response code: <status> (<body>)`, and the request
/// carries the token header and `?dc=` from the flags.
#[test]
fn http_error_status_maps_to_go_client_text() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("read") == 0 || line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let body = "oops";
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        head
    });
    let http_addr = format!("-http-addr={addr}");
    let (code, out, err) = run(&[
        "kv",
        "get",
        &http_addr,
        "-token=secret",
        "-datacenter=dc2",
        "/foo",
    ]);
    let head = server.join().expect("server");
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err,
        "Error querying Consul agent: Unexpected response code: 500 (oops)\n"
    );
    assert_eq!(head[0], "GET /v1/kv/foo?dc=dc2 HTTP/1.1");
    assert!(
        head.iter()
            .any(|h| h.eq_ignore_ascii_case("x-consul-token: secret")),
        "{head:?}"
    );
}

/// A refused connection reads like Go's `dial tcp …: connect: connection refused`.
#[test]
fn connection_refused_text() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let http_addr = format!("-http-addr=http://127.0.0.1:{port}");
    let (code, _, err) = run(&["members", &http_addr]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "Error retrieving members: Get \"http://127.0.0.1:{port}/v1/agent/members?segment=_all\": \
             dial tcp 127.0.0.1:{port}: connect: connection refused\n"
        )
    );
}
