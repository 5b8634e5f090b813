//! Cluster peering end to end, as issue 4's "Done when" lists it: two datacenters with their
//! own CAs on loopback peer with a token, replicate exported services with their health, come
//! back after the acceptor restarts, terminate on delete, and keep working through a
//! follower and across a leader kill. Times are printed (`--nocapture`), never asserted.

use base64::Engine;

use crate::fleet::wait_for;
use crate::peering_fleet::Dc;
use crate::peering_fleet::peer;

/// dc1 and dc2 (one server each) peer and both read ACTIVE; `web` with a TTL check exported
/// by dc1 shows passing at dc2 through `?peer=dc1`, turns critical there when its TTL fails
/// at dc1, and disappears when unexported.
#[test]
fn establish_export_health_unexport() {
    let dc1 = Dc::start("dc1", 1);
    let dc2 = Dc::start("dc2", 1);
    let took = peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    println!("peering: establish to both ACTIVE took {took:?}");

    let web = r#"{"Name": "web", "Port": 80,
                  "Check": {"CheckID": "web-ttl", "TTL": "10m", "Status": "passing"}}"#;
    let (status, text) = dc1.call(0, "PUT", "/v1/agent/service/register", web);
    assert_eq!(status, 200, "{text}");
    dc1.export(0, "export", "web", "dc2");
    let took = dc2.wait_imported(0, "dc1", "web", Some("passing"));
    println!("peering: export of web visible at the importer after {took:?}");
    let link = dc2.get(0, "/v1/peering/dc1").map(|p| p["Link"].clone());
    println!("peering: the importer's link: {link:?}");
    let entries = dc2.imported(0, "dc1", "web").expect("imported web");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["Service"]["Service"], "web", "{entries:?}");
    assert_eq!(entries[0]["Service"]["PeerName"], "dc1", "{entries:?}");
    assert_eq!(
        dc2.imported(0, "", "web").as_deref(),
        Some(&[][..]),
        "imported instances never show without ?peer"
    );
    let imported = dc2
        .get(0, "/v1/imported-services")
        .expect("imported-services");
    assert!(
        imported.to_string().contains("\"web\""),
        "imported-services lists web: {imported}"
    );

    let (status, text) = dc1.call(0, "PUT", "/v1/agent/check/fail/web-ttl", "");
    assert_eq!(status, 200, "{text}");
    let took = dc2.wait_imported(0, "dc1", "web", Some("critical"));
    println!("peering: critical at the exporter reached the importer after {took:?}");

    dc1.export(0, "unexport", "web", "dc2");
    let took = dc2.wait_imported(0, "dc1", "web", None);
    println!("peering: unexport reached the importer after {took:?}");
    wait_for("web gone from imported-services", || {
        dc2.get(0, "/v1/imported-services")
            .is_some_and(|v| !v.to_string().contains("\"web\""))
    });
}

/// The dialer's peerings as comparable facts: (Name, ID, PeerID, State) sorted by name.
fn rows(dc: &Dc) -> Vec<(String, String, String, String)> {
    let list = dc.get(0, "/v1/peerings").expect("peerings");
    let mut rows: Vec<_> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            (s("Name"), s("ID"), s("PeerID"), s("State"))
        })
        .collect();
    rows.sort();
    rows
}

/// POST /v1/peering/establish on dc's server 0.
fn establish_http(dc: &Dc, name: &str, token: &str) -> (u16, String) {
    let body = serde_json::json!({"PeerName": name, "PeeringToken": token}).to_string();
    dc.call(0, "POST", "/v1/peering/establish", &body)
}

/// An uppercase name, a token of this very cluster, garbage and a truncated token are 400
/// with a message saying what is wrong, a used token is 403; none of them writes a row, and
/// a token that failed for another reason is still good afterwards.
#[test]
fn failed_establish_writes_nothing() {
    let dc1 = Dc::start("dc1", 1);
    let dc2 = Dc::start("dc2", 1);
    // The same-cluster token first: generating it writes dc2's own acceptor row "loop".
    let own = dc2.token(0, "loop");
    let token = dc1.token(0, "dc2");
    let before = rows(&dc2);

    let (status, text) = establish_http(&dc2, "DC1", &token);
    assert_eq!(status, 400, "uppercase name: {text}");
    assert!(text.contains("DC1"), "{text}");

    let (status, text) = establish_http(&dc2, "self", &own);
    assert_eq!(status, 400, "own token: {text}");
    assert!(text.contains("same cluster"), "{text}");

    let (status, text) = establish_http(&dc2, "junk", "this is not a token!");
    assert_eq!(status, 400, "garbage: {text}");
    assert!(text.contains("token"), "{text}");

    let truncated = &token[..token.len() / 2];
    let (status, text) = establish_http(&dc2, "cut", truncated);
    assert_eq!(status, 400, "truncated: {text}");
    assert!(text.contains("token"), "{text}");

    // Valid base64 of JSON that is no token.
    let not_token = base64::engine::general_purpose::STANDARD.encode(r#"{"Hello": 1}"#);
    let (status, text) = establish_http(&dc2, "odd", &not_token);
    assert_eq!(status, 400, "JSON that is no token: {text}");
    assert!(text.contains("token"), "{text}");
    assert_eq!(rows(&dc2), before, "no row written or changed");

    // The token is still good: the failures consumed nothing. Once used, it is refused.
    let (code, out, err) = dc2.establish(0, "dc1", &token);
    assert_eq!(code, 0, "the token still works: {out}{err}");
    dc2.wait_state(0, "dc1", "ACTIVE");
    let names = |r: Vec<(String, String, String, String)>| -> Vec<(String, String, String)> {
        r.into_iter().map(|(n, i, p, _)| (n, i, p)).collect()
    };
    let before = names(rows(&dc2));
    let (status, text) = establish_http(&dc2, "again", &token);
    assert_eq!(status, 403, "used token: {text}");
    assert!(
        text.contains("a new peering token must be generated"),
        "{text}"
    );
    assert_eq!(names(rows(&dc2)), before, "no row written or changed");
    assert_eq!(dc2.state(0, "dc1").as_deref(), Some("ACTIVE"));
}

/// Export `service` from `from` to `peer_name` after registering it on an external node.
fn export_new(dc: &Dc, i: usize, service: &str, peer_name: &str) {
    dc.register_external(i, &format!("{service}-node"), service);
    dc.export(i, "export", service, peer_name);
}

/// Wait until `dc` server `i` imports exactly `names` from `peer_name`.
fn wait_imports(dc: &Dc, i: usize, peer_name: &str, names: &[&str]) {
    let want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    wait_for(
        &format!("{} imports exactly {want:?} from {peer_name}", dc.name),
        || dc.imported_names(i, peer_name).as_ref() == Some(&want),
    );
}

/// Kill -9 the acceptor's server: the dialer reads FAILING while it is down; exports changed
/// on both sides meanwhile (and right after the restart) converge once the dialer reconnects,
/// with nothing stale left, and both read ACTIVE again.
#[test]
fn acceptor_restart_reconnects_and_resyncs() {
    let mut dc1 = Dc::start("dc1", 1);
    let dc2 = Dc::start("dc2", 1);
    peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    export_new(&dc1, 0, "old", "dc2");
    export_new(&dc1, 0, "kept", "dc2");
    export_new(&dc2, 0, "legacy", "dc1");
    export_new(&dc2, 0, "api", "dc1");
    wait_imports(&dc2, 0, "dc1", &["kept", "old"]);
    wait_imports(&dc1, 0, "dc2", &["api", "legacy"]);

    dc1.kill(0);
    let took = dc2.wait_state(0, "dc1", "FAILING");
    println!("peering: dialer read FAILING {took:?} after the acceptor died");
    dc2.export(0, "unexport", "legacy", "dc1");
    export_new(&dc2, 0, "api2", "dc1");

    dc1.restart(0);
    dc1.leader();
    export_new(&dc1, 0, "new", "dc2");
    dc1.export(0, "unexport", "old", "dc2");

    let took = dc2.wait_state(0, "dc1", "ACTIVE");
    println!("peering: dialer read ACTIVE {took:?} after the acceptor came back");
    dc1.wait_state(0, "dc2", "ACTIVE");
    wait_imports(&dc2, 0, "dc1", &["kept", "new"]);
    wait_imports(&dc1, 0, "dc2", &["api", "api2"]);
    assert_eq!(dc2.imported_status(0, "dc1", "old"), None, "nothing stale");
    assert_eq!(
        dc1.imported_status(0, "dc2", "legacy"),
        None,
        "nothing stale"
    );
}

/// Wait until `dc` has no row for `peer_name` (404).
fn wait_row_gone(dc: &Dc, i: usize, peer_name: &str) {
    wait_for(&format!("{peer_name} row gone at {}", dc.name), || {
        dc.call(i, "GET", &format!("/v1/peering/{peer_name}"), "").0 == 404
    });
}

/// Delete at the dialer: its imports are gone, the acceptor reads TERMINATED (and drops its
/// imports); the acceptor's operator deletes the terminated row and peers again with a fresh
/// token. Then delete at the acceptor: the dialer reads TERMINATED with its imports gone, and
/// re-establishes its terminated peering with a fresh token.
#[test]
fn delete_on_either_side_terminates_the_other() {
    let dc1 = Dc::start("dc1", 1);
    let dc2 = Dc::start("dc2", 1);
    peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    export_new(&dc1, 0, "web", "dc2");
    export_new(&dc2, 0, "api", "dc1");
    wait_imports(&dc2, 0, "dc1", &["web"]);
    wait_imports(&dc1, 0, "dc2", &["api"]);

    // Delete at the dialer.
    let (code, out, err) = dc2.cli(0, &["peering", "delete", "-name", "dc1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_row_gone(&dc2, 0, "dc1");
    assert_eq!(dc2.imported(0, "dc1", "web").as_deref(), Some(&[][..]));
    dc1.wait_state(0, "dc2", "TERMINATED");
    wait_imports(&dc1, 0, "dc2", &[]);
    let (code, out, err) = dc1.cli(0, &["peering", "delete", "-name", "dc2"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_row_gone(&dc1, 0, "dc2");
    peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    wait_imports(&dc2, 0, "dc1", &["web"]);
    wait_imports(&dc1, 0, "dc2", &["api"]);

    // Delete at the acceptor.
    let (code, out, err) = dc1.cli(0, &["peering", "delete", "-name", "dc2"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_row_gone(&dc1, 0, "dc2");
    assert_eq!(dc1.imported(0, "dc2", "api").as_deref(), Some(&[][..]));
    dc2.wait_state(0, "dc1", "TERMINATED");
    wait_imports(&dc2, 0, "dc1", &[]);
    let took = peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    println!("peering: re-established a TERMINATED peering in {took:?}");
    wait_imports(&dc2, 0, "dc1", &["web"]);
    wait_imports(&dc1, 0, "dc2", &["api"]);
}

/// dc1 has three servers. Every peering command sent to a follower works (generate-token,
/// read, list, export, establish, delete); after the leader is killed the stream moves to
/// the new leader: both sides read ACTIVE again and a later export still arrives.
#[test]
fn three_servers_follower_commands_and_leader_kill() {
    let mut dc1 = Dc::start("dc1", 3);
    let dc2 = Dc::start("dc2", 1);
    let f = dc1.follower();

    let took = peer(&dc1, f, "dc2", &dc2, 0, "dc1");
    println!("peering: 3-server acceptor, token from a follower, ACTIVE after {took:?}");
    let (code, out, err) = dc1.cli(f, &["peering", "read", "-name", "dc2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("State:        ACTIVE"), "{out}");
    let (code, out, err) = dc1.cli(f, &["peering", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("dc2") && l.contains("ACTIVE")),
        "{out}"
    );
    dc1.register_external(f, "web-node", "web");
    dc1.export(f, "export", "web", "dc2");
    wait_imports(&dc2, 0, "dc1", &["web"]);

    // The 3-server cluster as dialer, establishing through a follower.
    let token = dc2.token(0, "dc1-back");
    let (code, out, err) = dc1.establish(f, "dc2-back", &token);
    assert_eq!(code, 0, "establish through a follower: {out}{err}");
    dc1.wait_state(f, "dc2-back", "ACTIVE");
    dc2.wait_state(0, "dc1-back", "ACTIVE");

    let leader = dc1.leader();
    dc1.kill(leader);
    let new_leader = dc1.leader();
    println!("peering: dc1 leader s{leader} killed, s{new_leader} leads");
    let took = dc1.wait_state(new_leader, "dc2", "ACTIVE");
    println!("peering: acceptor-side stream ACTIVE at the new leader after {took:?}");
    dc1.wait_state(new_leader, "dc2-back", "ACTIVE");
    dc2.wait_state(0, "dc1", "ACTIVE");
    dc2.wait_state(0, "dc1-back", "ACTIVE");
    export_new(&dc1, new_leader, "api", "dc2");
    wait_imports(&dc2, 0, "dc1", &["api", "web"]);

    let live = dc1.follower();
    for name in ["dc2", "dc2-back"] {
        let (code, out, err) = dc1.cli(live, &["peering", "delete", "-name", name]);
        assert_eq!(code, 0, "delete through a follower: {out}{err}");
        wait_row_gone(&dc1, live, name);
    }
    dc2.wait_state(0, "dc1", "TERMINATED");
    dc2.wait_state(0, "dc1-back", "TERMINATED");
}

/// A large initial sync (1,000 exported services × 2 instances) must leave the stream live:
/// a TTL check failing at the exporter afterwards still reaches the importer. (Found by
/// bench/peering.sh: both sides blocked sending — resources one way, ACKs the other — and
/// the link stalled until the heartbeat timeout.)
#[test]
fn large_initial_sync_keeps_the_stream_live() {
    let dc1 = Dc::start("dc1", 1);
    let dc2 = Dc::start("dc2", 1);
    let url = dc1.members[0].url("/v1/catalog/register");
    std::thread::scope(|s| {
        for t in 0..8 {
            let url = &url;
            s.spawn(move || {
                let c = crate::fleet::client();
                for k in (t..2000).step_by(8) {
                    let body = serde_json::json!({
                        "Node": format!("node-{}", k % 50),
                        "Address": "10.0.0.1",
                        "Service": {"ID": format!("svc-{}-{}", k / 2, k % 2),
                                    "Service": format!("svc-{}", k / 2), "Port": 80},
                    });
                    let r = c.put(url).body(body.to_string()).send().expect("register");
                    assert_eq!(r.status(), 200);
                }
            });
        }
    });
    let probe = r#"{"Name": "probe", "Check": {"CheckID": "probe-ttl", "TTL": "10m",
                    "Status": "passing"}}"#;
    let (status, text) = dc1.call(0, "PUT", "/v1/agent/service/register", probe);
    assert_eq!(status, 200, "{text}");
    dc1.export(0, "export", "*", "dc2");
    let took = peer(&dc1, 0, "dc2", &dc2, 0, "dc1");
    println!("peering: 1,000 exported services, ACTIVE after {took:?}");
    wait_for("1,000 services imported", || {
        dc2.imported_names(0, "dc1")
            .is_some_and(|n| n.len() == 1001)
    });
    dc2.wait_imported(0, "dc1", "probe", Some("passing"));
    let (status, text) = dc1.call(0, "PUT", "/v1/agent/check/fail/probe-ttl", "");
    assert_eq!(status, 200, "{text}");
    let took = dc2.wait_imported(0, "dc1", "probe", Some("critical"));
    println!("peering: a health change after the large sync arrived in {took:?}");
}
