"""The adaptive-routing experiment's pure parts: parameters, topology, case plan, workloads
(run in virtual time over the real RoCE engines), metrics, summary and figure."""

from __future__ import annotations

import pytest

from experiments.adaptive_routing import headline, plan, summarize, summary_table
from experiments.adaptive_routing.figure import draw
from experiments.adaptive_routing.host import HostJob, make_app
from experiments.adaptive_routing.metrics import case_row, uplink_loads
from experiments.adaptive_routing.params import SCALES, SCHEMES, Params, params_for, split_scheme, topology
from experiments.adaptive_routing.workload import (PermutationFlow, cross_leaf_permutation, interleaved_ring,
                                                   seeded_sport)
from fabriclab.errors import FabricError
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.rank import QPN_BASE
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.runs import run_apps, star
from topologies.graph import NodeKind


def test_scales_differ_and_overrides_apply():
    assert set(SCALES) == {"quick", "full"}
    assert len(SCALES["full"].seeds) > len(SCALES["quick"].seeds)
    p = params_for("quick", seeds=(7,), target=None)
    assert p.seeds == (7,) and p.target == "builtin"
    assert Params.from_dict(p.as_dict()) == p
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge")


@pytest.mark.parametrize("scale", ["quick", "full"])
def test_emulate_scales_keep_the_window_above_the_bdp_and_below_the_queue(scale):
    """The emulate scales run 10 Mb/s links: a QP's window must still cover a store-and-
    forward RTT over 4 hops (plus propagation), and a leaf's flows all colliding on one
    uplink must fit its queue, or the figure measures drops instead of routing."""
    p = params_for(scale)
    assert p.link_mbps == 10.0 and p.flow_bytes >= 512 << 10
    pkt_s = (p.pmtu + 100) * 8 / (p.link_mbps * 1e6)
    rtt_s = 4 * pkt_s + 4 * p.uplink_delay_us * 1e-6
    assert p.window * p.pmtu * 8 >= 2 * p.link_mbps * 1e6 * rtt_s
    assert p.window * p.hosts_per_leaf <= p.queue_pkts
    assert p.flowlet_gap_us < pkt_s * 1e6 < p.load_max_age_us


def test_emulate_scales_leave_the_sim_scales_alone():
    sim = params_for("quick", mode="sim")
    assert (sim.link_mbps, sim.allreduce_bytes, sim.flowlet_gap_us) == (100_000.0, 256 << 10, 1)
    assert (sim.flow_bytes, sim.load_max_age_us, sim.window) == (512 << 10, 2, 64)
    full = params_for("full", mode="sim")
    assert (full.leaves, full.flow_bytes, full.allreduce_bytes) == (8, 1 << 20, 256 << 10)


def test_the_demo_scale_is_the_recorded_one():
    """docs/figures/adaptive_routing_quick.* was recorded with these; `full` is 4x the bytes."""
    quick, full = params_for("quick"), params_for("full")
    assert (quick.flow_bytes, quick.allreduce_bytes) == (512 << 10, 512 << 10)
    assert (quick.flowlet_gap_us, quick.load_max_age_us) == (2_500, 10_000)
    assert (full.flow_bytes, full.allreduce_bytes, len(full.seeds)) == (2 << 20, 2 << 20, 12)


@pytest.mark.parametrize("bad", [dict(schemes=("ecmp+tcp",)), dict(schemes=()), dict(workloads=("ping",)),
                                 dict(seeds=()), dict(leaves=1), dict(target="tofino")])
def test_bad_parameters_are_clear_errors(bad):
    with pytest.raises(FabricError):
        Params(**bad)


def test_scheme_names():
    assert split_scheme("adaptive+ooo") == ("adaptive", "ooo")
    assert len(SCHEMES) == 6
    with pytest.raises(FabricError, match="ROUTING\\+RECEIVER"):
        split_scheme("adaptive")


def test_topology_is_a_non_blocking_leaf_spine_with_its_own_names():
    p = Params()
    topo = topology(p)
    leaves = [n for n in topo.switches() if n.kind is NodeKind.LEAF]
    spines = [n for n in topo.switches() if n.kind is NodeKind.SPINE]
    assert (len(leaves), len(spines), len(topo.hosts())) == (2, 4, 8)
    for leaf in leaves:
        ups = [lk for _, peer, _, lk in topo.neighbors(leaf.name) if topo.nodes[peer].kind is NodeKind.SPINE]
        downs = [lk for _, peer, _, lk in topo.neighbors(leaf.name) if not topo.nodes[peer].is_switch]
        assert sum(lk.ab.bw for lk in ups) == sum(lk.ab.bw for lk in downs) == 4 * p.link_mbps
        assert all(lk.ab.delay_us == p.uplink_delay_us for lk in ups)
    assert all(name.startswith("a") for name in topo.nodes)


def test_plan_has_one_trial_per_routing_mode_and_every_case_once():
    p = Params(seeds=(1, 2))
    groups = plan(p)
    assert list(groups) == ["ecmp", "flowlet", "adaptive"]
    cases = [tuple(c.values()) for g in groups.values() for c in g]
    assert len(cases) == len(set(cases)) == 6 * 2 * 2
    assert all(c["routing"] == r for r, g in groups.items() for c in g)
    assert [c["seed"] for c in groups["ecmp"]] == [1, 1, 1, 1, 2, 2, 2, 2]  # seed-major


def test_seeded_ports_are_deterministic_in_range_and_vary_with_the_seed():
    ports = {seeded_sport(s, 0, 4) for s in range(50)}
    assert all(49152 <= x <= 65535 for x in ports)
    assert len(ports) > 40
    assert seeded_sport(3, 1, 5) == seeded_sport(3, 1, 5) != seeded_sport(3, 5, 1)


def test_workload_placements_cross_the_spine():
    dst = cross_leaf_permutation(2, 4)
    assert sorted(dst) == list(range(8))
    assert all(i // 4 != d // 4 for i, d in enumerate(dst))
    ring = interleaved_ring(2, 4)
    assert sorted(ring) == list(range(8))
    assert all(ring[i] // 4 != ring[(i + 1) % 8] // 4 for i in range(8))


def _job(workload: str, receiver: str = "gbn", **kw) -> HostJob:
    return HostJob(workload, 64 << 10, seed=5, line_rate=10e6, pmtu=4096, window=24, receiver=receiver,
                   rto=0.5, timeout=10.0, **kw)


def test_agents_give_each_queue_pair_its_seeded_port():
    peers = [(f"10.0.0.{i + 1}", 4791) for i in range(4)]
    nic, _ = make_app(_job("permutation", dst=2, src=2), 0, peers)
    assert nic.sports == {QPN_BASE + 2: seeded_sport(5, 0, 2)}
    nic, app = make_app(_job("allreduce", ring=[0, 2, 1, 3]), 2, peers)
    assert app.rank == 1 and set(nic.sports) == {QPN_BASE + r for r in (0, 2, 3)}
    with pytest.raises(FabricError):
        make_app(_job("allreduce", ring=[0, 0, 1, 3]), 2, peers)


@pytest.mark.parametrize("receiver", ["gbn", "ooo"])
def test_permutation_flows_complete_in_virtual_time_at_line_rate(receiver):
    """Four hosts, two cross pairs, over a fabric.p4 star in virtual time: every flow finishes
    with the right byte count, near the line rate (one flow per receiving port)."""
    fabric = Fabric(star(4, bw_mbps=10, delay_us=100), FabricOptions(queue_bytes=1 << 20), seed=1)
    addrs = [(fabric.endpoint(f"h{i + 1}").ip, 4791) for i in range(4)]
    dst = [2, 3, 0, 1]
    opts = RunOptions(line_rate=10e6, pmtu=4096, window=24, mode=receiver, rto=0.5)
    apps = {}
    for i in range(4):
        nic = RoceNic(opts.nic_config(*addrs[i]))
        apps[f"h{i + 1}"] = (nic, PermutationFlow(nic, i, addrs, dst[i], dst.index(i), 128 << 10))
    run_apps(fabric, apps, limit_ns=10 * 10**9)
    for _, f in apps.values():
        s = f.summary()
        assert s["done"] and s["error"] is None
        goodput = s["bytes"] * 8 / s["time"]
        assert 0.8 * 10e6 < goodput <= 10e6


def _record(workload: str, scheme: str, seed: int, times: list[float], up_bytes: list[int]) -> dict:
    routing, receiver = split_scheme(scheme)
    qp = {"retransmissions": 2, "timeouts": 0, "naks_sent": 1, "out_of_order": 3}
    if workload == "permutation":
        hosts = [{"bytes": 125_000, "time": t, "error": None, "qp": qp} for t in times]
    else:
        hosts = [{"size": 125_000, "avg_time": t, "error": None, "wrong": 0, "qp": qp} for t in times]
    return {"case": {"routing": routing, "receiver": receiver, "workload": workload, "seed": seed},
            "hosts": hosts, "uplinks": {"al1": {"5": "as1", "6": "as2"}},
            "leaf_tx_bytes": {"al1": {"5": up_bytes[0], "6": up_bytes[1], "1": 999}}}


def test_permutation_row_is_mean_flow_goodput_as_percent_of_link_rate():
    p = Params(link_mbps=1.0, hosts_per_leaf=2, spines=2)
    # 125 kB in 1 s at 1 Mb/s = 100 %; in 2 s = 50 %
    row = case_row(_record("permutation", "ecmp+gbn", 3, [1.0, 2.0, 1.0, 2.0], [250_000, 0]), p)
    assert row["pct_ideal"] == pytest.approx(75.0)
    assert (row["min_flow_pct"], row["max_flow_pct"]) == (pytest.approx(50.0), pytest.approx(100.0))
    assert row["retransmissions"] == 8 and row["out_of_order"] == 12
    assert row["scheme"] == "ecmp+gbn" and row["seed"] == 3
    # 250 kB in the case's 2 s on a 1 Mb/s uplink: 100 %
    assert uplink_loads(row) == {"al1-as1": pytest.approx(100.0), "al1-as2": 0.0}


def test_allreduce_row_is_busbw_of_the_slowest_rank():
    p = Params(link_mbps=1.0, hosts_per_leaf=2, spines=2)
    row = case_row(_record("allreduce", "adaptive+ooo", 1, [1.0, 1.75, 1.0, 1.0], [0, 0]), p)
    # 1 Mb in 1.75 s, times 2(n-1)/n = 1.5 for 4 ranks
    assert row["busbw_mbps"] == pytest.approx(1.5 / 1.75)
    assert row["pct_ideal"] == pytest.approx(100 * 1.5 / 1.75)


def test_allreduce_uplink_load_covers_every_iteration():
    """The leaves' counters hold all of an all-reduce's iterations, its time is one
    iteration's: 250 kB over 2 iterations of 1 s on a 1 Mb/s uplink is 100 %, not 200 %."""
    p = Params(link_mbps=1.0, hosts_per_leaf=2, spines=2)
    rec = _record("allreduce", "ecmp+gbn", 1, [1.0] * 4, [250_000, 0])
    for h in rec["hosts"]:
        h["iters"] = 2
    assert uplink_loads(case_row(rec, p)) == {"al1-as1": pytest.approx(100.0), "al1-as2": 0.0}


def test_failed_case_has_no_percent_and_says_why():
    p = Params(link_mbps=1.0)
    rec = _record("permutation", "ecmp+gbn", 1, [1.0, 1.0], [0, 0])
    rec["hosts"][1].update(error="host 1: timed out after 10 s", time=None)
    row = case_row(rec, p)
    assert row["pct_ideal"] is None and "timed out" in row["error"]


def _rows(p: Params) -> list[dict]:
    rows = []
    for seed, ecmp_times in zip(p.seeds, ([1.0, 2.0, 1.0, 2.0], [2.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0])):
        for scheme, times in (("ecmp+gbn", ecmp_times), ("adaptive+ooo", [1.1] * 4)):
            for workload in p.workloads:
                rows.append(case_row(_record(workload, scheme, seed, times, [125_000, 125_000]), p))
    return rows


def test_ecmp_expectation_is_the_share_of_links_hit():
    from experiments.adaptive_routing.figure import ecmp_expectation

    assert ecmp_expectation(4, 4) == pytest.approx(100 * (1 - 0.75 ** 4))  # ~68 %
    assert ecmp_expectation(1, 4) == pytest.approx(100.0)


def test_summary_and_table_compare_schemes_over_seeds(tmp_path):
    p = Params(link_mbps=1.0, hosts_per_leaf=2, spines=2, seeds=(1, 2, 3), schemes=("ecmp+gbn", "adaptive+ooo"))
    summary = summarize(_rows(p), p)
    perm = {s["scheme"]: s for s in summary if s["workload"] == "permutation"}
    assert perm["ecmp+gbn"]["pct_mean"] == pytest.approx((75 + 50 + 100) / 3)
    assert perm["ecmp+gbn"]["pct_spread"] == pytest.approx(50.0)
    assert perm["adaptive+ooo"]["pct_spread"] == pytest.approx(0.0)
    assert perm["adaptive+ooo"]["busbw_mbps"] is None
    table = summary_table(summary)
    assert "adaptive+ooo" in table and "% ideal" in table.splitlines()[0]
    path = tmp_path / "fig.png"
    draw(_rows(p), p, path)
    assert path.stat().st_size > 10_000


def test_headline_ratio_pairs_the_seeds_both_schemes_finished():
    """ECMP failed seed 3 (its best, 100 %): the ratio is over seeds 1 and 2 for both schemes,
    not adaptive's three seeds over ECMP's two."""
    p = Params(link_mbps=1.0, hosts_per_leaf=2, spines=2, seeds=(1, 2, 3), schemes=("ecmp+gbn", "adaptive+ooo"),
               workloads=("permutation",))
    rows = _rows(p)
    for r in rows:
        if r["scheme"] == "ecmp+gbn" and r["seed"] == 3:
            r.update(pct_ideal=None, error="timed out")
    head = headline(summarize(rows, p), rows)
    assert head["adaptive_over_ecmp_permutation"] == pytest.approx(round(100 / 1.1 / ((75 + 50) / 2), 3))
