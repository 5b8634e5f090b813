#!/usr/bin/env python3
"""Blocking-query wake latency: how long after a PUT to key k does a waiting
`GET /v1/kv/k?index=N&wait=30s` return? Measured from just before the PUT is sent to the
moment the blocked GET's response arrives, N times, against a running agent.

    bench/blocking_wake.py http://127.0.0.1:8500 [ROUNDS=200]

Prints p50/p99/max in milliseconds. A benchmark, not a test: no pass/fail.
"""
import statistics
import sys
import threading
import time
import urllib.request


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.headers.get("X-Consul-Index"), resp.read()


def main():
    base = sys.argv[1].rstrip("/")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    key = f"{base}/v1/kv/bench/wake"
    request("PUT", key, b"0")
    latencies = []
    for i in range(rounds):
        index, _ = request("GET", key)
        woke = {}

        def waiter():
            request("GET", f"{key}?index={index}&wait=30s")
            woke["at"] = time.perf_counter()

        t = threading.Thread(target=waiter)
        t.start()
        # Give the waiter time to be parked on the server before writing.
        time.sleep(0.02)
        sent = time.perf_counter()
        request("PUT", key, str(i + 1).encode())
        t.join()
        latencies.append((woke["at"] - sent) * 1000.0)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]
    print(f"blocking wake after PUT over {rounds} rounds: p50 {p(0.5):.2f} ms, "
          f"p99 {p(0.99):.2f} ms, max {latencies[-1]:.2f} ms, mean {statistics.mean(latencies):.2f} ms")


if __name__ == "__main__":
    main()
