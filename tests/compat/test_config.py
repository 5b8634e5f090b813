"""Config entry endpoints through py-consul (`config.set/get/list/delete`)."""

import pytest
from consul import ConsulException
from consul.exceptions import BadRequest


def test_set_get_list_delete_service_defaults(c):
    assert c.config.set("service-defaults", "web", {"Protocol": "http"}) is True
    entry = c.config.get("service-defaults", "web")
    assert entry["Kind"] == "service-defaults"
    assert entry["Name"] == "web"
    assert entry["Protocol"] == "http"
    assert entry["CreateIndex"] > 0
    assert entry["ModifyIndex"] >= entry["CreateIndex"]

    listed = c.config.list("service-defaults")
    assert [(e["Kind"], e["Name"]) for e in listed] == [("service-defaults", "web")]

    assert c.config.delete("service-defaults", "web") is True
    assert c.config.get("service-defaults", "web") is None  # 404 -> None
    assert c.config.list("service-defaults") == []


def test_update_keeps_create_index(c):
    c.config.set("service-defaults", "api", {"Protocol": "tcp"})
    first = c.config.get("service-defaults", "api")
    c.config.set("service-defaults", "api", {"Protocol": "grpc"})
    second = c.config.get("service-defaults", "api")
    assert second["Protocol"] == "grpc"
    assert second["CreateIndex"] == first["CreateIndex"]
    assert second["ModifyIndex"] > first["ModifyIndex"]
    c.config.delete("service-defaults", "api")


def test_cas_set_and_delete(c):
    assert c.config.set("service-defaults", "cas", {"Protocol": "http"}, cas=0) is True
    assert c.config.set("service-defaults", "cas", {"Protocol": "tcp"}, cas=0) is False
    idx = c.config.get("service-defaults", "cas")["ModifyIndex"]
    assert c.config.set("service-defaults", "cas", {"Protocol": "tcp"}, cas=idx) is True
    assert c.config.delete("service-defaults", "cas", cas=idx) is False  # stale
    idx = c.config.get("service-defaults", "cas")["ModifyIndex"]
    assert c.config.delete("service-defaults", "cas", cas=idx) is True
    assert c.config.get("service-defaults", "cas") is None


def test_proxy_defaults_global(c):
    assert c.config.set("proxy-defaults", "global", {"Config": {"protocol": "http"}}) is True
    entry = c.config.get("proxy-defaults", "global")
    assert entry["Kind"] == "proxy-defaults"
    assert entry["Name"] == "global"
    assert entry["Config"] == {"protocol": "http"}
    assert c.config.delete("proxy-defaults", "global") is True


def test_list_filter(c):
    c.config.set("service-defaults", "f-http", {"Protocol": "http"})
    c.config.set("service-defaults", "f-tcp", {"Protocol": "tcp"})
    try:
        got = c.config.list("service-defaults", filter_expr='Protocol == "http"')
        assert [e["Name"] for e in got] == ["f-http"]
    finally:
        c.config.delete("service-defaults", "f-http")
        c.config.delete("service-defaults", "f-tcp")


def test_unknown_entry_is_none(c):
    assert c.config.get("service-defaults", "never-written") is None


def test_unknown_kind_is_a_bad_request(c):
    with pytest.raises(BadRequest):
        c.config.set("no-such-kind", "x", {})


def test_service_router_needs_an_l7_protocol(c):
    # Consul rejects a router for a service whose protocol (default tcp) cannot route L7.
    route = {"Routes": [{"Match": {"HTTP": {"PathPrefix": "/admin"}}, "Destination": {"Service": "admin"}}]}
    with pytest.raises(ConsulException):
        c.config.set("service-router", "plain-tcp", route)
    assert c.config.get("service-router", "plain-tcp") is None

    assert c.config.set("service-defaults", "routed", {"Protocol": "http"})
    try:
        assert c.config.set("service-router", "routed", route) is True
        entry = c.config.get("service-router", "routed")
        assert entry["Routes"][0]["Match"]["HTTP"]["PathPrefix"] == "/admin"
        assert entry["Routes"][0]["Destination"]["Service"] == "admin"
    finally:
        c.config.delete("service-router", "routed")
        c.config.delete("service-defaults", "routed")


def test_service_resolver_round_trip(c):
    body = {"DefaultSubset": "v1", "Subsets": {"v1": {"Filter": 'Service.Meta.version == "1"'}}}
    assert c.config.set("service-resolver", "res", body) is True
    try:
        entry = c.config.get("service-resolver", "res")
        assert entry["DefaultSubset"] == "v1"
        assert entry["Subsets"] == {"v1": {"Filter": 'Service.Meta.version == "1"'}}
    finally:
        c.config.delete("service-resolver", "res")
