"""Failures as the switches see them in virtual time (no root): `watch_ports` has both ends
of a cut notice it, write their own port signal (fast reroute) and tell the controller;
`fail_switch` is a node event. A collective through a dead spine completes correctly."""

from __future__ import annotations

import pytest

from controller.link_failure import LinkEvent, controller_handler
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.runs import run_collective
from topologies.builders import leaf_spine

OPTS = RunOptions(iters=1, warmup=0, line_rate=1e9, pmtu=1024, window=16, rto=0.0005)
SPEC = CollectiveSpec("alltoall", 4, 256 << 10)


def fabric() -> Fabric:
    return Fabric(leaf_spine(2, 2, 2, downlink_bw=1000.0, delay_us=2), seed=2)


def port_to(f: Fabric, node: str, peer: str) -> int:
    return next(p for p, n, _, _ in f.topo.neighbors(node) if n == peer)


@pytest.mark.parametrize("data_plane", [True, False])
def test_both_ends_notice_a_cut_after_the_detection_delay(data_plane):
    f, seen = fabric(), []
    f.watch_ports(lambda sw, port, up: seen.append((f.now, sw, port, up)), data_plane, detect_ns=500)
    l1, s1 = port_to(f, "l1", "s1"), port_to(f, "s1", "l1")
    f.at(1000, f.set_link, "l1", l1, False)
    f.at(5000, f.set_link, "l1", l1, True)
    f.run()
    assert sorted(seen) == [(1500, "l1", l1, False), (1500, "s1", s1, False),
                            (5500, "l1", l1, True), (5500, "s1", s1, True)]
    assert f.port_signals["l1"].down == set()
    reg = f.switches["l1"].core.registers["port_down_signal"]
    assert reg.read(0) == 0  # back up; while down it held 1 << l1 only with the data plane


def test_signal_is_in_the_register_while_down():
    f = fabric()
    f.watch_ports(lambda *_: None, data_plane=True)
    port = port_to(f, "l1", "s2")
    f.set_link("l1", port, False)
    f.run()
    assert f.switches["l1"].core.registers["port_down_signal"].read(0) == 1 << port


def test_collective_survives_a_dead_spine():
    f = fabric()
    handle = controller_handler(f.controller)
    f.watch_ports(lambda sw, port, up: f.at(f.now + 50_000, handle, LinkEvent(sw, port, up)),
                  data_plane=True, detect_ns=1000)
    f.fail_switch("s1", at_ns=200_000)
    results = run_collective(f.topo, SPEC, OPTS, seed=2, fabric=f)
    assert all(r["done"] and not r["error"] for r in results)
    assert sum(r["wrong"] for r in results) == 0
    assert f.dead_switches == {"s1"}
    assert not any(w.up for (node, _), w in f.wires.items() if node == "s1")
    for leaf in ("l1", "l2"):  # the controller took s1 out of every leaf's groups
        dead = port_to(f, leaf, "s1")
        assert all(dead not in g.ports for g in f.controller.plans[leaf].groups.values())


def test_bad_switch_failures():
    f = fabric()
    with pytest.raises(FabricError, match="no switch 'h1'"):
        f.fail_switch("h1", at_ns=0)
    with pytest.raises(FabricError, match="negative time"):
        f.fail_switch("s1", at_ns=-5)
    with pytest.raises(FabricError, match="lasts > 0 ns"):
        f.fail_switch("s1", at_ns=0, for_ns=0)
