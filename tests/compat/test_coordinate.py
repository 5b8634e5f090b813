"""Coordinate endpoints through py-consul: datacenters, nodes, node, update."""

from compat_support import eventually

COORD_KEYS = {"Vec", "Error", "Adjustment", "Height"}


def _is_coord(coord):
    return COORD_KEYS <= set(coord) and len(coord["Vec"]) == 8


def test_datacenters_shape(c, agent):
    dcs = c.coordinate.datacenters()
    (dc,) = dcs
    assert dc["Datacenter"] == "dc1"
    assert dc["AreaID"] == "wan"
    (entry,) = dc["Coordinates"]
    assert entry["Node"] == f"{agent.node}.dc1"
    assert _is_coord(entry["Coord"])


def test_nodes_shape(c):
    index, nodes = c.coordinate.nodes()
    assert int(index) > 0
    assert isinstance(nodes, list)
    for n in nodes:
        assert set(n) >= {"Node", "Segment", "Coord"}
        assert _is_coord(n["Coord"])


def test_update_then_read_node(c, agent):
    coord = {"Vec": [0.1] * 8, "Error": 0.5, "Adjustment": 0.0, "Height": 0.0001}
    assert c.coordinate.update(agent.node, coord) is True

    def applied():
        _, entries = c.coordinate.node(agent.node)
        assert entries, entries
        return entries

    (entry,) = eventually(applied)  # Consul batches coordinate updates
    assert entry["Node"] == agent.node
    assert entry["Coord"]["Vec"] == [0.1] * 8
    assert entry["Coord"]["Error"] == 0.5

    _, nodes = c.coordinate.nodes()
    assert agent.node in [n["Node"] for n in nodes]


def test_unknown_node_is_none(c):
    _, entries = c.coordinate.node("no-such-node")
    assert entries is None
