"""Event endpoints through py-consul: fire and list (with the name filter)."""

import re
import threading

import consul

from compat_support import b64, eventually

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_fire_returns_the_event(c):
    event = c.event.fire("deploy", body="v1")
    assert UUID.match(event["ID"]), event
    assert event["Name"] == "deploy"
    assert event["Payload"] == b64("v1")  # fire's reply is not decoded by py-consul
    assert event["NodeFilter"] == ""
    assert event["ServiceFilter"] == ""
    assert event["TagFilter"] == ""
    assert event["Version"] == 1
    assert "LTime" in event


def test_fire_with_filters_echoes_them(c):
    event = c.event.fire("restart", body="", node="web-.*", service="web", tag="v1")
    assert (event["NodeFilter"], event["ServiceFilter"], event["TagFilter"]) == ("web-.*", "web", "v1")


def test_list_filters_by_name(c):
    fired = c.event.fire("only-me", body="payload")
    c.event.fire("someone-else", body="nope")

    def delivered():
        index, events = c.event.list(name="only-me")
        assert [e["ID"] for e in events] == [fired["ID"]], events
        return index, events

    index, events = eventually(delivered)
    assert int(index) != 0
    (e,) = events
    assert e["Name"] == "only-me"
    assert e["Payload"] == b"payload"  # list's reply is decoded by py-consul

    _, everything = c.event.list()
    assert {"only-me", "someone-else"} <= {e["Name"] for e in everything}
    assert c.event.list(name="never-fired")[1] == []


def test_event_with_non_matching_node_filter_is_not_stored_here(c):
    c.event.fire("elsewhere", body="x", node="^nowhere$")
    marker = c.event.fire("marker-after-elsewhere")
    # Events are handled in order, so once the later marker is listed the filtered one was
    # seen and dropped by this agent (its node filter does not match).
    eventually(lambda: _assert_listed(c, "marker-after-elsewhere", marker["ID"]))
    assert c.event.list(name="elsewhere")[1] == []


def test_blocking_list_wakes_on_fire(c, agent):
    index, _ = c.event.list(name="wake-me")
    firer = consul.Consul(host="127.0.0.1", port=agent.port)
    fired = []
    t = threading.Thread(target=lambda: fired.append(firer.event.fire("wake-me")))
    t.start()
    try:
        new_index, events = c.event.list(name="wake-me", index=index, wait="20s")
    finally:
        t.join(timeout=20)
    assert new_index != index
    assert fired and [e["ID"] for e in events] == [fired[0]["ID"]]


def _assert_listed(c, name, event_id):
    assert event_id in [e["ID"] for e in c.event.list(name=name)[1]]
