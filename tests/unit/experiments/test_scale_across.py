"""The scale_across experiment end to end in virtual time, reduced: 300 km only, a small buffer
and an intra-site window to match; files, rows, the acceptance ratio, the intra-site probes and
the headline; the parameters of both modes and the border role the controller installs."""

import json

import pytest

from experiments import scale_across
from experiments.scale_across.params import params_for, probe_hosts, rank_hosts, spec_for, stack_for, topology
from fabriclab.errors import FabricError
from topologies.graph import NodeKind


def test_reduced_run_adaptive_hier_beats_baseline_far_away(tmp_path):
    lines = []
    result = scale_across.run("quick", tmp_path, lines.append, distances_km=(300,),
                              nbytes=256 << 10, window=8, probe_interval_us=10)
    assert not result.errors
    assert len(result.rows) == 3
    assert all(r["wrong"] == 0 for r in result.rows)
    bus = {r["scheme"]: r["busbw_gbs"] for r in result.rows}
    assert bus["adaptive"] > bus["baseline"]
    assert bus["adaptive_hier"] >= 1.5 * bus["baseline"]  # the acceptance ratio at 300 km
    doc = json.loads(result.files.json.read_text())
    assert doc["headline"].startswith("adaptive/baseline busbw at 300 km")
    assert doc["summary"]["ratio_at_longest"]["allreduce"]["adaptive_hier"] >= 1.5
    assert result.files.png.stat().st_size > 0 and result.files.csv.exists()
    assert lines[-1] == doc["headline"]
    assert any(line.startswith("  [300 km 1/3] allreduce baseline") for line in lines)
    for r in result.rows:  # the probes ran in both sites over the whole collective, one stream each
        assert r["probe_p99_us"] >= r["probe_idle_p99_us"] * 0.5 > 0
        assert 2 * (r["sim_ms"] * 100 - 2) <= r["probes"] <= 2 * (r["sim_ms"] * 100 + 1)


def test_a_probe_sends_one_stream_per_case():
    """A probe started, stopped and started again (two cases on one fabric) measures one
    stream in the second case: the first case's pending post does not fire into it, and its
    WRITE still in flight at the stop is no sample of the second."""
    from controller.fabric_plan import BorderPolicy, FabricConfig
    from experiments.scale_across.sim import probes
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick")
    fabric = Fabric(topology(p, 0), FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=p.pmtu + 100))))
    probe = probes(p, fabric)[0]
    probe.start(1000)
    fabric.run(until_ns=fabric.now + 50_100)  # 100 ns after a post: that WRITE is in flight
    probe.stop()
    first = probe._next_id
    assert probe._posted and 49 <= len(probe.samples) <= first
    probe.start(1000)
    t0 = fabric.now
    fabric.run(until_ns=t0 + 50_000)
    probe.stop()
    fabric.run(until_ns=fabric.now + 10_000)  # this case's last WRITEs complete
    posted = probe._next_id - first
    assert 50 <= posted <= 51 and len(probe.samples) == posted
    assert not probe._posted


def test_percentile_is_nearest_rank():
    from experiments.scale_across.sim import percentile

    assert percentile([1000 * i for i in range(1, 6)], 50) == 3.0  # ceil(2.5): the 3rd of 5
    assert percentile([1000 * i for i in range(1, 161)], 99) == 159.0  # ceil(158.4)
    assert percentile([1000 * i for i in range(1, 101)], 7) == 7.0  # 7 x 100 / 100 exactly, not 7.000001
    assert percentile([5000], 99) == 5.0 and percentile([], 99) is None


def test_headline_pairs_seeds_and_leaves_out_flat_adaptive_hier():
    """A seed the baseline failed is left out of both sides of a ratio; all-to-all has no
    hierarchical schedule, so adaptive_hier (which runs adaptive's) gets no all-to-all ratio."""
    from experiments.scale_across import summarize_runs

    p = params_for("quick", distances_km=(1000,), kinds=("allreduce", "alltoall"), seeds=(1, 2))
    bus = {("allreduce", "baseline"): (1.0, None), ("allreduce", "adaptive"): (4.0, 1.0),
           ("allreduce", "adaptive_hier"): (5.0, 5.0), ("alltoall", "baseline"): (1.0, 1.0),
           ("alltoall", "adaptive"): (2.0, 2.0), ("alltoall", "adaptive_hier"): (2.0, 2.0)}
    rows = []
    for (kind, scheme), by_seed in bus.items():
        for seed, b in zip((1, 2), by_seed):
            row = {"kind": kind, "km": 1000, "scheme": scheme, "seed": seed, "retransmissions": 0, "wrong": 0,
                   "time_us": 1.0}
            rows.append({**row, "busbw_gbs": b} if b is not None else {**row, "error": "timed out"})
    s = summarize_runs(rows, p)
    assert s["ratio_at_longest"] == {"allreduce": {"adaptive": 4.0, "adaptive_hier": 5.0},
                                     "alltoall": {"adaptive": 2.0}}
    assert s["headline"].endswith("allreduce adaptive 4.00x, allreduce adaptive_hier 5.00x, alltoall adaptive "
                                  "2.00x, alltoall no adaptive_hier ratio (no hierarchical schedule: adaptive_hier "
                                  "runs adaptive's flat one); ratios of means over the seeds where both sides "
                                  "succeeded")


def test_topology_schemes_and_bad_parameters():
    p = params_for("quick")
    t = topology(p, 1000)
    dci = [lk for lk in t.links if t.nodes[lk.a].kind is NodeKind.BORDER
           and t.nodes[lk.b].kind is NodeKind.BORDER]
    assert [lk.ab.delay_us for lk in dci] == [5000] and dci[0].ab.bw == 100_000
    assert len(t.hosts()) == 2 * p.nranks and p.nranks == 4  # a probe host beside each rank
    assert rank_hosts(p, t) == ["h1", "h3", "h5", "h7"] and probe_hosts(p, t) == [("h2", "h4"), ("h6", "h8")]
    assert spec_for(p, "allreduce", "adaptive_hier").algo == "hier"
    assert spec_for(p, "allreduce", "adaptive").algo == "ring"
    base = stack_for(p, "baseline").nic_config("10.0.0.1").qp
    adaptive = stack_for(p, "adaptive").nic_config("10.0.0.1").qp
    assert (base.adaptive, base.window) == (False, p.window)
    assert adaptive.adaptive and adaptive.bdp_rate == 400e9 and adaptive.window == p.window
    assert params_for("full").sites == 3
    assert base.rto_ns == 20_000_000 and stack_for(p, "baseline").nic_config("10.0.0.1").dcqcn is not None
    for bad in ({"distances_km": (-1,)}, {"sites": 1}, {"schemes": ("nope",)}, {"dci_gbps": 0}, {"rto_ms": 0},
                {"dcqcn_rtt_us": -1}, {"probe_interval_us": 0}, {"probe_max_ms": 0}):
        with pytest.raises(FabricError):
            params_for("quick", **bad)
    e = params_for("quick", mode="emulate")
    assert e.distances_km == (0, 2000) and e.one_way_us[2000] == 10_000 and e.hosts_per_leaf == 2
    assert rank_hosts(e, topology(e, 2000)) == ["h1", "h2", "h3", "h4"] and not probe_hosts(e, topology(e, 0))
    # Mininet's hosts run the same stack as sim's, its timers scaled to the emulated site
    nic = stack_for(e, "baseline").nic_config("10.0.0.1")
    assert nic.qp.rto_ns == 100_000_000 and nic.dcqcn is not None and nic.dcqcn.cnp_interval_ns == 5_000_000
    full = params_for("full", mode="emulate")
    assert full.nbytes // full.nranks > full.window * full.pmtu  # an all-to-all's share per peer > one window


def test_border_role_installed_from_the_topology():
    """The controller knows each switch's site and the DCI delay: a border's DCI port gets
    ECN and notification thresholds scaled to that DCI's BDP, written to the switch."""
    from controller.fabric_plan import BorderPolicy, FabricConfig
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick", probe=False, leaves=1)
    near, far = (Fabric(topology(p, km), FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=4196))))
                 for km in (10, 1000))
    plans = {km: {n: pl for n, pl in f.controller.plans.items()} for km, f in ((10, near), (1000, far))}
    assert {pl.role for pl in plans[10].values()} == {"leaf", "spine", "border"}
    assert {n: pl.site for n, pl in plans[10].items()} == {"s1": 0, "l1": 0, "b1": 0, "s2": 1, "l2": 1, "b2": 1}
    (dci_near,) = plans[10]["b1"].dci_ports.values()
    (dci_far,) = plans[1000]["b1"].dci_ports.values()
    assert (dci_near.peer, dci_near.peer_site, dci_near.delay_us) == ("b2", 1, 50)
    assert dci_far.delay_us == 5000 and dci_far.bdp_frames > 50 * dci_near.bdp_frames
    assert dci_far.ecn.kmin > dci_near.ecn.kmax and dci_far.notify_threshold > dci_near.notify_threshold
    assert not plans[10]["l1"].dci_ports
    entries = far.clients["b1"].read_table("FabricIngress.border.dci_ports")
    assert len(entries) == 1
    text = far.controller.border("b1")
    assert "site 0, role border" in text and f"{dci_far.notify_threshold}" in text
    assert far.controller.border("l1") == "l1: site 0, role leaf"


def dci_incast(border: bool) -> tuple[dict, int, int]:
    """Two senders of site 0 at 10 Gb/s into one 10 Gb/s DCI of 100 km for 10 ms (virtual),
    DCQCN hosts: (per host (switch CNPs, CNPs), the DCI port's deepest queue, packets acked)."""
    from controller.fabric_plan import BorderPolicy, FabricConfig
    from fabriclab.roce.nic import RoceNic
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick", probe=False, leaves=1, ranks_per_leaf=2, nic_gbps=10, dci_gbps=10)
    topo = topology(p, 100)
    policy = BorderPolicy(frame_bytes=p.pmtu + 100) if border else None
    fabric = Fabric(topo, FabricOptions(config=FabricConfig(border=policy)))
    stack = stack_for(p, "adaptive")
    nics = {h: RoceNic(stack.nic_config(fabric.endpoint(h).ip)) for h in ("h1", "h2", "h3", "h4")}
    qps = []
    for i, (src, dst) in enumerate((("h1", "h3"), ("h2", "h4"))):
        nics[dst].register(0x10 + i, 1 << 20)
        qps.append(nics[src].connect(0x100 + i, fabric.endpoint(dst).ip, 0x200 + i))
        nics[dst].connect(0x200 + i, fabric.endpoint(src).ip, 0x100 + i)
        for w in range(40):
            qps[-1].post_write(w, bytes(1 << 20), 0, 0x10 + i)
    for host, nic in nics.items():
        fabric.endpoint(host).attach(nic)
        fabric.endpoint(host).kick()
    fabric.run(until_ns=10_000_000)
    (dci_port,) = [port for port, peer, _, _ in topo.neighbors("b1") if topo.nodes[peer].kind is NodeKind.BORDER]
    depth = fabric.controller.port_stats("b1")[dci_port].max_qdepth
    return ({h: (n.counters.switch_cnps, n.counters.cnps_received) for h, n in nics.items()}, depth,
            sum(q.una for q in qps))


def test_near_source_notification_bounds_the_dci_queue():
    """The border notifies the senders of its own site (a site RTT away, not the DCI's 1 ms)
    once the DCI queue holds 10 % of its BDP: DCQCN cuts early and the queue stays short,
    where without the role nothing tells the senders and the deep buffer fills."""
    cnps, depth, acked = dci_incast(True)
    cnps_off, depth_off, acked_off = dci_incast(False)
    assert cnps["h1"][0] > 0 and cnps["h2"][0] > 0 and cnps["h3"] == cnps["h4"] == (0, 0)
    assert all(c == (0, 0) for c in cnps_off.values())
    assert depth < depth_off / 4
    assert acked > 0.8 * acked_off  # notified, not starved


def test_int_crosses_the_dci_and_hpcc_takes_the_paths_rtt():
    """An INT-to-the-receiver stack collects a record at all six switches, both borders
    included (a border is no sink), and the adaptive HPCC sender takes T from the 100 km
    path's RTT (1 ms) instead of the configured 10 us."""
    from controller.fabric_plan import BorderPolicy, FabricConfig, Watch
    from fabriclab.roce.framing import ROCE_PORT
    from fabriclab.roce.hpcc import HpccParams
    from fabriclab.roce.nic import NicConfig, RoceNic
    from fabriclab.roce.qp import QpConfig
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick", probe=False, leaves=1, ranks_per_leaf=1, nic_gbps=10, dci_gbps=10)
    topo = topology(p, 100)
    fabric = Fabric(topo, FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=4196),
                                                            watchlist=[Watch(dport=ROCE_PORT, to_host=True)])))
    qp = QpConfig(pmtu=4096, window=32, ack_every=1, rto_ns=20_000_000, adaptive=True, bdp_rate=10e9,
                  max_window=4096)
    nics = {h: RoceNic(NicConfig(fabric.endpoint(h).ip, line_rate=10e9, qp=qp, hpcc=HpccParams(10e9, 10_000),
                                 cc="hpcc", adaptive_cc=True, int_host_clock=True)) for h in ("h1", "h2")}
    one_write(fabric, nics, "h1", "h2", 1 << 20, until_ns=50_000_000)
    assert [c.kind for _, c in nics["h1"].completions] == ["write"]
    rp = nics["h1"].reaction_point(1)
    ids = {pl.switch_id: name for name, pl in fabric.controller.plans.items()}
    assert [ids[h.switch_id] for h in rp._last] == ["l1", "s1", "b1", "b2", "s2", "l2"]
    assert 1_000_000 <= rp.p.base_rtt_ns < 1_100_000


def one_write(fabric, nics, src, dst, nbytes, until_ns):
    """One RDMA write of `nbytes` from `src` to `dst` (QPs 1 and 2, memory region 9) across
    the fabric, every NIC attached, run until `until_ns`."""
    nics[dst].register(9, nbytes)
    nics[src].connect(1, fabric.endpoint(dst).ip, 2).post_write(1, bytes(nbytes), 0, 9)
    nics[dst].connect(2, fabric.endpoint(src).ip, 1)
    for host, nic in nics.items():
        fabric.endpoint(host).attach(nic)
        fabric.endpoint(host).kick()
    fabric.run(until_ns=until_ns)


class Capture:
    """A collector host's 'NIC' in virtual time: keeps every frame (the INT reports)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def receive_mac_control(self, frame: bytes, now: int) -> bool:
        self.frames.append(frame)
        return True

    def poll(self, now: int) -> list:
        return []

    def next_wakeup(self) -> None:
        return None


def test_controller_measures_the_dci_latency_with_int(tmp_path):
    """INT reports of a flow across a 300 km DCI give the controller the DCI's one-way
    latency (leaving one border to entering the other), which ctl stats shows beside the
    topology's: from the run's collector CSV, as a fresh `ctl stats` process reads it."""
    from controller.cli import dci_from_int
    from controller.int_collector import CsvLog
    from controller.fabric_plan import BorderPolicy, FabricConfig, Watch
    from controller.int_collector import decode_report
    from fabriclab.roce.framing import ROCE_PORT
    from fabriclab.roce.nic import NicConfig, RoceNic
    from fabriclab.roce.qp import QpConfig
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick", probe=False, leaves=1, ranks_per_leaf=2, nic_gbps=10, dci_gbps=10)
    topo = topology(p, 300)
    fabric = Fabric(topo, FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=4196), collector="h2",
                                                            watchlist=[Watch(dport=ROCE_PORT)])))
    collector = Capture()
    fabric.endpoint("h2").attach(collector)
    qp = QpConfig(pmtu=1024, window=32, rto_ns=20_000_000)
    nics = {h: RoceNic(NicConfig(fabric.endpoint(h).ip, line_rate=10e9, qp=qp)) for h in ("h1", "h3")}
    one_write(fabric, nics, "h1", "h3", 64 << 10, until_ns=20_000_000)
    reports = [decode_report(f[42:]) for f in collector.frames if f[36:38] == (32766).to_bytes(2, "big")]
    assert len(reports) > 10
    ctl = fabric.controller
    assert ctl.border("b1").splitlines()[2].split()[5] == "-"  # nothing measured yet
    csv_path = tmp_path / "int.csv"
    log = CsvLog(csv_path)
    for i, report in enumerate(reports):
        log.add(i * 1e-3, report)
    log.close()
    assert dci_from_int(ctl, "l1", csv_path) is None  # not a border
    assert dci_from_int(ctl, "b1", csv_path) == f"  measured from {len(reports)} INT report(s) in {csv_path}"
    measured = ctl.measured_dci
    (b1_port,) = ctl.plans["b1"].dci_ports
    assert 1500 <= measured[("b1", b1_port)] <= 1502  # 300 km at 5 us/km (+ us timestamps)
    assert ctl.border("b1").splitlines()[2].split()[5] == f"{measured[('b1', b1_port)]:g}"
    (tmp_path / "bad.csv").write_text("not,a,collector\n")
    assert "not an INT collector CSV" in dci_from_int(ctl, "b1", tmp_path / "bad.csv")
    assert dci_from_int(ctl, "b1", tmp_path / "none.csv") is None


def test_dci_latency_cancels_the_switches_clock_offsets():
    """Each switch's clock starts with the switch (simple_switch's too), so on Mininet one
    direction's INT crossing reads the DCI plus the two clocks' offset: the controller
    reports nothing from one direction and the mean of both, where the offset cancels."""
    from controller.fabric_plan import BorderPolicy, FabricConfig
    from controller.int_collector import HopRecord, IntReport
    from fabriclab.vtime.fabric import Fabric, FabricOptions

    p = params_for("quick", probe=False, leaves=1, ranks_per_leaf=1)
    ctl = Fabric(topology(p, 300), FabricOptions(config=FabricConfig(border=BorderPolicy()))).controller
    b1, b2 = ctl.plans["b1"], ctl.plans["b2"]
    (p1,), (p2,) = b1.dci_ports, b2.dci_ports
    clock = {"b1": 0, "b2": 400_000}  # b2 started 400 ms before b1: its clock reads 400 ms more

    def crossing(a: str, a_port: int, b: str, b_port: int, sent: int) -> IntReport:
        hops = (HopRecord(ctl.plans[a].switch_id, 1, a_port, 3, 0, 0, (sent + clock[a]) % (1 << 32), 0),
                HopRecord(ctl.plans[b].switch_id, b_port, 1, 7, 0, 0, (sent + 1504 + 7 + clock[b]) % (1 << 32), 0))
        return IntReport(1, 0, 0, "10.0.1.1", "10.1.1.1", 1, 4791, hops, False)

    assert ctl.measure_dci([crossing("b1", p1, "b2", p2, 1000), crossing("b1", p1, "b2", p2, 9000)]) == {}
    assert ctl.dci_crossings == {("b1", p1): 401_504}
    assert ctl.border("b1").splitlines()[2].split()[5] == "-"
    measured = ctl.measure_dci([crossing("b2", p2, "b1", p1, 5000)])
    assert measured == {("b1", p1): 1504, ("b2", p2): 1504}
    assert ctl.border("b1").splitlines()[2].split()[5] == "1504"
    clock["b1"] = (1 << 32) - 200_000  # b1 near the top of 32 bits, b2 past the wrap: the stamps straddle it
    ctl.dci_crossings.clear()
    measured = ctl.measure_dci([crossing("b1", p1, "b2", p2, 1000), crossing("b2", p2, "b1", p1, 5000)])
    assert measured == {("b1", p1): 1504, ("b2", p2): 1504}
