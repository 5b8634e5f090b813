#!/usr/bin/env bash
# Profile Legate's PUT path: start one release server (-data-dir, fsync on), drive PUTs with
# bench/kvload for SECONDS, and record the server with `perf record` (software cpu-clock
# sampling, DWARF call graphs; hardware counters are not available on this VM). Prints a flat
# profile by self time and by DSO/thread; the perf.data stays in OUT for `perf report`.
#
#   NOPROF=1: just the load (no perf); STRACE=1: syscall counts instead of perf.
#   CARGO_TARGET_DIR=... bench/profile_put.sh [CONNS=1] [SECONDS=5] [OUT=/tmp/legate-prof]
# Build first with debug info so perf can name frames:
#   CARGO_PROFILE_RELEASE_DEBUG=1 cargo build --release -p legate -p legate-kvload
set -euo pipefail
cd "$(dirname "$0")/.."
conns="${1:-1}"
secs="${2:-5}"
out="${3:-/tmp/legate-prof}"
target_dir="${CARGO_TARGET_DIR:-target}"
legate="$target_dir/release/legate"
kvload="$target_dir/release/kvload"
mkdir -p "$out"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
lpid=
cleanup() { [ -n "$lpid" ] && kill "$lpid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
lport=$(free_port)
"$legate" agent -server -bootstrap -node bench -bind 127.0.0.1 -client 127.0.0.1 \
    -data-dir "$work/legate" -http-port "$lport" -dns-port -1 -server-port "$(free_port)" \
    -serf-lan-port "$(free_port)" -serf-wan-port "$(free_port)" -log-level warn >"$work/legate.log" 2>&1 &
lpid=$!
for _ in $(seq 100); do curl -sf -X PUT "http://127.0.0.1:$lport/v1/kv/ready" -d x >/dev/null 2>&1 && break; sleep 0.1; done
# warm-up
"$kvload" -target legate -url "http://127.0.0.1:$lport" -op put -conns "$conns" -seconds 1 -pid "$lpid" >/dev/null
if [ "${NOPROF:-0}" = 1 ]; then
    "$kvload" -target legate -url "http://127.0.0.1:$lport" -op put -conns "$conns" -seconds "$secs" -pid "$lpid"
    exit 0
elif [ "${STRACE:-0}" = 1 ]; then
    timeout "$((secs))" strace -f ${STRACE_ARGS:--c} -p "$lpid" -o "$out/strace.txt" &
    spid=$!
else
    perf record -e cpu-clock -F 2000 --call-graph dwarf,16384 -p "$lpid" -o "$out/perf.data" -- sleep "$secs" 2>"$out/record.log" &
    spid=$!
fi
sleep 0.2
"$kvload" -target legate -url "http://127.0.0.1:$lport" -op put -conns "$conns" -seconds "$((secs-1))" -pid "$lpid" | tee "$out/kvload.json"
wait "$spid" || true
if [ "${STRACE:-0}" = 1 ]; then sed -n 1,40p "$out/strace.txt"; exit 0; fi
perf report -i "$out/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
perf report -i "$out/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
perf report -i "$out/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
