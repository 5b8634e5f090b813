"""`filter=` expressions through py-consul's `filter_expr` parameters.

Everything here is registered through the agent API on the one dev node, so the filters are
exercised independently of catalog registration.
"""

import pytest
from consul import Check
from consul.exceptions import BadRequest

from compat_support import eventually


@pytest.fixture(scope="module")
def world(c):
    reg = c.agent.service.register
    assert reg("web", service_id="web-a", port=80, tags=["v1"], meta={"zone": "a"}, check=Check.ttl("60s"))
    assert reg("web", service_id="web-b", port=81, tags=["v2"], meta={"zone": "b"}, check=Check.ttl("60s"))
    assert reg("web", service_id="web-c", port=82, tags=["v2", "canary"], meta={"zone": "b"})
    assert reg("db", service_id="db-1", port=5432, tags=["primary"])
    assert c.agent.check.ttl_pass("service:web-b")

    def synced():
        assert len(c.catalog.service("web")[1]) == 3
        _, checks = c.health.checks("web")
        assert {ch["CheckID"]: ch["Status"] for ch in checks} == {
            "service:web-a": "critical",
            "service:web-b": "passing",
        }, checks

    eventually(synced)  # agent state reaches the catalog by anti-entropy


def test_catalog_nodes_filter(c, agent, world):
    _, nodes = c.catalog.nodes(filter_expr=f'Node == "{agent.node}"')
    assert [n["Node"] for n in nodes] == [agent.node]
    _, nodes = c.catalog.nodes(filter_expr='Node == "someone-else"')
    assert nodes == []
    _, nodes = c.catalog.nodes(filter_expr='Address == "127.0.0.1"')
    assert [n["Node"] for n in nodes] == [agent.node]


def test_catalog_service_filter(c, world):
    _, inst = c.catalog.service("web", filter_expr="ServicePort == 81")
    assert [i["ServiceID"] for i in inst] == ["web-b"]
    _, inst = c.catalog.service("web", filter_expr='ServiceMeta.zone == "b"')
    assert sorted(i["ServiceID"] for i in inst) == ["web-b", "web-c"]


def test_catalog_services_filter(c, world):
    _, services = c.catalog.services(filter_expr='ServiceName == "web"')
    assert services == {"web": ["canary", "v1", "v2"]}


def test_health_service_filter(c, world):
    _, entries = c.health.service("web", filter_expr='"v2" in Service.Tags')
    assert sorted(e["Service"]["ID"] for e in entries) == ["web-b", "web-c"]
    _, entries = c.health.service("web", filter_expr='Service.Port != 80 and "canary" not in Service.Tags')
    assert [e["Service"]["ID"] for e in entries] == ["web-b"]


def test_health_checks_and_state_filter(c, world):
    _, checks = c.health.state("any", filter_expr='ServiceName == "web"')
    assert sorted(ch["CheckID"] for ch in checks) == ["service:web-a", "service:web-b"]
    _, checks = c.health.checks("web", filter_expr='Status == "passing"')
    assert [ch["CheckID"] for ch in checks] == ["service:web-b"]


def test_agent_services_and_checks_filter(c, world):
    assert sorted(c.agent.services(filter_expr='Service == "web" and Port != 80')) == ["web-b", "web-c"]
    assert list(c.agent.checks(filter_expr='ServiceID == "web-a"')) == ["service:web-a"]


def test_invalid_filter_is_a_bad_request(c, world):
    with pytest.raises(BadRequest):
        c.catalog.nodes(filter_expr="this is not ( a filter")
    with pytest.raises(BadRequest):
        c.health.service("web", filter_expr="NoSuchField == 1")
