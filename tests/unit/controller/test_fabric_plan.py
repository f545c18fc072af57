"""fabric.p4's per-switch plan from the topology graph: groups, MACs, INT, failures."""

import ipaddress

import pytest

from controller.fabric_plan import (Ecn, FabricConfig, Mode, Watch, plan_fabric,
                                    plan_from_routes)
from controller.routes import compute_routes
from fabriclab.errors import FabricError
from topologies.addressing import Addressing
from topologies.builders import fat_tree, leaf_spine

NET = ipaddress.IPv4Network


@pytest.fixture
def topo():
    return leaf_spine(leaves=2, spines=2, hosts_per_leaf=2)


def test_leaf_groups_spread_remote_subnet_over_both_spines(topo):
    plans = plan_fabric(topo, FabricConfig())
    l1 = plans["l1"]
    spine_ports = sorted(p for p, peer, _, _ in topo.neighbors("l1")
                         if topo.nodes[peer].is_switch)
    remote = l1.routes[NET("10.0.2.0/24")]
    assert l1.groups[remote].ports == tuple(spine_ports)
    # own hosts: one /32 each, a single-port group toward the host, marked as INT sink
    for nic in Addressing(topo).host_nics("h1") + Addressing(topo).host_nics("h2"):
        gid = l1.routes[NET(f"{nic.ip.ip}/32")]
        assert l1.groups[gid].ports == (nic.switch_port,)
        assert nic.switch_port in l1.host_ports
    assert set(l1.host_ports).isdisjoint(spine_ports)


def test_port_macs_pair_our_mac_with_the_neighbours(topo):
    plans = plan_fabric(topo, FabricConfig())
    for port, peer, peer_port, _ in topo.neighbors("s1"):
        ours, theirs = plans["s1"].port_macs[port]
        assert theirs == plans[peer].port_macs[peer_port][0]
        assert plans[peer].port_macs[peer_port][1] == ours


def test_spines_have_no_sink_ports_and_one_port_per_leaf_subnet(topo):
    plans = plan_fabric(topo, FabricConfig())
    for spine in ("s1", "s2"):
        assert plans[spine].host_ports == []
        assert all(len(g.ports) == 1 for g in plans[spine].groups.values())
        assert set(plans[spine].routes) == {NET("10.0.1.0/24"), NET("10.0.2.0/24")}


def test_down_link_leaves_groups_and_unreachable_spine_routes(topo):
    up = plan_fabric(topo, FabricConfig())
    l2_port_on_s1 = next(p for p, peer, _, _ in topo.neighbors("s1") if peer == "l2")
    down = plan_fabric(topo, FabricConfig(), down={("s1", l2_port_on_s1)})
    s1_port_on_l1 = next(p for p, peer, _, _ in topo.neighbors("l1") if peer == "s1")
    gid = down["l1"].routes[NET("10.0.2.0/24")]
    assert s1_port_on_l1 not in down["l1"].groups[gid].ports
    assert len(down["l1"].groups[gid].ports) == 1
    assert len(up["l1"].groups[up["l1"].routes[NET("10.0.2.0/24")]].ports) == 2


def test_collector_report_port_follows_the_route_to_the_collector(topo):
    plans = plan_fabric(topo, FabricConfig(collector="h1"))
    h1_port = next(p for p, peer, _, _ in topo.neighbors("l1") if peer == "h1")
    assert plans["l1"].report_port == h1_port
    assert plans["l1"].collector_ip == "10.0.1.1"
    spine_ports = {p for p, peer, _, _ in topo.neighbors("l2") if topo.nodes[peer].is_switch}
    assert plans["l2"].report_port in spine_ports
    assert len({p.switch_id for p in plans.values()}) == len(plans)


def test_plan_from_routes_matches_plan_from_topology(topo):
    routes = compute_routes(topo)
    full = plan_fabric(topo, FabricConfig())
    for sw in topo.switches():
        plan = plan_from_routes(sw.name, topo.switch_index(sw.name), routes[sw.name])
        assert plan.groups == full[sw.name].groups
        assert plan.port_macs == full[sw.name].port_macs
        assert plan.host_ports == full[sw.name].host_ports


def test_fat_tree_groups_fit_the_candidate_table():
    plans = plan_fabric(fat_tree(k=4), FabricConfig())
    assert max(len(g.ports) for p in plans.values() for g in p.groups.values()) <= 8


def test_ecn_slope_gives_pmax_at_kmax():
    ecn = Ecn(kmin=5, kmax=25, pmax=0.5)
    # fabric.p4 marks when (depth - kmin) * slope > uniform(0..65535)
    assert (ecn.kmax - ecn.kmin) * ecn.slope == pytest.approx(0.5 * 65536, rel=1e-3)
    with pytest.raises(FabricError):
        Ecn(kmin=10, kmax=10)
    with pytest.raises(FabricError):
        Ecn(kmin=1, kmax=10, pmax=0)


def test_bad_inputs_are_fabric_errors(topo):
    with pytest.raises(FabricError, match="routing mode"):
        Mode.parse("fastest")
    assert Mode.parse("Flowlet") is Mode.FLOWLET
    with pytest.raises(FabricError, match="IPv4"):
        Watch(src="10.0.1")
    with pytest.raises(FabricError):
        plan_fabric(topo, FabricConfig(collector="nobody"))
