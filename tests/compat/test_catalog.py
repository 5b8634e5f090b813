"""Catalog endpoints through py-consul: register/deregister an external node with a service
and a check, and the nodes, services, service (with tag) and node reads."""

import pytest



@pytest.fixture(scope="module")
def ext_node(c):
    """An external node `ext1` with service `db` (tag `primary`) and a passing check."""
    assert c.catalog.register(
        "ext1",
        "10.1.2.3",
        service={"Service": "db", "ID": "db1", "Tags": ["primary"], "Port": 5432},
        check={"CheckID": "db-alive", "Name": "db alive", "Status": "passing", "ServiceID": "db1"},
    )
    return "ext1"


def test_datacenters(c):
    assert c.catalog.datacenters() == ["dc1"]


def test_nodes_lists_agent_and_external_node(c, agent, ext_node):
    index, nodes = c.catalog.nodes()
    assert int(index) > 0
    assert [n["Node"] for n in nodes] == [agent.node, ext_node]
    ext = nodes[1]
    assert ext["Address"] == "10.1.2.3"
    assert ext["Datacenter"] == "dc1"
    assert "ID" in ext and "TaggedAddresses" in ext and "Meta" in ext


def test_services_is_exactly_consul_and_the_registered_one(c, ext_node):
    _, services = c.catalog.services()
    assert services == {"consul": [], "db": ["primary"]}


def test_service_returns_the_instance(c, ext_node):
    _, instances = c.catalog.service("db")
    assert len(instances) == 1
    inst = instances[0]
    assert inst["Node"] == ext_node
    assert inst["Address"] == "10.1.2.3"
    assert inst["ServiceID"] == "db1"
    assert inst["ServiceName"] == "db"
    assert inst["ServiceTags"] == ["primary"]
    assert inst["ServicePort"] == 5432
    assert inst["ServiceAddress"] == ""


def test_service_with_tag(c, ext_node):
    _, tagged = c.catalog.service("db", tag="primary")
    assert [i["ServiceID"] for i in tagged] == ["db1"]
    _, other = c.catalog.service("db", tag="replica")
    assert other == []


def test_unknown_service_is_an_empty_list(c):
    index, instances = c.catalog.service("no-such-service")
    assert instances == []
    assert int(index) > 0


def test_node_returns_node_and_its_services(c, ext_node):
    _, node = c.catalog.node(ext_node)
    assert node["Node"]["Node"] == ext_node
    assert node["Node"]["Address"] == "10.1.2.3"
    assert list(node["Services"]) == ["db1"]
    svc = node["Services"]["db1"]
    assert (svc["Service"], svc["Port"], svc["Tags"]) == ("db", 5432, ["primary"])


def test_unknown_node_is_none(c):
    _, node = c.catalog.node("no-such-node")
    assert node is None


def test_consul_service_is_on_the_agent_node(c, agent):
    _, instances = c.catalog.service("consul")
    assert [i["Node"] for i in instances] == [agent.node]
    assert instances[0]["ServicePort"] == agent.server_port


def test_deregister_service_then_node(c):
    assert c.catalog.register(
        "ext2", "10.9.9.9", service={"Service": "tmp", "ID": "tmp1", "Port": 1}
    )
    assert [i["Node"] for i in c.catalog.service("tmp")[1]] == ["ext2"]

    assert c.catalog.deregister("ext2", service_id="tmp1")
    assert c.catalog.service("tmp")[1] == []
    _, node = c.catalog.node("ext2")
    assert node["Services"] == {}  # the node stays without the service

    assert c.catalog.deregister("ext2")
    assert c.catalog.node("ext2")[1] is None
    assert "ext2" not in [n["Node"] for n in c.catalog.nodes()[1]]


def test_register_updates_existing_service(c):
    assert c.catalog.register("ext3", "10.3.3.3", service={"Service": "w", "ID": "w1", "Port": 1})
    try:
        assert c.catalog.register("ext3", "10.3.3.4", service={"Service": "w", "ID": "w1", "Port": 2})
        _, inst = c.catalog.service("w")
        assert [(i["Address"], i["ServicePort"]) for i in inst] == [("10.3.3.4", 2)]
    finally:
        c.catalog.deregister("ext3")
