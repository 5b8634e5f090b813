//! `kvload`: a closed-loop KV load generator for comparing Legate with etcd on loopback.
//! Each of `-conns` workers keeps one request in flight over its own keep-alive connection for
//! `-seconds`; the report is throughput, p50/p90/p99 latency, and the CPU time per request of
//! the server processes (summed over every `-pid`, from /proc/<pid>/stat), one JSON line on
//! stdout.
//!
//! Usage: kvload -target legate|etcd -url URL[,URL…] -op put|get -conns N -seconds S
//!        -pid PID[,PID…] [-value-size BYTES] [-clk-tck TICKS_PER_SECOND]
//! With several URLs, worker `w` sends to URL number `w % count`.
#![forbid(unsafe_code)]

mod args;
mod procstat;

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use args::Args;
use args::Op;
use args::Target;
use base64::Engine;

/// One request of the configured kind for `key`, sent to `url`.
fn request(client: &reqwest::Client, args: &Args, url: &str, key: &str) -> reqwest::RequestBuilder {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match (args.target, args.op) {
        (Target::Legate, Op::Put) => client
            .put(format!("{url}/v1/kv/{key}"))
            .body(args.value.clone()),
        (Target::Legate, Op::Get) => client.get(format!("{url}/v1/kv/{key}")),
        (Target::Etcd, Op::Put) => client.post(format!("{url}/v3/kv/put")).body(
            serde_json::json!({"key": b64(key.as_bytes()), "value": b64(&args.value)}).to_string(),
        ),
        // Linearizable reads on both sides: etcd's default range, Legate's default (leader) mode.
        (Target::Etcd, Op::Get) => client
            .post(format!("{url}/v3/kv/range"))
            .body(serde_json::json!({"key": b64(key.as_bytes())}).to_string()),
    }
}

/// The `p`-quantile (0..=1) of sorted latencies, zero when there are none.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// Writes `keys` keys through the first URL so that GETs find values.
async fn seed(args: &Args, keys: u64) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let put = Args {
        op: Op::Put,
        ..args.clone()
    };
    for k in 0..keys {
        let status = request(&client, &put, &args.urls[0], &format!("bench/{k}"))
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "seeding failed: {status}");
    }
    Ok(())
}

/// Worker `w`: one connection, one request in flight, until `deadline`; its latencies.
async fn worker(
    args: Arc<Args>,
    w: usize,
    keys: u64,
    deadline: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let url = &args.urls[w % args.urls.len()];
    let mut latencies = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let key = format!("bench/{}", (w as u64 * 7919 + n) % keys);
        let t = Instant::now();
        let response = request(&client, &args, url, &key).send().await?;
        let status = response.status();
        let _ = response.bytes().await?;
        anyhow::ensure!(status.is_success(), "request failed: {status}");
        latencies.push(t.elapsed());
        n += 1;
    }
    Ok(latencies)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = Arc::new(args::parse(&raw)?);
    let keys = 1000;
    if args.op == Op::Get {
        seed(&args, keys).await?;
    }
    let cpu_before = procstat::total_ticks(&args.pids)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let workers: Vec<_> = (0..args.conns)
        .map(|w| tokio::spawn(worker(args.clone(), w, keys, deadline)))
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = started.elapsed();
    let cpu_after = procstat::total_ticks(&args.pids)?;
    latencies.sort();
    let ms = |p: f64| percentile(&latencies, p).as_secs_f64() * 1000.0;
    let cpu_secs = cpu_after.saturating_sub(cpu_before) as f64 / args.clk_tck;
    let requests = latencies.len();
    let report = serde_json::json!({
        "requests": requests,
        "seconds": elapsed.as_secs_f64(),
        "throughput": requests as f64 / elapsed.as_secs_f64(),
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "server_cpu_seconds": cpu_secs,
        "server_processes": args.pids.len(),
        "server_cpu_us_per_req": cpu_secs * 1e6 / requests.max(1) as f64,
    });
    println!("{report}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn percentiles_of_sorted_latencies() {
        let l = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&l, 0.50), Duration::from_millis(51));
        assert_eq!(percentile(&l, 0.99), Duration::from_millis(100));
        assert_eq!(percentile(&l, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&ms(&[7]), 0.99), Duration::from_millis(7));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
