"""Route computation: equal-cost next hops from the graph."""

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.routes import compute_routes
from topologies import builders
from topologies.addressing import Addressing

N = ipaddress.IPv4Network


def test_leaf_spine_ecmp_and_host_routes():
    t = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=2)
    a = Addressing(t)
    routes = compute_routes(t, a)
    # l1: ports 1,2 hosts; 3,4 spines. Remote subnet over both spines, local hosts /32.
    assert [h.port for h in routes["l1"][N("10.0.2.0/24")]] == [3, 4]
    assert routes["l1"][N("10.0.1.2/32")][0].mac == a.nics[("h2", 0)].mac
    assert routes["l1"][N("10.0.1.2/32")][0].port == 2
    # a spine reaches each leaf subnet through its one link to that leaf
    (hop,) = routes["s1"][N("10.0.2.0/24")]
    assert (hop.node, hop.port, hop.mac) == ("l2", 2, a.port_mac("l2", 3))


def test_fat_tree_path_diversity():
    t = builders.fat_tree(4)
    routes = compute_routes(t)
    # edge e1 to a subnet in another pod: both aggregation switches; agg to core: both cores
    far = N("10.0.8.0/24")
    assert len(routes["e1"][far]) == 2
    assert len(routes["a1"][far]) == 2
    assert len(routes["c1"][far]) == 1
    # inside the pod: e1 -> e2 through either agg
    assert {h.node for h in routes["e1"][N("10.0.2.0/24")]} == {"a1", "a2"}


def test_multi_site_crosses_borders_only_between_sites():
    t = builders.multi_site(sites=2, leaves=2, spines=2)
    routes = compute_routes(t)
    other_site = N("10.1.1.0/24")
    assert {h.node for h in routes["l1"][other_site]} == {"s1", "s2"}
    assert {h.node for h in routes["s1"][other_site]} == {"b1"}
    assert {h.node for h in routes["s1"][N("10.0.2.0/24")]} == {"l2"}


def test_scaleup_subnet_stays_inside_its_domain():
    t = builders.leaf_spine(scaleup=builders.ScaleUp(4))
    a = Addressing(t)
    routes = compute_routes(t, a)
    su = a.subnets["u1"]
    assert su not in routes["l1"]
    assert len([p for p in routes["u1"] if p.prefixlen == 32]) == 4


def walk(topo, routes, a, src_switch, dst_ip):
    """Follow next hops (every choice, breadth-first) from a switch to the host owning
    dst_ip; returns the set of path lengths, failing on a loop or a missing route."""
    addr = ipaddress.IPv4Address(dst_ip)
    frontier, lengths = [(src_switch, 0)], set()
    while frontier:
        sw, n = frontier.pop()
        assert n < 20, "routing loop"
        prefix = max((p for p in routes[sw] if addr in p), key=lambda p: p.prefixlen)
        for hop in routes[sw][prefix]:
            if topo.nodes[hop.node].is_switch:
                frontier.append((hop.node, n + 1))
            else:
                assert a.nics[(hop.node, 0)].ip.ip == addr
                lengths.add(n + 1)
    return lengths


@settings(max_examples=25, deadline=None)
@given(leaves=st.integers(1, 4), spines=st.integers(1, 3), hosts=st.integers(1, 3),
       sites=st.integers(1, 3))
def test_every_host_reaches_every_host_on_shortest_paths(leaves, spines, hosts, sites):
    if sites == 1:
        t = builders.leaf_spine(leaves=leaves, spines=spines, hosts_per_leaf=hosts)
    else:
        t = builders.multi_site(sites=sites, leaves=leaves, spines=spines, hosts_per_leaf=hosts)
    a = Addressing(t)
    routes = compute_routes(t, a)
    for src in t.hosts():
        first = a.nics[(src.name, 0)].switch
        for dst in t.hosts():
            lengths = walk(t, routes, a, first, a.nics[(dst.name, 0)].ip.ip)
            assert len(lengths) == 1  # every equal-cost choice has the same length
            same_leaf = a.nics[(dst.name, 0)].switch == first
            same_site = src.site == dst.site
            assert lengths == {1 if same_leaf else 3 if same_site else 6}
