#!/usr/bin/env python3
"""Driver of bench/peering.sh: load the exporter, peer, time convergence and health changes.

Talks only to the public HTTP API (Consul's paths) of two running single-server datacenters.
Prints one human-readable report and, last, one JSON line with every figure.
"""

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

PATIENCE = 600.0  # seconds: longest any phase may take
FLIP_PATIENCE = 60.0  # seconds: longest one health change may take to arrive


class Api:
    """Keep-alive HTTP/JSON client of one agent (one connection per thread)."""

    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.local.conn = c
        return c

    def call(self, method, path, body=None):
        """(status, parsed JSON or text, headers); reconnects once on a dropped connection."""
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=data)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                c.close()
                self.local.conn = None
                if attempt:
                    raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return r.status, parsed, r.headers

    def ok(self, method, path, body=None):
        status, parsed, headers = self.call(method, path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {parsed}")
        return parsed, headers


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    return ticks / 100.0


def wait_until(what, fn, interval=0.01):
    deadline = time.monotonic() + PATIENCE
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)


def try_token(api, peer):
    try:
        status, parsed, _ = api.call("POST", "/v1/peering/token", {"PeerName": peer})
    except OSError:
        return None
    return parsed["PeeringToken"] if status == 200 else None


def register_all(api, services, instances):
    """Register services × instances on 100 external nodes, each with one passing check."""
    nodes = 100

    def one(k):
        i, j = divmod(k, instances)
        sid = f"svc-{i:04}-{j}"
        api.ok("PUT", "/v1/catalog/register", {
            "Node": f"node-{k % nodes:03}",
            "Address": f"10.1.{k % nodes // 250}.{k % nodes % 250 + 1}",
            "Service": {"ID": sid, "Service": f"svc-{i:04}", "Port": 8000 + j,
                        "Tags": ["bench"], "Meta": {"replica": str(j)}},
            "Check": {"CheckID": f"{sid}-check", "Name": "alive", "ServiceID": sid,
                      "Status": "passing"},
        })

    total = services * instances
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(one, range(total)))
    return time.monotonic() - start


def imported_count(api, peer, services):
    status, parsed, _ = api.call("GET", f"/v1/catalog/services?peer={peer}")
    if status != 200 or not isinstance(parsed, dict):
        return 0
    return sum(1 for name in parsed if name.startswith("svc-"))


def instance_counts(api, peer, services):
    """Number of imported instances of every service (1 request per service)."""
    def count(i):
        _, parsed, _ = api.call("GET", f"/v1/health/service/svc-{i:04}?peer={peer}")
        return len(parsed) if isinstance(parsed, list) else 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(count, range(services)))


def status_of(entries):
    worst = "passing"
    for e in entries or []:
        for c in e.get("Checks") or []:
            if c.get("Status") == "critical":
                return "critical"
            if c.get("Status") == "warning":
                worst = "warning"
    return worst if entries else None


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100.0 * len(s) + 0.5) - 1))]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--exporter", required=True)
    a.add_argument("--exporter-pid", type=int, required=True)
    a.add_argument("--importer", required=True)
    a.add_argument("--importer-pid", type=int, required=True)
    a.add_argument("--services", type=int, default=1000)
    a.add_argument("--instances", type=int, default=10)
    a.add_argument("--flips", type=int, default=50)
    args = a.parse_args()
    dc1, dc2 = Api(args.exporter), Api(args.importer)
    out = {"services": args.services, "instances": args.instances}

    # Both clusters up with a CA (a token can be minted); the token is regenerated below.
    wait_until("dc1 ready", lambda: try_token(dc1, "dc2"))
    wait_until("dc2 ready", lambda: try_token(dc2, "probe-readiness"))
    dc2.ok("DELETE", "/v1/peering/probe-readiness")

    took = register_all(dc1, args.services, args.instances)
    out["register_s"] = round(took, 2)
    print(f"registered {args.services} × {args.instances} instances at the exporter in {took:.1f} s")
    dc1.ok("PUT", "/v1/agent/service/register", {
        "Name": "probe", "Port": 1,
        "Check": {"CheckID": "probe-ttl", "TTL": "24h", "Status": "passing"}})
    dc1.ok("PUT", "/v1/config", {
        "Kind": "exported-services", "Name": "default",
        "Services": [{"Name": "*", "Consumers": [{"Peer": "dc2"}]}]})

    token = try_token(dc1, "dc2")
    cpu0 = cpu_seconds(args.exporter_pid) + cpu_seconds(args.importer_pid)
    t0 = time.monotonic()
    dc2.ok("POST", "/v1/peering/establish", {"PeerName": "dc1", "PeeringToken": token})
    out["establish_call_s"] = round(time.monotonic() - t0, 3)
    wait_until("all services imported",
               lambda: imported_count(dc2, "dc1", args.services) >= args.services, 0.02)
    t_names = time.monotonic() - t0
    counts = wait_until(
        "all instances imported",
        lambda: (lambda c: c if all(n == args.instances for n in c) else None)(
            instance_counts(dc2, "dc1", args.services)),
        0.05)
    t_all = time.monotonic() - t0
    cpu = cpu_seconds(args.exporter_pid) + cpu_seconds(args.importer_pid) - cpu0
    out.update(converge_services_s=round(t_names, 3), converge_verified_s=round(t_all, 3),
               converge_cpu_s=round(cpu, 2), imported_instances=sum(counts))
    print(f"establish → {args.services} services imported: {t_names:.2f} s "
          f"(all {sum(counts)} instances verified at {t_all:.2f} s); "
          f"CPU of both servers {cpu:.2f} s")
    _, peering_read, _ = dc2.call("GET", "/v1/peering/dc1")
    out["importer_peering_state"] = (peering_read or {}).get("State")

    # One health change at a time: flip the TTL check at dc1, watch dc2 with a blocking query.
    path = "/v1/health/service/probe?peer=dc1"
    wait_until("probe imported passing",
               lambda: status_of(dc2.call("GET", path)[1]) == "passing", 0.02)
    lat = []
    want = "passing"
    for n in range(args.flips):
        want = "critical" if want == "passing" else "passing"
        _, entries, headers = dc2.call("GET", path)
        index = headers.get("X-Consul-Index", "0")
        t = time.monotonic()
        dc1.ok("PUT", f"/v1/agent/check/{'fail' if want == 'critical' else 'pass'}/probe-ttl")
        deadline = t + FLIP_PATIENCE
        while True:
            _, entries, headers = dc2.call("GET", f"{path}&index={index}&wait=5s")
            index = headers.get("X-Consul-Index", index)
            if status_of(entries) == want:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"flip {n} to {want} did not arrive within {FLIP_PATIENCE:.0f} s")
        lat.append((time.monotonic() - t) * 1000.0)
    out.update(flip_p50_ms=round(percentile(lat, 50), 1), flip_p99_ms=round(percentile(lat, 99), 1),
               flip_max_ms=round(max(lat), 1), flips=len(lat))
    print(f"health change exporter → importer over {len(lat)} flips: "
          f"p50 {out['flip_p50_ms']} ms, p99 {out['flip_p99_ms']} ms, max {out['flip_max_ms']} ms")
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a benchmark: report and fail
        print(f"peering benchmark failed: {e}", file=sys.stderr)
        sys.exit(1)
