"""The virtual-time fabric: determinism, scheduled control actions, link failure,
impairments and pcaps, on fabric.p4 programmed by the unchanged controller. No root."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import run_collective
from topologies.builders import leaf_spine

OPTS = RunOptions(iters=1, warmup=0, line_rate=1e9, pmtu=1024, window=16, rto=0.0005)
SPEC = CollectiveSpec("allreduce", 4, 64 << 10)


def topo(**kw):
    return leaf_spine(2, 2, 2, downlink_bw=1000.0, delay_us=2, **kw)


def uplink_tx(fabric: Fabric) -> dict[tuple[str, int], int]:
    """Bytes sent on every leaf -> spine port."""
    out = {}
    for leaf in ("l1", "l2"):
        for port, peer, _, _ in fabric.topo.neighbors(leaf):
            if peer.startswith("s"):
                out[(leaf, port)] = fabric.switch_tx_bytes(leaf)[port]
    return out


def run(seed: int, options: FabricOptions | None = None, t=None):
    fabric = Fabric(t or topo(), options, seed=seed)
    results = run_collective(fabric.topo, SPEC, OPTS, seed=seed, fabric=fabric)
    return fabric, results


def assert_correct(results):
    for r in results:
        assert r["done"] and r["error"] is None and r["wrong"] == 0, r


def test_same_seed_same_results_other_seed_other_paths():
    f1, r1 = run(1)
    f2, r2 = run(1)
    f3, r3 = run(2)
    assert_correct(r1)
    assert r1 == r2 and uplink_tx(f1) == uplink_tx(f2) and f1.now == f2.now
    assert [r["sports"] for r in r1] != [r["sports"] for r in r3]
    assert uplink_tx(f1) != uplink_tx(f3)  # other source ports hash onto other uplinks


def test_frames_cross_the_compiled_pipeline():
    fabric, results = run(1)
    assert_correct(results)
    # every rank's traffic crossed a leaf: the leaves' P4 counters saw it
    stats = fabric.controller.port_stats("l1")
    assert sum(s.rx_packets for s in stats.values()) > 0
    assert sum(s.tx_packets for s in stats.values()) == sum(
        fabric.switches["l1"].tm.ports[p].tx_packets for p in fabric.switches["l1"].tm.ports)


def test_mode_switch_at_a_scheduled_instant():
    fabric = Fabric(topo())
    seen = []

    def mode_now():
        call = fabric.switches["l1"].core.tables["FabricIngress.routing_mode"].default_action
        seen.append((fabric.now, call.args[0]))

    fabric.at(4_000, mode_now)
    fabric.at(5_000, fabric.controller.set_mode, "adaptive")
    fabric.at(6_000, mode_now)
    fabric.run()
    assert [t for t, _ in seen] == [4_000, 6_000]
    assert seen == [(4_000, 0), (6_000, 2)]  # Mode.ECMP, then Mode.ADAPTIVE


def test_link_failure_at_a_scheduled_instant_and_reroute():
    healthy, _ = run(3)
    busiest = max((tx, port) for (leaf, port), tx in uplink_tx(healthy).items() if leaf == "l1")[1]
    fabric = Fabric(topo(), seed=3)
    fabric.fail_link("l1", busiest, at_ns=100_000, reroute_after_ns=50_000)
    wire = fabric.wires[("l1", busiest)]
    drained = []  # dead-link drops once the queue toward it has emptied after the reroute
    fabric.at(400_000, lambda: drained.append(wire.stats.down_drops))
    results = run_collective(fabric.topo, SPEC, OPTS, seed=3, fabric=fabric)
    assert_correct(results)  # go-back-N resent what the cut link swallowed
    assert fabric.now > 400_000
    assert not wire.up and not fabric.wires[("s" + str(busiest - 2), 1)].up
    assert wire.stats.frames > 0 and wire.stats.down_drops > 0
    assert sum(r["qp"]["retransmissions"] + r["qp"]["timeouts"] for r in results) > 0
    assert drained == [wire.stats.down_drops]  # nothing routed into it after the reroute
    assert all(busiest not in g.ports for g in fabric.controller.plans["l1"].groups.values()
               if len(g.ports) > 1)


def test_link_comes_back_up_at_a_scheduled_instant():
    fabric = Fabric(topo(), seed=3)
    fabric.fail_link("l1", 4, at_ns=100_000, reroute_after_ns=50_000)  # seed 3 hashes onto 4
    fabric.at(600_000, fabric.set_link, "l1", 4, True)
    fabric.at(610_000, fabric.controller.link_up, "l1", 4)
    wire, carried = fabric.wires[("l1", 4)], []
    fabric.at(600_000, lambda: carried.append(wire.stats.frames))
    results = run_collective(fabric.topo, SPEC, OPTS, seed=3, fabric=fabric)
    assert_correct(results)
    assert wire.up and fabric.now > 610_000
    assert wire.stats.frames > carried[0]  # back in its group, and carrying again
    assert any(4 in g.ports for g in fabric.controller.plans["l1"].groups.values())


@pytest.mark.parametrize("kind,counter", [("loss", "retransmissions"),
                                          ("reorder", "out_of_order"),
                                          ("duplicate", "duplicates")])
def test_impairments_are_seeded_and_survived(kind, counter):
    imp = Impairments(**{kind: 0.05})
    f1, r1 = run(5, FabricOptions(impairments=imp))
    _, r2 = run(5, FabricOptions(impairments=imp))
    assert_correct(r1)
    assert r1 == r2
    assert sum(r["qp"][counter] for r in r1) > 0
    stat = {"loss": "lost", "reorder": "reordered", "duplicate": "duplicated"}[kind]
    assert sum(getattr(w.stats, stat) for w in f1.wires.values()) > 0


def test_pcaps_decode_as_roce(tmp_path):
    scapy = pytest.importorskip("scapy.all")
    fabric, results = run(1, FabricOptions(pcap_dir=tmp_path))
    fabric.close()
    assert_correct(results)
    path = tmp_path / "l1-eth1_in.pcap"  # what h1 sent
    frames = scapy.rdpcap(str(path))
    assert len(frames) > 10
    first = frames[0]
    assert first["IP"].src == str(fabric.addressing.ip("h1"))
    assert first["UDP"].dport == 4791 and first["IP"].tos & 3 == 2  # ECT(0)
    recomputed = first["IP"].copy()
    del recomputed.chksum
    assert scapy.IP(bytes(recomputed)).chksum == first["IP"].chksum
    assert float(frames[-1].time) < 1.0  # virtual timestamps, not wall clock
    if shutil.which("tshark"):
        done = subprocess.run(["tshark", "-r", str(path), "-c", "5", "-T", "fields",
                               "-e", "infiniband.bth.opcode", "-e", "infiniband.bth.destqp"],
                              capture_output=True, text=True, timeout=60)
        rows = [line.split("\t") for line in done.stdout.splitlines() if line.strip()]
        assert len(rows) == 5 and all(r[0] for r in rows), done.stdout + done.stderr


def test_bad_parameters_are_one_line_errors():
    with pytest.raises(FabricError, match="rate must be"):
        leaf_spine(2, 2, 2, downlink_bw=0)
    with pytest.raises(FabricError, match="delay must be >= 0"):
        leaf_spine(2, 2, 2, delay_us=-1)
    with pytest.raises(FabricError, match="probability"):
        Impairments(loss=1.5)
    with pytest.raises(FabricError, match="queue size"):
        FabricOptions(queue_bytes=0)
    with pytest.raises(FabricError, match="negative time"):
        Fabric(topo()).at(-1, print)
    with pytest.raises(FabricError, match="no link"):
        Fabric(topo()).fail_link("l1", 99, at_ns=0)


def test_star_runs_every_collective_kind_correctly():
    from fabriclab.vtime.runs import star

    t = star(3, bw_mbps=1000.0, delay_us=5)
    assert [n for n, _, _, _ in t.neighbors("sw1")] == [1, 2, 3]
    for kind in ("allgather", "alltoall", "gather", "sendrecv"):
        results = run_collective(t, CollectiveSpec(kind, 3, 12 << 10), OPTS, seed=1)
        assert_correct(results)
    with pytest.raises(FabricError, match="at least one host"):
        star(0)


def test_traffic_manager_changes_at_run_time():
    from fabriclab.vtime.runs import star

    spec = CollectiveSpec("sendrecv", 2, 64 << 10)
    t = star(2, bw_mbps=1000.0)
    plain = run_collective(t, spec, OPTS, seed=1)
    fabric = Fabric(t, seed=1)
    tm = fabric.switches["sw1"].tm
    fabric.at(50_000, tm.set_port_rate, 2, 250e6)  # toward h2: a quarter of the rate
    fabric.at(50_000, tm.set_port_delay, 2, 20_000)
    slowed = run_collective(t, spec, OPTS, seed=1, fabric=fabric)
    assert_correct(plain)
    assert_correct(slowed)
    assert slowed[0]["avg_time"] > 2 * plain[0]["avg_time"]
    assert tm.stats()[2]["rate_bps"] == 250e6 and tm.stats()[2]["delay_us"] == 20
