"""Fixtures for the py-consul compatibility suite.

Each test module gets its own `legate agent -dev` (state isolated per module, start-up is
cheap) on a free loopback HTTP port, and a `consul.Consul` client pointed at it. The agent
is killed and reaped at module teardown whatever happened; its log is attached to the
start-up error if it never became ready.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import consul
import pytest

NODE = "compat"
READY_DEADLINE_S = 20.0


@dataclass
class Agent:
    """A running Legate dev agent and a py-consul client for it."""

    client: consul.Consul
    port: int
    server_port: int
    node: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    # Port 0 means "disabled" to Consul/Legate, so ask the kernel for a real one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _legate_bin() -> str:
    path = os.environ.get("LEGATE_BIN")
    if not path:
        pytest.exit("LEGATE_BIN is not set: run the suite through tests/compat/run.sh", returncode=2)
    if not os.access(path, os.X_OK):
        pytest.exit(f"LEGATE_BIN={path} is not an executable", returncode=2)
    return path


def _ready(client: consul.Consul) -> bool:
    try:
        if not client.status.leader():
            return False
        _, checks = client.health.node(NODE)
    except (consul.ConsulException, OSError, ValueError):
        return False
    # requests' ConnectionError is an OSError subclass, so a not-yet-listening port lands above.
    return any(c.get("CheckID") == "serfHealth" for c in checks or [])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Agent:
    """One dev agent per test module, ready (leader elected, serfHealth registered)."""
    binary = _legate_bin()
    port = _free_port()
    server_port = _free_port()
    log = tmp_path_factory.mktemp("legate") / "agent.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary, "agent", "-dev", "-node", NODE, "-http-port", str(port), "-dns-port", "-1",
                # Never assume Consul's default cluster ports are free either.
                "-server-port", str(server_port),
                "-serf-lan-port", str(_free_port()),
                "-serf-wan-port", str(_free_port()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        client = consul.Consul(host="127.0.0.1", port=port, connections_timeout=15)
        deadline = time.monotonic() + READY_DEADLINE_S
        while not _ready(client):
            if proc.poll() is not None:
                pytest.fail(f"legate exited with {proc.returncode} during start-up:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"legate not ready within {READY_DEADLINE_S}s on port {port}:\n{_tail(log)}")
            time.sleep(0.02)
        yield Agent(client=client, port=port, server_port=server_port, node=NODE, log=log)
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def c(agent: Agent) -> consul.Consul:
    """The py-consul client of this module's agent."""
    return agent.client
