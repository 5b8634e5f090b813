"""Operator endpoints through py-consul: raft configuration, autopilot, usage."""

import pytest
from consul import ConsulException

from compat_support import eventually


def test_raft_configuration_has_this_server_as_leading_voter(c, agent):
    node_id = c.agent.self()["Config"]["NodeID"]
    cfg = c.operator.raft_config()
    assert cfg["Index"] >= 0
    (server,) = cfg["Servers"]
    assert server["ID"] == node_id
    assert server["Node"] == agent.node
    assert server["Voter"] is True
    assert server["Leader"] is True
    assert server["Address"] == c.status.leader()
    assert server["ProtocolVersion"] == "3"


def test_autopilot_configuration_defaults(c):
    cfg = c.operator.autopilot_configuration()
    assert cfg["CleanupDeadServers"] is True
    assert cfg["LastContactThreshold"] == "200ms"
    assert cfg["MaxTrailingLogs"] == 250
    assert cfg["ServerStabilizationTime"] == "10s"


def test_autopilot_health_single_healthy_server(c, agent):
    health = c.operator.autopilot_health()
    assert health["Healthy"] is True
    assert health["FailureTolerance"] == 0
    (server,) = health["Servers"]
    assert server["Name"] == agent.node
    assert server["Leader"] is True
    assert server["Voter"] is True
    assert server["Healthy"] is True
    assert server["SerfStatus"] == "alive"


def test_usage_counts_services(c):
    assert c.agent.service.register("usage-svc", service_id="usage-1", port=1)
    try:

        def counted():
            usage = c.operator.usage()["Usage"]["dc1"]
            # "consul" itself plus the one registered here.
            assert usage["Services"] == 2, usage
            assert usage["ServiceInstances"] == 2, usage
            return usage

        eventually(counted)
    finally:
        c.agent.service.deregister("usage-1")


def test_update_autopilot_configuration(c):
    assert c.operator.update_autopilot_configuration(max_trailing_logs=300, cleanup_dead_servers=False)
    try:
        cfg = c.operator.autopilot_configuration()
        assert cfg["MaxTrailingLogs"] == 300
        assert cfg["CleanupDeadServers"] is False
        stale = cfg["ModifyIndex"] - 1
        assert c.operator.update_autopilot_configuration(max_trailing_logs=1, cas=stale) is False
        assert c.operator.autopilot_configuration()["MaxTrailingLogs"] == 300
    finally:
        c.operator.update_autopilot_configuration(max_trailing_logs=250, cleanup_dead_servers=True)


def test_remove_unknown_raft_peer_is_an_error(c):
    with pytest.raises(ConsulException):
        c.operator.raft_remove_peer(peer_id="00000000-0000-0000-0000-000000000000")
    assert len(c.operator.raft_config()["Servers"]) == 1


def test_transfer_leader_without_another_voter_is_an_error(c):
    with pytest.raises(ConsulException):
        c.operator.raft_transfer_leader()
