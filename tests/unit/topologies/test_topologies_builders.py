"""Builders: shapes, rates and parameter errors."""

import collections

import pytest

from fabriclab.errors import FabricError
from topologies import builders
from topologies.graph import NodeKind


def kinds(topo):
    return collections.Counter(n.kind for n in topo.nodes.values())


def test_leaf_spine_shape_and_oversubscription():
    t = builders.leaf_spine(leaves=3, spines=2, hosts_per_leaf=4, downlink_bw=100,
                            oversubscription=2)
    assert kinds(t) == {NodeKind.HOST: 12, NodeKind.LEAF: 3, NodeKind.SPINE: 2}
    up = [ln for ln in t.links if t.nodes[ln.b].kind is NodeKind.SPINE]
    assert len(up) == 6
    assert {ln.ab.bw for ln in up} == {100.0}  # 4*100 / (2 spines * 2)
    assert [p for p, *_ in t.neighbors("l1")] == [1, 2, 3, 4, 5, 6]


def test_leaf_spine_explicit_uplink():
    t = builders.leaf_spine(uplink_bw=40)
    assert t.links[-1].ab.bw == 40


def test_fat_tree_k4():
    t = builders.fat_tree(4)
    assert kinds(t) == {NodeKind.HOST: 16, NodeKind.LEAF: 8, NodeKind.AGG: 8, NodeKind.CORE: 4}
    # every switch has exactly k ports, cores reach every pod
    for sw in t.switches():
        assert len(t.ports(sw.name)) == 4
    assert {t.nodes[p].pod for _, p, _, _ in t.neighbors("c1")} == {0, 1, 2, 3}


def test_rail_optimized_one_rail_per_nic():
    t = builders.rail_optimized(hosts=4, rails=2, hosts_per_rail_switch=2, spines=1)
    rails = [n for n in t.switches() if n.kind is NodeKind.LEAF]
    assert len(rails) == 4
    for host in t.hosts():
        ports = t.ports(host.name)
        assert list(ports) == [0, 1]
        for nic, link in ports.items():
            assert t.nodes[link.peer(host.name)[0]].rail == nic


def test_multi_site_dci_link():
    t = builders.multi_site(sites=3, dci_delay_us=10_000, dci_bw=50)
    borders = [n for n in t.switches() if n.kind is NodeKind.BORDER]
    assert [b.site for b in borders] == [0, 1, 2]
    dci = [ln for ln in t.links if {t.nodes[ln.a].kind, t.nodes[ln.b].kind} == {NodeKind.BORDER}]
    assert len(dci) == 3  # full mesh between sites
    assert all(ln.ab.delay_us == 10_000 and ln.ba.bw == 50 for ln in dci)
    assert {h.site for h in t.hosts()} == {0, 1, 2}


def test_scaleup_domains():
    t = builders.leaf_spine(leaves=2, hosts_per_leaf=2, scaleup=builders.ScaleUp(4, bw=900))
    (u,) = [n for n in t.switches() if n.kind is NodeKind.SCALEUP]
    assert len(t.ports(u.name)) == 4
    assert all(list(t.ports(h.name)) == [0, 1] for h in t.hosts())


@pytest.mark.parametrize("build, message", [
    (lambda: builders.leaf_spine(leaves=0), "leaves must be >= 1"),
    (lambda: builders.leaf_spine(hosts_per_leaf=0), "hosts per leaf"),
    (lambda: builders.leaf_spine(uplink_bw=10, oversubscription=2), "not both"),
    (lambda: builders.leaf_spine(oversubscription=0), "oversubscription must be > 0"),
    (lambda: builders.fat_tree(3), "even number"),
    (lambda: builders.multi_site(sites=1), "sites must be >= 2"),
    (lambda: builders.multi_site(dci_delay_us=-5), "DCI delay"),
    (lambda: builders.rail_optimized(hosts=3, hosts_per_rail_switch=2), "rail groups of 2"),
    (lambda: builders.leaf_spine(hosts_per_leaf=3, scaleup=builders.ScaleUp(4)), "scale-up domains of 4"),
    (lambda: builders.ScaleUp(1), "scale-up domain size"),
])
def test_bad_parameters(build, message):
    with pytest.raises(FabricError, match=message):
        build()
