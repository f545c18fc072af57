"""Scale-up domains joined to the scale-out fabric: counts, rails, rates, sites, routes."""

import ipaddress
import warnings

import pytest

from controller.routes import compute_routes
from fabriclab.errors import FabricError
from topologies import builders
from topologies.addressing import Addressing
from topologies.graph import NodeKind, Topology


def kinds(t, kind):
    return [n for n in t.nodes.values() if n.kind is kind]


def test_rail_optimised_domains_counts_rails_and_rates():
    t = builders.scale_up_fabric(accelerators=32, domain=8, nic_bw=100, scaleup_bw=1800, spines=2)
    assert len(t.hosts()) == 32
    assert len(kinds(t, NodeKind.SCALEUP)) == 4
    rails = kinds(t, NodeKind.LEAF)
    assert sorted(r.rail for r in rails) == list(range(8))
    for leaf in rails:  # accelerator i of every domain on rail i's leaf
        hosts = [t.nodes[p] for _, p, _, _ in t.neighbors(leaf.name) if not t.nodes[p].is_switch]
        assert len(hosts) == 4 and {h.rail for h in hosts} == {leaf.rail}
        assert sorted({h.pod for h in hosts}) == [0, 1, 2, 3]
    for u in kinds(t, NodeKind.SCALEUP):
        links = [link for _, _, _, link in t.neighbors(u.name)]
        assert len(links) == 8 and all(link.params_from(u.name).bw == 1800 for link in links)
    h1 = t.ports("h1")
    assert t.nodes[h1[0].peer("h1")[0]].kind is NodeKind.LEAF and h1[0].ab.bw == 100
    assert t.nodes[h1[1].peer("h1")[0]].kind is NodeKind.SCALEUP
    # non-blocking leaves: 4 hosts x 100 Mb/s over 2 spines
    assert {link.ab.bw for link in t.links if {t.nodes[link.a].kind, t.nodes[link.b].kind}
            == {NodeKind.LEAF, NodeKind.SPINE}} == {200}


def test_plain_leaf_layout_and_domain_of_one():
    t = builders.scale_up_fabric(accelerators=16, domain=4, layout="leaf", domains_per_leaf=2)
    assert len(kinds(t, NodeKind.LEAF)) == 2 and len(kinds(t, NodeKind.SCALEUP)) == 4
    flat = builders.scale_up_fabric(accelerators=16, domain=1)
    assert kinds(flat, NodeKind.SCALEUP) == [] and len(kinds(flat, NodeKind.LEAF)) == 1
    assert all(len(flat.ports(h.name)) == 1 for h in flat.hosts())


def test_multi_site_of_scale_up_domains_builds_and_round_trips():
    t = builders.scale_up_fabric(accelerators=32, domain=4, sites=2, dci_delay_us=500)
    assert {n.site for n in kinds(t, NodeKind.SCALEUP)} == {0, 1}
    assert len(kinds(t, NodeKind.BORDER)) == 2
    assert {n.site for n in t.hosts()} == {0, 1}
    again = Topology.from_json(t.to_json())
    assert again.to_dict() == t.to_dict()
    a = Addressing(t)
    assert str(a.ip("h17", 0)).startswith("10.1.") and str(a.ip("h17", 1)).startswith("10.1.")


@pytest.mark.parametrize("kwargs,msg", [
    ({"accelerators": 12, "domain": 8}, "do not split into scale-up domains of 8"),
    ({"accelerators": 16, "domain": 4, "rails": 2}, "2 rails do not match scale-up domains of 4"),
    ({"accelerators": 16, "domain": 4, "sites": 3}, "do not split over 3 sites"),
    ({"accelerators": 16, "domain": 4, "layout": "torus"}, "unknown scale-out layout"),
    ({"accelerators": 16, "domain": 4, "domains_per_leaf": 3}, "do not split into leaves of 3"),
    ({"accelerators": 16, "domain": 0}, "scale-up domain size"),
])
def test_bad_input_is_one_clear_error(kwargs, msg):
    with pytest.raises(FabricError, match=msg):
        builders.scale_up_fabric(**kwargs)


def test_scale_up_slower_than_the_nic_builds_with_a_warning_saying_why():
    with pytest.warns(builders.ScaleUpWarning, match="below the NIC rate .* unusual"):
        t = builders.scale_up_fabric(accelerators=8, domain=4, nic_bw=100, scaleup_bw=50)
    assert len(kinds(t, NodeKind.SCALEUP)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        builders.scale_up_fabric(accelerators=8, domain=4, nic_bw=100, scaleup_bw=1800)


def hops(topo, routes, addressing, src, src_nic, dst, dst_nic):
    """The switches a packet from src's NIC to dst's NIC address crosses (first next hop)."""
    dst_ip = addressing.ip(dst, dst_nic)
    sw, path = addressing.nics[(src, src_nic)].switch, []
    while True:
        path.append(sw)
        table = routes[sw]
        prefix = max((p for p in table if dst_ip in p), key=lambda p: p.prefixlen)
        hop = table[prefix][0]
        if hop.node == dst:
            return path
        sw = hop.node


def test_intra_domain_pair_takes_scale_up_and_inter_domain_pair_its_rail():
    t = builders.scale_up_fabric(accelerators=16, domain=4, spines=2)
    a = Addressing(t)
    routes = compute_routes(t, a)
    # h1, h2: domain 0 (u1); h5: domain 1, accelerator 0 like h1 (rail 0); h6 rail 1
    assert hops(t, routes, a, "h1", 1, "h2", 1) == ["u1"]
    assert hops(t, routes, a, "h1", 0, "h5", 0) == ["r1"]
    assert t.nodes["r1"].rail == 0
    # a cross-rail, cross-domain pair leaves its rail through a spine
    path = hops(t, routes, a, "h1", 0, "h6", 0)
    assert len(path) == 3 and t.nodes[path[1]].kind is NodeKind.SPINE
    # the scale-up subnets are routed only on their own switch (one /32 per member)
    su = a.subnets["u1"]
    assert all(su not in routes[s.name] for s in t.switches() if s.name != "u1")
    assert sorted(p for p in routes["u1"] if p.prefixlen == 32) == [
        ipaddress.IPv4Network(f"{a.ip(h, 1)}/32") for h in ("h1", "h2", "h3", "h4")]
