"""Agent endpoints through py-consul: self, members, local services and checks,
TTL and HTTP checks, node and service maintenance."""

import threading

import consul
import pytest
from consul import Check, ConsulException

from compat_support import eventually


def test_self_describes_this_dev_server(c, agent):
    me = c.agent.self()
    cfg = me["Config"]
    assert cfg["NodeName"] == agent.node
    assert cfg["Datacenter"] == "dc1"
    assert cfg["Server"] is True
    assert len(cfg["NodeID"]) == 36
    assert me["Member"]["Name"] == agent.node
    assert me["Member"]["Status"] == 1


def test_members_lists_this_node_alive_as_a_server(c, agent):
    members = c.agent.members()
    assert [m["Name"] for m in members] == [agent.node]
    (m,) = members
    assert m["Status"] == 1
    assert m["Tags"]["role"] == "consul"
    assert m["Tags"]["dc"] == "dc1"


def test_service_register_with_ttl_check_then_deregister(c):
    assert c.agent.service.register(
        "web", service_id="web1", port=8080, tags=["v1"], meta={"team": "a"}, check=Check.ttl("30s")
    )
    svc = c.agent.services()["web1"]
    assert svc["ID"] == "web1"
    assert svc["Service"] == "web"
    assert svc["Port"] == 8080
    assert svc["Tags"] == ["v1"]
    assert svc["Meta"] == {"team": "a"}

    check = c.agent.checks()["service:web1"]
    assert check["ServiceID"] == "web1"
    assert check["ServiceName"] == "web"
    assert check["Status"] == "critical"  # a TTL check starts critical until first reported

    assert c.agent.service.deregister("web1")
    assert "web1" not in c.agent.services()
    assert "service:web1" not in c.agent.checks()


def test_service_definition_by_id(c):
    assert c.agent.service.register("cache", service_id="cache-1", port=6379, tags=["blue"])
    try:
        svc = c.agent.service_definition("cache-1")
        assert svc["ID"] == "cache-1"
        assert svc["Service"] == "cache"
        assert svc["Port"] == 6379
        assert svc["Tags"] == ["blue"]
        assert svc["Datacenter"] == "dc1"
        assert c.agent.service_definition("no-such-service") is None  # 404 -> None
    finally:
        c.agent.service.deregister("cache-1")


def test_ttl_check_pass_warn_fail_and_notes(c):
    assert c.agent.check.register("mem", check=Check.ttl("30s"), check_id="mem-1", notes="memory use")
    try:
        check = c.agent.checks()["mem-1"]
        assert check["Name"] == "mem"
        assert check["Notes"] == "memory use"
        assert check["Status"] == "critical"
        assert check["ServiceID"] == ""

        assert c.agent.check.ttl_pass("mem-1", notes="fine")
        check = c.agent.checks()["mem-1"]
        assert (check["Status"], check["Output"]) == ("passing", "fine")

        assert c.agent.check.ttl_warn("mem-1", notes="getting full")
        check = c.agent.checks()["mem-1"]
        assert (check["Status"], check["Output"]) == ("warning", "getting full")

        assert c.agent.check.ttl_fail("mem-1", notes="full")
        check = c.agent.checks()["mem-1"]
        assert (check["Status"], check["Output"]) == ("critical", "full")
    finally:
        assert c.agent.check.deregister("mem-1")
    assert "mem-1" not in c.agent.checks()


def test_ttl_update_of_unknown_check_is_an_error(c):
    with pytest.raises(ConsulException) as err:
        c.agent.check.ttl_pass("no-such-check")
    assert str(err.value).startswith("500 ")
    assert 'CheckID "no-such-check" does not have associated TTL' in str(err.value)


def test_check_attached_to_a_service(c):
    assert c.agent.service.register("queue", service_id="queue-1", port=5672)
    try:
        assert c.agent.check.register("queue depth", check=Check.ttl("30s"), check_id="qd", service_id="queue-1")
        check = c.agent.checks()["qd"]
        assert check["ServiceID"] == "queue-1"
        assert check["ServiceName"] == "queue"
    finally:
        c.agent.service.deregister("queue-1")
    # Deregistering the service removes the checks attached to it.
    assert "qd" not in c.agent.checks()


def test_http_check_against_the_agent_itself_turns_passing(c, agent):
    url = f"{agent.base_url}/v1/status/leader"
    assert c.agent.service.register("probe", service_id="probe-1", port=agent.port, check=Check.http(url, "1s"))
    try:

        def passing():
            check = c.agent.checks()["service:probe-1"]
            assert check["Status"] == "passing", check
            return check

        check = eventually(passing)
        assert check["Type"] == "http"
        assert "200" in check["Output"]
    finally:
        c.agent.service.deregister("probe-1")


def test_http_check_getting_404_stays_critical(c, agent):
    url = f"{agent.base_url}/v1/no-such-endpoint-404"
    assert c.agent.check.register("broken", check=Check.http(url, "1s"), check_id="broken-1")
    try:
        # Starts critical and must stay critical with an output once it has run.
        def ran_and_failed():
            check = c.agent.checks()["broken-1"]
            assert check["Status"] == "critical", check
            assert check["Output"], check
            return check

        eventually(ran_and_failed)
    finally:
        c.agent.check.deregister("broken-1")


def test_node_maintenance_adds_and_removes_critical_check(c):
    assert c.agent.maintenance(True, reason="kernel upgrade")
    try:
        check = c.agent.checks()["_node_maintenance"]
        assert check["Status"] == "critical"
        assert check["Notes"] == "kernel upgrade"
        assert check["ServiceID"] == ""
    finally:
        assert c.agent.maintenance(False)
    assert "_node_maintenance" not in c.agent.checks()


def test_service_maintenance_adds_and_removes_critical_check(c):
    assert c.agent.service.register("billing", service_id="billing-1", port=9000)
    try:
        assert c.agent.service.maintenance("billing-1", True, reason="migrating")
        check = c.agent.checks()["_service_maintenance:billing-1"]
        assert check["Status"] == "critical"
        assert check["Notes"] == "migrating"
        assert check["ServiceID"] == "billing-1"
        assert c.agent.service.maintenance("billing-1", False)
        assert "_service_maintenance:billing-1" not in c.agent.checks()
    finally:
        c.agent.service.deregister("billing-1")


def test_service_maintenance_on_unknown_service_is_not_ok(c):
    # Consul answers 404 "Unknown service ID"; py-consul's boolean callback maps it to False.
    assert c.agent.service.maintenance("no-such-service", True) is False


def test_agent_services_filter(c):
    assert c.agent.service.register("api", service_id="api-1", port=1, tags=["v2"])
    assert c.agent.service.register("api", service_id="api-2", port=2, tags=["v1"])
    try:
        got = c.agent.services(filter_expr='"v2" in Tags')
        assert sorted(got) == ["api-1"]
    finally:
        c.agent.service.deregister("api-1")
        c.agent.service.deregister("api-2")


def test_metrics_json_shape(c):
    metrics = c.agent.metrics()
    for key in ("Timestamp", "Gauges", "Counters", "Samples", "Points"):
        assert key in metrics


def test_service_check_gets_consul_default_name(c):
    assert c.agent.service.register("named", service_id="named-1", check=Check.ttl("30s"))
    try:
        check = c.agent.checks()["service:named-1"]
        assert check["Name"] == "Service 'named' check"
        assert check["Type"] == "ttl"
    finally:
        c.agent.service.deregister("named-1")


def test_service_weights_and_tag_override(c):
    assert c.agent.service.register(
        "weighted", service_id="weighted-1", port=1, weights={"Passing": 10, "Warning": 1}, enable_tag_override=True
    )
    try:
        svc = c.agent.services()["weighted-1"]
        assert svc["Weights"] == {"Passing": 10, "Warning": 1}
        assert svc["EnableTagOverride"] is True
        plain = c.agent.service.register("plain", service_id="plain-1", port=2)
        assert plain
        assert c.agent.services()["plain-1"]["Weights"] == {"Passing": 1, "Warning": 1}
    finally:
        c.agent.service.deregister("weighted-1")
        c.agent.service.deregister("plain-1")


def test_reregistering_a_service_replaces_it(c):
    assert c.agent.service.register("re", service_id="re-1", port=1, tags=["old"])
    try:
        assert c.agent.service.register("re", service_id="re-1", port=2, tags=["new"])
        svc = c.agent.services()["re-1"]
        assert (svc["Port"], svc["Tags"]) == (2, ["new"])
    finally:
        c.agent.service.deregister("re-1")


def test_replace_existing_checks_drops_missing_ones(c):
    assert c.agent.service.register(
        "rc",
        service_id="rc-1",
        check=Check.ttl("30s"),
        extra_checks=[{"ttl": "30s", "checkid": "rc-extra", "name": "extra"}],
    )
    try:
        # With several checks, those without an ID are numbered "service:<id>:<n>".
        assert {"service:rc-1:1", "rc-extra"} <= set(c.agent.checks())
        assert c.agent.service.register("rc", service_id="rc-1", check=Check.ttl("30s"), replace_existing_checks=True)
        checks = {k for k, v in c.agent.checks().items() if v["ServiceID"] == "rc-1"}
        assert checks == {"service:rc-1"}
    finally:
        c.agent.service.deregister("rc-1")


def test_deregister_unknown_service_is_not_ok(c):
    # Consul answers 404 "Unknown service ID"; py-consul's boolean callback maps it to False.
    assert c.agent.service.deregister("no-such-service") is False


def test_tcp_check_against_the_agent_port_turns_passing(c, agent):
    assert c.agent.check.register("tcp", check=Check.tcp("127.0.0.1", agent.port, "1s"), check_id="tcp-1")
    try:

        def passing():
            check = c.agent.checks()["tcp-1"]
            assert check["Status"] == "passing", check
            return check

        check = eventually(passing)
        assert check["Type"] == "tcp"
    finally:
        c.agent.check.deregister("tcp-1")


def test_members_wan_lists_this_server_with_dc_suffix(c, agent):
    assert [m["Name"] for m in c.agent.members(wan=True)] == [f"{agent.node}.dc1"]


def test_reload(c):
    assert c.agent.reload() is True


def test_service_with_critical_check_is_never_seen_passing(c, agent):
    # The gap is a race, so watch many registrations: a blocking query parked before each
    # one wakes on the first catalog write for it and shows what a watcher would see.
    watcher = consul.Consul(host="127.0.0.1", port=agent.port)
    for i in range(100):
        sid = f"never-passing-{i}"
        index, _ = c.health.service("never-passing")
        seen = []
        t = threading.Thread(
            target=lambda: seen.append(watcher.health.service("never-passing", index=index, wait="10s"))
        )
        t.start()
        try:
            assert c.agent.service.register("never-passing", service_id=sid, check=Check.ttl("60s"))
        finally:
            t.join(timeout=15)
        try:
            _, entries = seen[0]
            for entry in entries:
                statuses = [ch["Status"] for ch in entry["Checks"]]
                assert "critical" in statuses, f"iteration {i}: instance visible as healthy: {entry}"
        finally:
            c.agent.service.deregister(sid)
            eventually(lambda: _assert_no_instances(c, "never-passing"))


def _assert_no_instances(c, service):
    assert c.health.service(service)[1] == []


def test_node_maintenance_makes_services_unhealthy(c):
    assert c.agent.service.register("maint", service_id="maint-1", port=1)
    try:
        eventually(lambda: _assert_passing_ids(c, "maint", ["maint-1"]))
        assert c.agent.maintenance(True, reason="drain")
        try:
            eventually(lambda: _assert_passing_ids(c, "maint", []))
        finally:
            c.agent.maintenance(False)
        eventually(lambda: _assert_passing_ids(c, "maint", ["maint-1"]))
    finally:
        c.agent.service.deregister("maint-1")


def _assert_passing_ids(c, service, expected):
    _, entries = c.health.service(service, passing=True)
    assert [e["Service"]["ID"] for e in entries] == expected, entries
