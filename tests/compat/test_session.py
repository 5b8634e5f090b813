"""Session endpoints through py-consul: create/info/list/node/renew/destroy, and the delete
behaviour removing held keys when the session goes away."""

import re
import threading

import consul
import pytest
from consul import Check, ConsulException, NotFound

from compat_support import eventually

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_create_and_info(c, agent):
    sid = c.session.create(name="s1")
    assert UUID.match(sid), sid
    index, info = c.session.info(sid)
    assert int(index) > 0
    assert info["ID"] == sid
    assert info["Name"] == "s1"
    assert info["Node"] == agent.node
    assert info["Behavior"] == "release"
    assert info["LockDelay"] == 15_000_000_000  # nanoseconds, as Go's time.Duration
    assert info["TTL"] == ""
    assert info["NodeChecks"] == ["serfHealth"]
    assert info["CreateIndex"] > 0
    c.session.destroy(sid)


def test_create_with_options(c):
    sid = c.session.create(name="opts", behavior="delete", ttl=30, lock_delay=5)
    try:
        info = c.session.info(sid)[1]
        assert info["Behavior"] == "delete"
        assert info["TTL"] == "30s"
        assert info["LockDelay"] == 5_000_000_000
    finally:
        c.session.destroy(sid)


def test_list_and_node(c, agent):
    a = c.session.create(name="a")
    b = c.session.create(name="b")
    try:
        _, sessions = c.session.list()
        assert {a, b} <= {s["ID"] for s in sessions}
        _, on_node = c.session.node(agent.node)
        assert {a, b} <= {s["ID"] for s in on_node}
        assert c.session.node("no-such-node")[1] == []
    finally:
        c.session.destroy(a)
        c.session.destroy(b)


def test_renew_returns_the_session(c):
    sid = c.session.create(name="renewable", ttl=20)
    try:
        renewed = c.session.renew(sid)
        assert renewed["ID"] == sid
        assert renewed["TTL"] == "20s"
    finally:
        c.session.destroy(sid)


def test_renew_unknown_session_is_not_found(c):
    with pytest.raises(NotFound):
        c.session.renew("00000000-0000-0000-0000-000000000000")


def test_destroy_removes_the_session(c):
    sid = c.session.create()
    assert c.session.destroy(sid) is True
    assert c.session.info(sid)[1] is None
    assert sid not in {s["ID"] for s in c.session.list()[1]}


def test_unknown_session_info_is_none(c):
    index, info = c.session.info("00000000-0000-0000-0000-000000000000")
    assert info is None
    assert int(index) > 0


def test_delete_behavior_removes_held_key_on_destroy(c):
    sid = c.session.create(name="ephemeral", behavior="delete")
    assert c.kv.put("eph/key", "here", acquire=sid)
    assert c.kv.get("eph/key")[1]["Session"] == sid
    assert c.session.destroy(sid)
    assert c.kv.get("eph/key")[1] is None


def test_release_behavior_keeps_key_and_clears_holder_on_destroy(c):
    sid = c.session.create(name="releasing")
    assert c.kv.put("rel/key", "here", acquire=sid)
    assert c.session.destroy(sid)
    entry = c.kv.get("rel/key")[1]
    assert entry["Value"] == b"here"
    assert "Session" not in entry


def test_create_on_unknown_node_is_an_error(c):
    with pytest.raises(ConsulException):
        c.session.create(node="no-such-node")


def test_create_with_unknown_check_is_an_error(c):
    with pytest.raises(ConsulException):
        c.session.create(checks=["serfHealth", "no-such-check"])


def test_create_without_checks(c):
    sid = c.session.create(name="checkless", checks=[])
    try:
        info = c.session.info(sid)[1]
        assert not info["NodeChecks"]
    finally:
        c.session.destroy(sid)


def test_session_invalidated_when_its_check_goes_critical(c):
    assert c.agent.check.register("guard", check=Check.ttl("60s"), check_id="sess-guard")
    try:
        assert c.agent.check.ttl_pass("sess-guard")

        def synced_passing():
            _, checks = c.health.node("compat")
            assert {ch["CheckID"]: ch["Status"] for ch in checks}.get("sess-guard") == "passing", checks

        eventually(synced_passing)
        sid = c.session.create(name="guarded", checks=["serfHealth", "sess-guard"])
        assert c.kv.put("guarded/key", "v", acquire=sid)
        assert c.agent.check.ttl_fail("sess-guard")

        def invalidated():
            assert c.session.info(sid)[1] is None
            assert "Session" not in c.kv.get("guarded/key")[1]

        eventually(invalidated)
    finally:
        c.agent.check.deregister("sess-guard")


def test_blocking_list_wakes_on_create(c, agent):
    index, _ = c.session.list()
    creator = consul.Consul(host="127.0.0.1", port=agent.port)
    made = []
    t = threading.Thread(target=lambda: made.append(creator.session.create(name="wake")))
    t.start()
    try:
        new_index, sessions = c.session.list(index=index, wait="20s")
    finally:
        t.join(timeout=20)
    assert int(new_index) > int(index)
    assert made and made[0] in {s["ID"] for s in sessions}
    c.session.destroy(made[0])
