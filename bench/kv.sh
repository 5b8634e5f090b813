#!/usr/bin/env bash
# KV benchmark: Legate (single server, -data-dir, fsync on) vs etcd (Debian etcd-server, one
# member, its own fsync'd WAL) on loopback, in the same run, alternating, over HTTP/JSON on
# both sides (Legate /v1/kv, etcd's /v3 JSON gateway). Prints medians per case and the
# Legate/etcd ratios. Not a test: no pass/fail, figures go to docs/benchmarks.md.
#
#   bench/kv.sh [ROUNDS=3] [SECONDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
secs="${2:-5}"

if ! command -v etcd >/dev/null 2>&1; then
    echo "==> installing etcd-server from Debian"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi

cargo build --release --quiet -p legate -p legate-kvload
target_dir="${CARGO_TARGET_DIR:-target}"
legate="$target_dir/release/legate"
kvload="$target_dir/release/kvload"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

lport=$(free_port)
"$legate" agent -server -bootstrap -node bench -bind 127.0.0.1 -client 127.0.0.1 \
    -data-dir "$work/legate" -http-port "$lport" -dns-port -1 -server-port "$(free_port)" \
    -serf-lan-port "$(free_port)" -serf-wan-port "$(free_port)" -log-level warn >"$work/legate.log" 2>&1 &
lpid=$!; pids+=("$lpid")
eport=$(free_port); epeer=$(free_port)
etcd --name bench --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
    --listen-peer-urls "http://127.0.0.1:$epeer" --initial-advertise-peer-urls "http://127.0.0.1:$epeer" \
    --initial-cluster "bench=http://127.0.0.1:$epeer" --log-level error >"$work/etcd.log" 2>&1 &
epid=$!; pids+=("$epid")

for _ in $(seq 100); do
    curl -sf -X PUT "http://127.0.0.1:$lport/v1/kv/ready" -d x >/dev/null 2>&1 \
        && curl -sf -X POST "http://127.0.0.1:$eport/v3/kv/put" -d '{"key":"cmVhZHk=","value":"eA=="}' >/dev/null 2>&1 \
        && break
    sleep 0.1
done

results="$work/results.jsonl"
for round in $(seq "$rounds"); do
    for op in put get; do
        for conns in 1 128; do
            for target in legate etcd; do
                if [ "$target" = legate ]; then url="http://127.0.0.1:$lport"; pid=$lpid; else url="http://127.0.0.1:$eport"; pid=$epid; fi
                line=$("$kvload" -target "$target" -url "$url" -op "$op" -conns "$conns" -seconds "$secs" -pid "$pid")
                echo "{\"round\":$round,\"target\":\"$target\",\"op\":\"$op\",\"conns\":$conns,\"r\":$line}" >>"$results"
            done
        done
    done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(target, op, conns, field):
    return statistics.median(r["r"][field] for r in rows if r["target"] == target and r["op"] == op and r["conns"] == conns)
print(f"{'case':<14}{'target':<8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}")
for op in ("put", "get"):
    for conns in (1, 128):
        for t in ("legate", "etcd"):
            print(f"{op+' c='+str(conns):<14}{t:<8}{med(t,op,conns,'throughput'):>10.0f}{med(t,op,conns,'p50_ms'):>9.2f}{med(t,op,conns,'p99_ms'):>9.2f}{med(t,op,conns,'server_cpu_us_per_req'):>12.1f}")
        ratio = lambda f: med("legate", op, conns, f) / med("etcd", op, conns, f)
        print(f"{'':<14}{'ratio':<8}{ratio('throughput'):>10.2f}{ratio('p50_ms'):>9.2f}{ratio('p99_ms'):>9.2f}{ratio('server_cpu_us_per_req'):>12.2f}   (legate/etcd)")
PY
