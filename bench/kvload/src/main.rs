//! `kvload`: a closed-loop KV load generator for comparing Legate with etcd on loopback.
//! Each of `-conns` workers keeps one request in flight over its own keep-alive connection for
//! `-seconds`; the report is throughput, p50/p99 latency, and the server's CPU time per
//! request (from /proc/<pid>/stat), one JSON line on stdout.
//!
//! Usage: kvload -target legate|etcd -url http://127.0.0.1:8500 -op put|get -conns N
//!        -seconds S -pid SERVER_PID [-value-size BYTES]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use anyhow::bail;
use base64::Engine;

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Legate,
    Etcd,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Put,
    Get,
}

struct Args {
    target: Target,
    url: String,
    op: Op,
    conns: usize,
    seconds: u64,
    pid: u32,
    value: Vec<u8>,
}

fn parse_args() -> anyhow::Result<Args> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut map = HashMap::new();
    let mut i = 0;
    while i + 1 < raw.len() {
        map.insert(
            raw[i].trim_start_matches('-').to_string(),
            raw[i + 1].clone(),
        );
        i += 2;
    }
    let get = |k: &str| map.get(k).cloned().with_context(|| format!("missing -{k}"));
    let target = match get("target")?.as_str() {
        "legate" => Target::Legate,
        "etcd" => Target::Etcd,
        other => bail!("unknown target {other}"),
    };
    let op = match get("op")?.as_str() {
        "put" => Op::Put,
        "get" => Op::Get,
        other => bail!("unknown op {other}"),
    };
    let size: usize = map.get("value-size").map_or(Ok(128), |s| s.parse())?;
    Ok(Args {
        target,
        op,
        url: get("url")?,
        conns: get("conns")?.parse()?,
        seconds: get("seconds")?.parse()?,
        pid: get("pid")?.parse()?,
        value: vec![b'x'; size],
    })
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_comm = stat.rsplit_once(')').context("bad stat")?.1;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn request(client: &reqwest::Client, args: &Args, key: &str) -> reqwest::RequestBuilder {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match (args.target, args.op) {
        (Target::Legate, Op::Put) => client
            .put(format!("{}/v1/kv/{key}", args.url))
            .body(args.value.clone()),
        (Target::Legate, Op::Get) => client.get(format!("{}/v1/kv/{key}", args.url)),
        (Target::Etcd, Op::Put) => client.post(format!("{}/v3/kv/put", args.url)).body(
            serde_json::json!({"key": b64(key.as_bytes()), "value": b64(&args.value)}).to_string(),
        ),
        // Linearizable reads on both sides: etcd's default range, Legate's default (leader) mode.
        (Target::Etcd, Op::Get) => client
            .post(format!("{}/v3/kv/range", args.url))
            .body(serde_json::json!({"key": b64(key.as_bytes())}).to_string()),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(parse_args()?);
    let keys = 1000;
    if args.op == Op::Get {
        let client = reqwest::Client::new();
        let put_args = Args {
            op: Op::Put,
            target: args.target,
            url: args.url.clone(),
            conns: 1,
            seconds: 0,
            pid: args.pid,
            value: args.value.clone(),
        };
        for k in 0..keys {
            let status = request(&client, &put_args, &format!("bench/{k}"))
                .send()
                .await?
                .status();
            anyhow::ensure!(status.is_success(), "seeding failed: {status}");
        }
    }
    let cpu_before = cpu_ticks(args.pid)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for w in 0..args.conns {
        let args = args.clone();
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let key = format!("bench/{}", (w as u64 * 7919 + n) % keys);
                let t = Instant::now();
                let response = request(&client, &args, &key).send().await?;
                let status = response.status();
                let _ = response.bytes().await?;
                anyhow::ensure!(status.is_success(), "request failed: {status}");
                latencies.push(t.elapsed());
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = started.elapsed();
    let cpu_after = cpu_ticks(args.pid)?;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ticks_per_sec = 100.0; // CLK_TCK on Linux x86_64
    let cpu_secs = (cpu_after - cpu_before) as f64 / ticks_per_sec;
    let report = serde_json::json!({
        "requests": latencies.len(),
        "seconds": elapsed.as_secs_f64(),
        "throughput": latencies.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": pct(0.50).as_secs_f64() * 1000.0,
        "p99_ms": pct(0.99).as_secs_f64() * 1000.0,
        "server_cpu_us_per_req": cpu_secs * 1e6 / latencies.len() as f64,
    });
    println!("{report}");
    Ok(())
}
