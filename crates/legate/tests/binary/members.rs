//! `legate members` against a running three-server datacenter, flag by flag as Consul 1.21
//! prints them: the standard table, `-detailed` tags, `-status` filtering (including a
//! SIGKILLed server shown as `failed`), `-wan` and `-segment`.

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::wait_for;
use crate::process::cli_with_stdin;

fn members(m: &Member, flags: &[&str]) -> (i32, String, String) {
    let mut args = vec!["members"];
    args.extend_from_slice(flags);
    cli_with_stdin(&format!("127.0.0.1:{}", m.http_port), &args, None)
}

/// Node names in a members table, in order.
fn names(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn members_flags_on_a_three_server_datacenter() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &[]);
    for m in fleet.iter_mut() {
        m.start();
    }
    let c = client();
    wait_for("a leader and three members", || {
        leader_of(&c, &fleet[0]).is_some() && names(&members(&fleet[0], &[]).1).len() == 3
    });

    let (code, out, err) = members(&fleet[0], &[]);
    assert_eq!(code, 0, "{err}");
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "Node",
            "Address",
            "Status",
            "Type",
            "Build",
            "Protocol",
            "DC",
            "Partition",
            "Segment"
        ]
    );
    assert_eq!(names(&out), ["s0", "s1", "s2"]);
    for (i, line) in out.lines().skip(1).enumerate() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols[1],
            format!("127.0.0.1:{}", fleet[i].lan_port),
            "{line}"
        );
        assert_eq!(&cols[2..4], ["alive", "server"], "{line}");
        assert_eq!(&cols[6..], ["dc1", "default", "<all>"], "{line}");
    }

    let (code, out, _) = members(&fleet[1], &["-detailed"]);
    assert_eq!(code, 0);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["Node", "Address", "Status", "Tags"]);
    let s1 = out.lines().find(|l| l.starts_with("s1 ")).unwrap();
    let tags = s1.split_whitespace().nth(3).unwrap();
    let pairs: Vec<&str> = tags.split(',').collect();
    for want in ["dc=dc1", "role=consul", "segment=<all>", "ap=default"] {
        assert!(pairs.contains(&want), "{want} in {tags}");
    }
    let mut sorted = pairs.clone();
    sorted.sort_unstable();
    assert_eq!(pairs, sorted, "tags sorted by key");

    let (code, _, err) = members(&fleet[0], &["-status", "(failed"]);
    assert_eq!(code, 1);
    assert!(err.contains("Failed to compile status regexp"), "{err}");
    assert_eq!(
        members(&fleet[0], &["-status=left"]).0,
        2,
        "no member matches"
    );

    let (code, out, _) = members(&fleet[0], &["-wan"]);
    assert_eq!(code, 0);
    assert_eq!(names(&out), ["s0.dc1"]);
    let (code, _, err) = members(&fleet[0], &["-segment", "alpha"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Network segments are not supported in this version of Consul"),
        "{err}"
    );
    let (code, _, err) = members(&fleet[0], &["-wan", "-segment", "alpha"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Cannot provide a segment with wan=true"),
        "{err}"
    );

    fleet[2].kill();
    wait_for("s2 failed", || {
        let (code, out, _) = members(&fleet[0], &["-status=failed"]);
        code == 0 && names(&out) == ["s2"]
    });
    let (code, out, _) = members(&fleet[0], &["-status=failed"]);
    assert_eq!(code, 0);
    assert!(out.lines().nth(1).unwrap().contains(" failed "), "{out}");
    let (code, out, _) = members(&fleet[1], &["-status", "^alive$"]);
    assert_eq!(code, 0);
    assert_eq!(names(&out), ["s0", "s1"]);
}
