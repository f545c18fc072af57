"""The CC manager against real switches over P4Runtime (fabric.p4 on in-process switches
behind gRPC servers on 127.0.0.1): thresholds from link rates, a deep queue in the
telemetry tightens a port, calm brings it back, every decision logged with its reason."""

from __future__ import annotations

import pytest

from controller.client import P4RuntimeClient
from controller.congestion import CcManager, CcPolicy, dcqcn_ecn
from controller.fabric import EG, FABRIC_P4, IG, FabricController
from controller.int_collector import HopRecord, IntReport
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import compile_builtin
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve
from topologies.builders import leaf_spine


@pytest.fixture(scope="module")
def pipeline():
    return compile_builtin(FABRIC_P4)


@pytest.fixture
def fabric(pipeline):
    topo = leaf_spine(2, 2, 2, downlink_bw=25_000.0, uplink_bw=100_000.0)
    servers, clients = [], {}
    try:
        for i, sw in enumerate(topo.switches()):
            server = serve(LoopbackSwitch(device_id=i + 1), "127.0.0.1:0", i + 1)
            servers.append(server)
            c = clients[sw.name] = P4RuntimeClient(f"127.0.0.1:{server.bound_port}", i + 1)
            c.connect()
            c.set_pipeline(pipeline.p4info, pipeline.device_config)
        ctl = FabricController(topo, clients)
        ctl.install()
        yield ctl
    finally:
        for c in clients.values():
            c.close()
        for s in servers:
            s.stop(0).wait()


def ecn_entries(c: P4RuntimeClient) -> dict[int, tuple[int, int]]:
    """port -> (kmin, kmax) as the switch holds them."""
    out = {}
    for e in c.read_table(f"{EG}.ecn_config"):
        if e.is_default_action:
            continue
        port = int.from_bytes(e.match[0].exact.value, "big")
        params = [int.from_bytes(p.value, "big") for p in e.action.action.params]
        out[port] = (params[0], params[1])
    return out


def report(switch_id: int, port: int, qdepth: int) -> IntReport:
    hop = HopRecord(switch_id, 1, port, 0, 0, qdepth, 0, 0)
    return IntReport(switch_id, 0, 0, "10.0.1.1", "10.0.2.1", 50000, 4791, (hop,), False)


def test_guideline_scales_with_rate_and_rtt():
    assert dcqcn_ecn(40e9, 1_000, 1000) == dcqcn_ecn(40e9, 1_000, 1000)
    e40 = dcqcn_ecn(40e9, 1_000, 1000)
    assert (e40.kmin, e40.kmax, e40.pmax) == (5, 200, 0.01)  # 5 KB / 200 KB / 1% at 40 Gb/s
    e100 = dcqcn_ecn(100e9, 1_000, 1000)
    assert e100.kmin > e40.kmin and e100.kmax > e40.kmax
    assert dcqcn_ecn(100e9, 100_000, 1000).kmax == 1250  # Kmax >= one BDP at a long RTT


def test_sets_thresholds_from_link_rates_then_adapts_and_logs_why(fabric):
    lines: list[str] = []
    mgr = CcManager(fabric, CcPolicy(mode="adaptive", rtt_ns=8_000, frame_bytes=1100, calm_rounds=2),
                    log=lines.append)
    mgr.start()
    l1 = ecn_entries(fabric.clients["l1"])
    down, up = dcqcn_ecn(25e9, 8_000, 1100), dcqcn_ecn(100e9, 8_000, 1100)
    assert l1 == {1: (down.kmin, down.kmax), 2: (down.kmin, down.kmax),
                  3: (up.kmin, up.kmax), 4: (up.kmin, up.kmax)}
    assert up.kmax > down.kmax
    assert any("l1:3 ecn" in line and "link 100000 Mb/s" in line for line in lines)
    assert any("priorities CNP->7 ACK->6" in line for line in lines)

    # a deep queue on l1's uplink 3 (INT from the collector): halve that port only
    l1_id = fabric.plans["l1"].switch_id
    decisions = mgr.observe([report(l1_id, 3, 3 * up.kmax), report(99, 3, 10_000)])
    assert [(d.switch, d.port, d.what) for d in decisions] == [("l1", 3, "ecn")]
    assert f"queue {3 * up.kmax} pkts > 2 x Kmax {up.kmax}" in decisions[0].reason
    after = ecn_entries(fabric.clients["l1"])
    assert after[3] == (up.kmin // 2, up.kmax // 2) and after[4] == (up.kmin, up.kmax)
    assert mgr.unknown_telemetry == 1  # switch 99 is not ours: counted, ignored

    # calm (the registers read 0 over P4Runtime): back to the rate-based setting
    assert mgr.observe() == []
    relaxed = mgr.observe()
    assert [(d.switch, d.port) for d in relaxed] == [("l1", 3)]
    assert "back toward the rate-based setting" in relaxed[0].reason
    assert ecn_entries(fabric.clients["l1"])[3] == (up.kmin, up.kmax)
    assert len(lines) == len(mgr.decisions)


def test_static_policy_never_retunes_and_turns_on_int_to_host_and_notification(fabric):
    mgr = CcManager(fabric, CcPolicy(int_to_host=True, notify_dscp=26, notify_threshold=12))
    mgr.start()
    assert mgr.observe([report(fabric.plans["l1"].switch_id, 3, 10_000)]) == []
    c = fabric.clients["s1"]
    watch = [e for e in c.read_table(f"{IG}.int_watchlist") if not e.is_default_action]
    assert len(watch) == 1
    notify = [e for e in c.read_table(f"{IG}.switch_notify") if not e.is_default_action]
    assert len(notify) == 1 and int.from_bytes(notify[0].action.action.params[0].value, "big") == 12
    assert {d.what for d in mgr.decisions} >= {"ecn", "priorities", "int_to_host", "notify"}


def test_bad_policies_are_clear_errors():
    with pytest.raises(FabricError, match="one of static, adaptive"):
        CcPolicy(mode="magic")
    with pytest.raises(FabricError, match="DSCP 64"):
        CcPolicy(notify_dscp=64)
