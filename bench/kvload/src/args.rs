//! Command-line flags of `kvload`: `-name value` pairs parsed into [`Args`]. `-url` and `-pid`
//! take comma-separated lists so one run can drive several members of a cluster and account
//! the CPU of every server process.

use std::collections::HashMap;

use anyhow::Context;
use anyhow::bail;

/// Which API the load speaks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target {
    /// Legate's Consul-compatible `/v1/kv`.
    Legate,
    /// etcd's `/v3` JSON gateway.
    Etcd,
}

/// What each request does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    /// Write one key.
    Put,
    /// Read one key with the default consistency.
    Get,
}

/// A parsed command line.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    /// API spoken.
    pub(crate) target: Target,
    /// Base URLs; worker `w` uses `urls[w % urls.len()]`. Never empty.
    pub(crate) urls: Vec<String>,
    /// Request kind.
    pub(crate) op: Op,
    /// Number of workers, each with one connection and one request in flight.
    pub(crate) conns: usize,
    /// Measured duration.
    pub(crate) seconds: u64,
    /// Server processes whose CPU time is summed over the run. Never empty.
    pub(crate) pids: Vec<u32>,
    /// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`).
    pub(crate) clk_tck: f64,
    /// The value written by PUTs (and by the seeding before GETs).
    pub(crate) value: Vec<u8>,
}

/// Parses `-flag value` pairs (leading dashes optional, order free).
pub(crate) fn parse(raw: &[String]) -> anyhow::Result<Args> {
    if !raw.len().is_multiple_of(2) {
        bail!("flags come in `-name value` pairs");
    }
    let map: HashMap<&str, &str> = raw
        .chunks(2)
        .map(|pair| (pair[0].trim_start_matches('-'), pair[1].as_str()))
        .collect();
    let get = |k: &str| map.get(k).copied().with_context(|| format!("missing -{k}"));
    let target = match get("target")? {
        "legate" => Target::Legate,
        "etcd" => Target::Etcd,
        other => bail!("unknown target {other}"),
    };
    let op = match get("op")? {
        "put" => Op::Put,
        "get" => Op::Get,
        other => bail!("unknown op {other}"),
    };
    let urls = list(get("url")?)
        .map(|u| u.trim_end_matches('/').to_string())
        .collect::<Vec<_>>();
    let pids = list(get("pid")?)
        .map(|p| p.parse().with_context(|| format!("bad pid {p:?}")))
        .collect::<anyhow::Result<Vec<u32>>>()?;
    if urls.is_empty() || pids.is_empty() {
        bail!("-url and -pid need at least one entry");
    }
    let conns: usize = get("conns")?.parse().context("bad -conns")?;
    if conns == 0 {
        bail!("-conns must be at least 1");
    }
    let size: usize = map
        .get("value-size")
        .map_or(Ok(128), |s| s.parse())
        .context("bad -value-size")?;
    let clk_tck: f64 = map
        .get("clk-tck")
        .map_or(Ok(100.0), |s| s.parse())
        .context("bad -clk-tck")?;
    Ok(Args {
        target,
        urls,
        op,
        conns,
        seconds: get("seconds")?.parse().context("bad -seconds")?,
        pids,
        clk_tck,
        value: vec![b'x'; size],
    })
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn single_url_and_pid_as_before() {
        let a = parse(&argv(
            "-target legate -url http://127.0.0.1:8500 -op put -conns 1 -seconds 5 -pid 42",
        ))
        .unwrap();
        assert_eq!(a.target, Target::Legate);
        assert_eq!(a.op, Op::Put);
        assert_eq!(a.urls, ["http://127.0.0.1:8500"]);
        assert_eq!(a.pids, [42]);
        assert_eq!(a.value.len(), 128);
        assert_eq!(a.clk_tck, 100.0);
    }

    #[test]
    fn lists_of_urls_and_pids() {
        let a = parse(&argv(
            "-target etcd -url http://a:1/,http://b:2 -op get -conns 64 -seconds 3 -pid 1,2,3 \
             -value-size 16 -clk-tck 250",
        ))
        .unwrap();
        assert_eq!(a.urls, ["http://a:1", "http://b:2"]);
        assert_eq!(a.pids, [1, 2, 3]);
        assert_eq!(a.value.len(), 16);
        assert_eq!(a.clk_tck, 250.0);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "-target x -url u -op put -conns 1 -seconds 1 -pid 1",
            "-target etcd -url u -op del -conns 1 -seconds 1 -pid 1",
            "-target etcd -url u -op put -conns 0 -seconds 1 -pid 1",
            "-target etcd -url u -op put -conns 1 -seconds 1 -pid 1,x",
            "-target etcd -url , -op put -conns 1 -seconds 1 -pid 1",
            "-target etcd -url u -op put -conns 1 -seconds 1",
            "-target etcd -url u -op put -conns 1 -seconds",
        ] {
            assert!(parse(&argv(bad)).is_err(), "{bad}");
        }
    }
}
