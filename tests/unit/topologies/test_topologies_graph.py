"""Graph construction, validation and JSON round-trip."""

import pytest

from fabriclab.errors import FabricError
from topologies import builders
from topologies.graph import LinkParams, NodeKind, Topology


def small() -> Topology:
    t = Topology("t")
    t.add_node("h1", "host")
    t.add_node("l1", NodeKind.LEAF)
    t.add_link("h1", "l1", LinkParams(10, 5, 20), LinkParams(20, 0, None))
    return t


def test_ports_are_numbered_per_node():
    t = small()
    t.add_node("h2", "host")
    link = t.add_link("h2", "l1")
    assert (link.a_port, link.b_port) == (0, 2)  # host NIC 0, switch port 2 (1 is taken)
    assert list(t.ports("l1")) == [1, 2]


def test_unknown_nodes_are_clear_errors():
    with pytest.raises(FabricError, match="no node named 'x9'"):
        small().ports("x9")
    with pytest.raises(FabricError, match="no switch named 'h1'"):
        small().switch_index("h1")


def test_direction_params():
    link = small().links[0]
    assert link.params_from("h1").bw == 10 and link.params_from("l1").bw == 20
    assert link.peer("l1") == ("h1", 0)


@pytest.mark.parametrize("build, message", [
    (lambda t: t.add_node("h1", "host"), "duplicate node name 'h1'"),
    (lambda t: t.add_node("H-1", "host"), "bad node name"),
    (lambda t: t.add_node("x1", "router"), "unknown kind 'router'"),
    (lambda t: t.add_link("h1", "zz"), "no node named 'zz'"),
    (lambda t: t.add_link("l1", "l1"), "cannot link to itself"),
    (lambda t: t.add_link("h1", "l1", a_port=0), "port 0 is already linked"),
    (lambda t: t.add_link("h1", "l1", b_port=255), "out of range"),
    (lambda t: (t.add_node("h2", "host"), t.add_link("h1", "h2")), "hosts must attach to switches"),
    (lambda t: LinkParams(bw=0), "rate must be > 0"),
    (lambda t: LinkParams(delay_us=-1), "delay must be >= 0"),
    (lambda t: LinkParams(max_queue_size=0), "queue size must be >= 1"),
])
def test_validation_errors(build, message):
    with pytest.raises(FabricError, match=message):
        build(small())


def test_unlinked_node_is_rejected():
    t = small()
    t.add_node("s1", "spine")
    with pytest.raises(FabricError, match="'s1' has no links"):
        t.validate()


@pytest.mark.parametrize("topo", [
    small(), builders.leaf_spine(), builders.fat_tree(4),
    builders.multi_site(), builders.rail_optimized(scaleup=builders.ScaleUp(2)),
])
def test_json_round_trip(topo):
    again = Topology.from_json(topo.to_json())
    assert again == topo
    assert all(again.ports(n) == topo.ports(n) for n in topo.nodes)


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    ('{"format": "other"}', "not a fabriclab-topology"),
    ('{"format": "fabriclab-topology", "version": 1, "name": "x"}', "malformed"),
])
def test_bad_json(text, message):
    with pytest.raises(FabricError, match=message):
        Topology.from_json(text)
