#!/usr/bin/env bash
# 3-server benchmark: a Legate datacenter (3 servers, -bootstrap-expect 3, fsync on) vs a
# 3-member etcd cluster (Debian etcd-server, static --initial-cluster, its own fsync'd WALs) on
# loopback, in the same run, alternating (the order flips every round), over HTTP/JSON on both
# sides (Legate /v1/kv, etcd's /v3 JSON gateway). Cases: PUT c=1 and c=64 to the leader, PUT
# c=64 to a follower (both forward to their leader), GET default consistency c=64 on a
# follower. CPU per request is the utime+stime of all 3 server processes of the system under
# test over the case, divided by the requests completed. Prints medians and Legate/etcd
# ratios. Not a test: no pass/fail, figures go to docs/benchmarks.md.
#
#   bench/cluster.sh [ROUNDS=3] [SECONDS=5]
#   KEEP=1 keeps the work dir (logs, results.jsonl) and prints its path.
#   LEGATE=/path/to/legate uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
secs="${2:-5}"

if ! command -v etcd >/dev/null 2>&1; then
    echo "==> installing etcd-server from Debian"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi

target_dir="${CARGO_TARGET_DIR:-target}"
if [ -n "${LEGATE:-}" ]; then
    cargo build --release --quiet -p legate-kvload
    legate="$LEGATE"
else
    cargo build --release --quiet -p legate -p legate-kvload
    legate="$target_dir/release/legate"
fi
kvload="$target_dir/release/kvload"
clk_tck=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "legate: $("$legate" version | grep -m1 '^Legate'); $(etcd --version | head -n 1)"
echo "load before: $(uptime)"

# --- Legate: 3 servers, each retry-joining the other two LAN ports -----------------------------
lhttp=(); lrpc=(); llan=(); lpids=()
for i in 0 1 2; do lhttp+=("$(free_port)"); lrpc+=("$(free_port)"); llan+=("$(free_port)"); done
for i in 0 1 2; do
    joins=()
    for j in 0 1 2; do [ "$j" != "$i" ] && joins+=(-retry-join "127.0.0.1:${llan[$j]}"); done
    "$legate" agent -server -bootstrap-expect 3 -node "s$i" -bind 127.0.0.1 -client 127.0.0.1 \
        -data-dir "$work/legate-s$i" -http-port "${lhttp[$i]}" -dns-port -1 \
        -server-port "${lrpc[$i]}" -serf-lan-port "${llan[$i]}" -serf-wan-port "$(free_port)" \
        -hcl 'performance { raft_multiplier = 1 }' "${joins[@]}" -log-level warn \
        >"$work/legate-s$i.log" 2>&1 &
    lpids+=("$!"); pids+=("$!")
done

# --- etcd: 3 members, static bootstrap ------------------------------------------------------------
eclient=(); epeer=(); epids=(); initial=""
for i in 0 1 2; do
    eclient+=("$(free_port)"); epeer+=("$(free_port)")
    initial+="${initial:+,}e$i=http://127.0.0.1:${epeer[$i]}"
done
for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$work/etcd-e$i" \
        --listen-client-urls "http://127.0.0.1:${eclient[$i]}" --advertise-client-urls "http://127.0.0.1:${eclient[$i]}" \
        --listen-peer-urls "http://127.0.0.1:${epeer[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${epeer[$i]}" \
        --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token legate-bench \
        --log-level error >"$work/etcd-e$i.log" 2>&1 &
    epids+=("$!"); pids+=("$!")
done

# --- readiness ----------------------------------------------------------------------------------
legate_ready() {
    for i in 0 1 2; do
        local leader peers
        leader=$(curl -sf "http://127.0.0.1:${lhttp[$i]}/v1/status/leader") || return 1
        [ "$leader" != '""' ] || return 1
        peers=$(curl -sf "http://127.0.0.1:${lhttp[$i]}/v1/status/peers") || return 1
        [ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$peers")" = 3 ] || return 1
    done
    curl -sf -X PUT "http://127.0.0.1:${lhttp[0]}/v1/kv/ready" -d x >/dev/null
}
etcd_ready() {
    for i in 0 1 2; do
        curl -sf "http://127.0.0.1:${eclient[$i]}/health" | grep -q '"health":"true"' || return 1
    done
    curl -sf -X POST "http://127.0.0.1:${eclient[0]}/v3/kv/put" -d '{"key":"cmVhZHk=","value":"eA=="}' >/dev/null
}
ready=""
for _ in $(seq 300); do
    if legate_ready 2>/dev/null && etcd_ready 2>/dev/null; then ready=1; break; fi
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "clusters did not become ready; logs:" >&2
    tail -n 20 "$work"/*.log >&2
    exit 1
fi

# Index (0-2) of the current leader of each system.
legate_leader() {
    local addr
    addr=$(curl -sf "http://127.0.0.1:${lhttp[0]}/v1/status/leader" | tr -d '"')
    for i in 0 1 2; do [ "$addr" = "127.0.0.1:${lrpc[$i]}" ] && { echo "$i"; return; }; done
    return 1
}
etcd_leader() {
    for i in 0 1 2; do
        curl -sf -X POST "http://127.0.0.1:${eclient[$i]}/v3/maintenance/status" -d '{}' \
            | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s["leader"]==s["header"]["member_id"] else 1)' \
            && { echo "$i"; return; }
    done
    return 1
}

# Background CPU of each system with no load (heartbeats, gossip, timers), for context: the
# per-request CPU figures below include it.
ticks() { # pid… → summed utime+stime
    local sum=0 p f
    for p in "$@"; do
        read -ra f < <(sed 's/.*) //' "/proc/$p/stat")
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}
l0=$(ticks "${lpids[@]}"); e0=$(ticks "${epids[@]}")
sleep 3
l1=$(ticks "${lpids[@]}"); e1=$(ticks "${epids[@]}")
idle_legate=$(python3 -c "print(round(($l1-$l0)/$clk_tck/3*1000, 1))")
idle_etcd=$(python3 -c "print(round(($e1-$e0)/$clk_tck/3*1000, 1))")
echo "idle CPU (3 processes, ms per second): legate $idle_legate, etcd $idle_etcd"

results="$work/results.jsonl"
run_case() { # target case op conns role round
    local target=$1 case=$2 op=$3 conns=$4 role=$5 round=$6 leader node url pidlist line
    leader=""
    for _ in $(seq 100); do
        leader=$("${target}_leader" 2>/dev/null) && break
        sleep 0.1
    done
    [ -n "$leader" ] || { echo "  round $round $case $target: no leader (sample dropped)" >&2; return 0; }
    if [ "$role" = leader ]; then node=$leader; else node=$(((leader + 1) % 3)); fi
    if [ "$target" = legate ]; then
        url="http://127.0.0.1:${lhttp[$node]}"; pidlist=$(IFS=,; echo "${lpids[*]}")
    else
        url="http://127.0.0.1:${eclient[$node]}"; pidlist=$(IFS=,; echo "${epids[*]}")
    fi
    if line=$("$kvload" -target "$target" -url "$url" -op "$op" -conns "$conns" -seconds "$secs" \
        -pid "$pidlist" -clk-tck "$clk_tck" 2>"$work/kvload.err"); then
        echo "{\"round\":$round,\"target\":\"$target\",\"case\":\"$case\",\"node\":$node,\"leader\":$leader,\"r\":$line}" >>"$results"
        printf '  round %s %-16s %-7s node %s (leader %s): %s\n' "$round" "$case" "$target" "$node" "$leader" "$line"
    else
        echo "  round $round $case $target: kvload failed (sample dropped): $(tail -n 1 "$work/kvload.err")" >&2
    fi
}

cases=("put c=1 leader|put|1|leader" "put c=64 leader|put|64|leader" "put c=64 follower|put|64|follower" "get c=64 follower|get|64|follower")
for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order=(legate etcd); else order=(etcd legate); fi
    for c in "${cases[@]}"; do
        IFS='|' read -r name op conns role <<<"$c"
        for target in "${order[@]}"; do run_case "$target" "$name" "$op" "$conns" "$role" "$round"; done
    done
done

echo "load after: $(uptime)"

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = list(dict.fromkeys(r["case"] for r in rows))
def med(t, c, f):
    v = [r["r"][f] for r in rows if r["target"] == t and r["case"] == c]
    return statistics.median(v) if v else float("nan")
def n(t, c):
    return sum(1 for r in rows if r["target"] == t and r["case"] == c)
print()
print("medians over rounds; CPU = utime+stime of all 3 server processes / requests completed")
print(f"{'case':<20}{'target':<8}{'n':>3}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}")
for c in cases:
    for t in ("legate", "etcd"):
        print(f"{c:<20}{t:<8}{n(t,c):>3}{med(t,c,'throughput'):>10.0f}{med(t,c,'p50_ms'):>9.2f}{med(t,c,'p99_ms'):>9.2f}{med(t,c,'server_cpu_us_per_req'):>12.1f}")
    r = lambda f: med("legate", c, f) / med("etcd", c, f)
    print(f"{'':<20}{'ratio':<8}{'':>3}{r('throughput'):>10.2f}{r('p50_ms'):>9.2f}{r('p99_ms'):>9.2f}{r('server_cpu_us_per_req'):>12.2f}")
print()
print("ratio = legate/etcd: req/s higher is better for Legate (>1 = Legate faster);")
print("p50, p99 and CPU/req lower is better for Legate (<1 = Legate cheaper/faster).")
PY
