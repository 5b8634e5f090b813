#!/usr/bin/env bash
# Peering benchmark: two single-server datacenters on loopback (dc1 exports, dc2 imports).
# dc1 gets SERVICES services × INSTANCES instances (catalog register API) exported with `*`
# to dc2; then dc2 establishes and we measure the time until dc2 imports them all (and the
# instance counts match) and the CPU both servers spent (utime+stime); then p50/p99 of one
# TTL check flip at dc1 reaching dc2 (N flips, watched with blocking `?peer=` health queries).
# There is no peer implementation to compare against here: absolute figures only; they go to
# docs/benchmarks.md. Not a test.
#
#   bench/peering.sh [SERVICES=1000] [INSTANCES=10] [FLIPS=50]
#   LEGATE=/path/to/legate bench/peering.sh   # skip the release build, use this binary
set -euo pipefail
cd "$(dirname "$0")/.."
services="${1:-1000}"
instances="${2:-10}"
flips="${3:-50}"

if [ -z "${LEGATE:-}" ]; then
    cargo build --release --quiet -p legate
    LEGATE="${CARGO_TARGET_DIR:-target}/release/legate"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_dc NAME -> prints "http_port pid"
start_dc() {
    local name=$1 http
    http=$(free_port)
    "$LEGATE" agent -server -bootstrap -node "$name-s0" -datacenter "$name" -bind 127.0.0.1 \
        -client 127.0.0.1 -data-dir "$work/$name" -http-port "$http" -dns-port -1 \
        -server-port "$(free_port)" -serf-lan-port "$(free_port)" -serf-wan-port "$(free_port)" \
        -grpc-tls-port "$(free_port)" -hcl 'connect { enabled = true }' -log-level warn \
        >"$work/$name.log" 2>&1 &
    echo "$http $!"
}

read -r http1 pid1 < <(start_dc dc1)
pids+=("$pid1")
read -r http2 pid2 < <(start_dc dc2)
pids+=("$pid2")

python3 bench/peering_driver.py \
    --exporter "http://127.0.0.1:$http1" --exporter-pid "$pid1" \
    --importer "http://127.0.0.1:$http2" --importer-pid "$pid2" \
    --services "$services" --instances "$instances" --flips "$flips" \
    || { echo "--- dc1 log"; tail -30 "$work/dc1.log"; echo "--- dc2 log"; tail -30 "$work/dc2.log"; exit 1; }
