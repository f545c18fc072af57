"""Failures on purpose: checked against the topology, turned into liveness masks that
fabric.p4 switches (over P4Runtime) obey at the next packet, and run on a schedule."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from controller.failures import (Failure, dead_port_masks, plan_link_failure,
                                 plan_switch_failure, run_failure, set_dead_ports)
from controller.fabric_plan import Mode
from fabriclab.errors import FabricError
from topologies.addressing import Addressing
from topologies.builders import leaf_spine

TOPO = leaf_spine(2, 2, 2)


def uplink(leaf: str, spine: str) -> int:
    return next(p for p, peer, _, _ in TOPO.neighbors(leaf) if peer == spine)


def test_link_failure_ports_and_masks():
    f = plan_link_failure(TOPO, "l1", "s1", at_s=1.5, for_s=2)
    assert set(f.ports) == {("l1", uplink("l1", "s1")), ("s1", uplink("s1", "l1"))}
    assert (f.at_s, f.for_s) == (1.5, 2)
    masks = dead_port_masks(TOPO, f.ports)
    assert masks["l1"] == 1 << uplink("l1", "s1") and masks["l2"] == 0
    # a host link: only the switch end is a switch port
    assert len(plan_link_failure(TOPO, "h1", "l1").ports) == 1


def test_switch_failure_takes_every_link_of_the_switch():
    f = plan_switch_failure(TOPO, "s1")
    masks = dead_port_masks(TOPO, f.ports)
    assert masks["l1"] == 1 << uplink("l1", "s1") and masks["l2"] == 1 << uplink("l2", "s1")
    assert masks["s2"] == 0 and bin(masks["s1"]).count("1") == 2


@pytest.mark.parametrize("call, message", [
    (lambda: plan_link_failure(TOPO, "l1", "l2"), "fail link l1 l2: l1 and l2 are not linked"),
    (lambda: plan_link_failure(TOPO, "l1", "x9"), "fail link l1 x9: no node 'x9'"),
    (lambda: plan_link_failure(TOPO, "l1", "s1", at_s=-1), "--at -1 is negative"),
    (lambda: plan_link_failure(TOPO, "l1", "s1", for_s=-2), "--for -2 must be positive"),
    (lambda: plan_switch_failure(TOPO, "h1"), "fail switch h1: no switch 'h1'"),
])
def test_bad_failures(call, message):
    with pytest.raises(FabricError, match=message):
        call()


def test_run_failure_schedule():
    log = []
    run_failure(Failure("x", (("l1", 3),), at_s=2, for_s=5),
                lambda ports, up: log.append((tuple(ports), up)), sleep=log.append)
    assert log == [2, ((("l1", 3),), False), 5, ((("l1", 3),), True)]


# The loopback switch's clock is real time: flowlet's gap is a minute here, so whether a
# flow "keeps its flowlet" never depends on how fast a loaded machine runs the test (with
# the 50 ms default, a busy CPU between two loops re-picked flows: the old flaky case).
FLOWLET_GAP_US = 60_000_000


@pytest.mark.parametrize("mode", [Mode.ECMP, Mode.FLOWLET, Mode.ADAPTIVE])
def test_dead_port_is_skipped_before_any_regroup(fabric, mode):
    """The controller only writes the liveness mask (groups unchanged): no flow leaves l1
    on the dead uplink; with the mask cleared, new choices use both uplinks again, except
    flowlets, which stay where the failure moved them while their packets keep coming."""
    ctl, switches = fabric
    ctl.set_mode(mode, flowlet_gap_us=FLOWLET_GAP_US)
    a = Addressing(TOPO)
    nic = a.host_nics("h1")[0]

    def out_ports() -> set[int]:
        ports = set()
        for sport in range(40000, 40032):
            pkt = (Ether(src=nic.mac, dst=nic.gateway_mac) / IP(src=str(nic.ip.ip), dst=str(a.ip("h3")))
                   / UDP(sport=sport, dport=5000))
            out = switches["l1"].receive(nic.switch_port, bytes(pkt))
            assert len(out) == 1
            ports.add(out[0][0])
        return ports

    both = {uplink("l1", "s1"), uplink("l1", "s2")}
    assert out_ports() == both
    failure = plan_link_failure(TOPO, "l1", "s1")
    set_dead_ports(ctl.clients, dead_port_masks(TOPO, failure.ports))
    assert out_ports() == {uplink("l1", "s2")}
    set_dead_ports(ctl.clients, dead_port_masks(TOPO, []))
    # flowlets moved off the dead port stay where they are (no reordering back)
    assert out_ports() == ({uplink("l1", "s2")} if mode == Mode.FLOWLET else both)
