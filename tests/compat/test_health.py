"""Health endpoints through py-consul: service (with passing), checks, state and node.

The module registers a fixed set through the agent API — `api` (TTL check reported passing),
`batch` (TTL check left critical) and `warm` (TTL check reported warning) — and no test
changes it, so counts are exact.
"""

import pytest
from consul import Check

from compat_support import eventually


@pytest.fixture(scope="module")
def services(c):
    assert c.agent.service.register("api", service_id="api-1", port=8080, tags=["v1"], check=Check.ttl("60s"))
    assert c.agent.service.register("batch", service_id="batch-1", port=9090, check=Check.ttl("60s"))
    assert c.agent.service.register("warm", service_id="warm-1", port=7070, check=Check.ttl("60s"))
    assert c.agent.check.ttl_pass("service:api-1", notes="ok")
    assert c.agent.check.ttl_warn("service:warm-1", notes="hot")

    def synced():
        _, checks = c.health.state("any")
        by_id = {ch["CheckID"]: ch["Status"] for ch in checks}
        assert by_id.get("service:api-1") == "passing", by_id
        assert by_id.get("service:batch-1") == "critical", by_id
        assert by_id.get("service:warm-1") == "warning", by_id

    eventually(synced)  # agent state reaches the catalog by anti-entropy
    return ("api", "batch")


def test_service_entries_have_node_service_and_checks(c, agent, services):
    index, entries = c.health.service("api")
    assert int(index) > 0
    assert len(entries) == 1
    entry = entries[0]
    assert entry["Node"]["Node"] == agent.node
    assert entry["Service"]["ID"] == "api-1"
    assert entry["Service"]["Service"] == "api"
    assert entry["Service"]["Tags"] == ["v1"]
    assert entry["Service"]["Port"] == 8080
    # Node-level checks come with the service's own.
    assert sorted(ch["CheckID"] for ch in entry["Checks"]) == ["serfHealth", "service:api-1"]
    assert all(ch["Status"] == "passing" for ch in entry["Checks"])


def test_service_passing_filters_out_critical_instances(c, services):
    assert [e["Service"]["ID"] for e in c.health.service("api", passing=True)[1]] == ["api-1"]
    assert c.health.service("batch", passing=True)[1] == []
    (entry,) = c.health.service("batch")[1]
    statuses = {ch["CheckID"]: ch["Status"] for ch in entry["Checks"]}
    assert statuses == {"serfHealth": "passing", "service:batch-1": "critical"}


def test_passing_also_excludes_warning_instances(c, services):
    assert c.health.service("warm", passing=True)[1] == []
    assert len(c.health.service("warm")[1]) == 1


def test_service_with_tag(c, services):
    assert len(c.health.service("api", tag="v1")[1]) == 1
    assert c.health.service("api", tag="v9")[1] == []


def test_unknown_service_is_an_empty_list(c, services):
    assert c.health.service("no-such-service")[1] == []


def test_checks_for_a_service(c, agent, services):
    _, checks = c.health.checks("api")
    assert len(checks) == 1
    check = checks[0]
    assert check["CheckID"] == "service:api-1"
    assert check["ServiceID"] == "api-1"
    assert check["ServiceName"] == "api"
    assert check["Node"] == agent.node
    assert check["Status"] == "passing"
    assert check["Output"] == "ok"
    assert check["Type"] == "ttl"


def test_state_counts(c, services):
    _, any_state = c.health.state("any")
    assert sorted(ch["CheckID"] for ch in any_state) == [
        "serfHealth",
        "service:api-1",
        "service:batch-1",
        "service:warm-1",
    ]
    _, critical = c.health.state("critical")
    assert [ch["CheckID"] for ch in critical] == ["service:batch-1"]
    _, passing = c.health.state("passing")
    assert sorted(ch["CheckID"] for ch in passing) == ["serfHealth", "service:api-1"]
    _, warning = c.health.state("warning")
    assert [ch["CheckID"] for ch in warning] == ["service:warm-1"]


def test_node_first_check_is_serf_health_passing(c, agent, services):
    _, checks = c.health.node(agent.node)
    first = checks[0]
    assert first["CheckID"] == "serfHealth"
    assert first["Name"] == "Serf Health Status"
    assert first["Status"] == "passing"
    assert len(checks) == 4


def test_unknown_node_has_no_checks(c, services):
    assert c.health.node("no-such-node")[1] == []


# Registers and removes its own service, so it runs last: the counts above stay exact.
def test_blocking_health_service_wakes_on_check_update(c, services):
    assert c.agent.service.register("blk", service_id="blk-1", port=1, check=Check.ttl("60s"))
    try:
        index, entries = eventually(lambda: _one_entry(c.health.service("blk")))
        assert _check_status(entries, "service:blk-1") == "critical"
        assert c.agent.check.ttl_pass("service:blk-1")

        def woke_passing():
            nonlocal index
            new_index, new_entries = c.health.service("blk", index=index, wait="10s")
            assert int(new_index) >= int(index)
            index = new_index
            assert _check_status(new_entries, "service:blk-1") == "passing", new_entries

        eventually(woke_passing, deadline_s=15)
    finally:
        c.agent.service.deregister("blk-1")


def _one_entry(result):
    index, entries = result
    assert len(entries) == 1, entries
    assert len(entries[0]["Checks"]) == 2, entries  # serfHealth and the service's own
    return index, entries


def _check_status(entries, check_id):
    return {ch["CheckID"]: ch["Status"] for e in entries for ch in e["Checks"]}.get(check_id)
