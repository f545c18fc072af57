"""congestion_control in virtual time (no root): the 7:1 incast and its victim at 100 Gb/s,
and long flows mixed with short ones. PFC alone keeps the fabric lossless but the victim,
sharing the upstream links, collapses (head-of-line blocking); with DCQCN or HPCC on top it
recovers; HPCC keeps the bottleneck queue shorter than DCQCN at >= 90% wire utilisation
(>= 80% goodput: its INT bytes are not goodput), and short flows finish closer to their
ideal time while the long ones keep the link busy. The trials run in 2 worker processes and
write what a serial run writes; one run writes the CSV, JSON (headline last) and figure.
The metrics cover the measured window: short flows started after the warm-up (unfinished
ones at their lower bound), counters as differences between the marks; an isolated 1- and
10-packet flow take their ideal FCT."""

from __future__ import annotations

import json

import pytest

import experiments.congestion_control.sim as cc_sim
from experiments.congestion_control import run
from experiments.congestion_control.metrics import case_row, ideal_fct_ns, jain
from experiments.congestion_control.params import params_for
from experiments.congestion_control.workload import Flow, plan_flows
from experiments.sweep import Sweep
from fabriclab.errors import FabricError


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines: list[str] = []
    res = run("quick", out_dir=tmp_path_factory.mktemp("cc"), progress=lines.append,
              schemes=("pfc", "dcqcn_pfc", "hpcc"), sweep=Sweep(workers=2))
    res.lines = lines
    return res


def test_victim_collapses_under_pfc_only_and_recovers_with_dcqcn_or_hpcc(result):
    pfc, dcqcn, hpcc = (result.scheme(s) for s in ("pfc", "dcqcn_pfc", "hpcc"))
    assert pfc["drops"] == 0 and pfc["pauses"] > 0  # lossless, by pausing
    assert pfc["victim_gbps"] < 30  # head-of-line blocked behind the incast
    assert max(dcqcn["victim_gbps"], hpcc["victim_gbps"]) > 2 * pfc["victim_gbps"]


def test_hpcc_keeps_the_queue_below_dcqcn_at_high_utilisation(result):
    dcqcn, hpcc = result.scheme("dcqcn_pfc"), result.scheme("hpcc")
    assert hpcc["queue_p99_kb"] < dcqcn["queue_p99_kb"]
    assert hpcc["wire_util_pct"] >= 90 and hpcc["goodput_pct"] >= 80


def test_goodput_counts_payload_only_not_headers_or_int(result):
    # PFC only: 1024 B of payload per 1082 B frame on the receiver's link; HPCC's frames
    # there carry 88 B of INT more (1170 B), which the wire utilisation counts
    pfc, hpcc = result.scheme("pfc"), result.scheme("hpcc")
    assert pfc["goodput_pct"] == pytest.approx(pfc["wire_util_pct"] * 1024 / 1082, rel=0.01)
    assert hpcc["goodput_pct"] == pytest.approx(hpcc["wire_util_pct"] * 1024 / 1170, rel=0.01)
    assert hpcc["goodput_pct"] < hpcc["wire_util_pct"] - 10


def test_short_flows_finish_closer_to_ideal_under_hpcc_than_with_pfc_alone(result):
    pfc, hpcc = result.scheme("pfc", "mix"), result.scheme("hpcc", "mix")
    p = params_for("quick")
    after = [f for f in plan_flows(p, "mix", 1) if not f.long and f.start_ns >= p.warmup_us * 1000]
    assert hpcc["short_n"] == pfc["short_n"] == len(after) > 0  # unfinished ones included
    assert hpcc["short_unfinished"] <= pfc["short_unfinished"]
    assert hpcc["slowdown_p50"] < pfc["slowdown_p50"] and hpcc["queue_p99_kb"] < pfc["queue_p99_kb"]
    assert hpcc["slowdown_p50"] >= 1  # against the ideal FCT of a message alone on the path
    # the long flows take back what the short ones leave (HPCC at T = the path's base RTT,
    # maxStage 0 as its authors simulated: 86% wire; the paper's maxStage 5 held them to 49%)
    assert hpcc["wire_util_pct"] >= 75 and hpcc["goodput_pct"] >= 0.8 * pfc["goodput_pct"]


def test_files_and_headline(result):
    doc = json.loads(result.files.json.read_text())
    assert set(doc["headline"]) == {"pfc", "dcqcn_pfc", "hpcc"}
    assert all({"p99_queue_kb", "goodput_pct", "wire_util_pct", "short_slowdown_p50", "short_slowdown_p99",
                "short_n"} <= set(h) for h in doc["headline"].values())
    csv = result.files.csv.read_text()
    assert result.files.png.stat().st_size > 10_000 and csv.count("\n") == 7  # header + 3 schemes x 2
    assert "_queue" not in csv and {"slowdown_p99", "short_n", "goodput_pct", "wire_util_pct"} <= set(
        csv.splitlines()[0].split(","))
    assert result.lines[-1].startswith("headline: ")
    assert [line for line in result.lines if line.startswith("[trial")] == [
        "[trial 1/3] PFC only: 2 case(s)", "[trial 2/3] DCQCN+PFC, fixed ECN: 2 case(s)",
        "[trial 3/3] HPCC+PFC: 2 case(s)"]  # plan order, whatever order the workers finished in


def test_mix_plan_is_seeded_poisson_at_the_load_asked():
    p = params_for("quick")
    flows = plan_flows(p, "mix", 1)
    long = [f for f in flows if f.long]
    short = [f for f in flows if not f.long]
    assert len(long) == p.mix_long and all(f.dst == p.senders + 1 for f in flows)
    assert {f.src for f in short} <= set(range(p.mix_long, p.senders + 1)) - {f.src for f in long}
    offered = sum(f.size for f in short) * 8 / ((p.duration_us - p.short_tail_us) * 1e-6)
    assert 0.15 < offered / (p.link_gbps * 1e9) < 0.5  # 0.3 asked; few flows, so loose
    assert plan_flows(p, "mix", 1) == flows and plan_flows(p, "mix", 2) != flows


def test_ideal_fct_counts_the_frames_once():
    # 58 B per 1082 B frame, 16 B of RETH once; the base RTT already holds one full frame
    # (1082 B) at the sender's link, and only the last frame is stored and forwarded after it
    p = params_for("quick")
    assert ideal_fct_ns(1024, p) == pytest.approx(p.base_rtt_ns + 16 * 8 / 100 * (2 + 2 / 8))
    assert ideal_fct_ns(10 * 1024, p) == pytest.approx(p.base_rtt_ns + (10 * 1082 + 16 - 1082) * 8 / 100)
    # emulate: a 1 KB message is one 1098 B frame, a quarter of the 4154 B one in T
    e = params_for("quick", "emulate")
    assert ideal_fct_ns(1024, e) == pytest.approx(e.base_rtt_ns - (4154 - 1098) * 8 / 0.01 * (2 + 2 / 8))


def test_an_isolated_flow_takes_its_ideal_fct_and_counts_cover_the_window(monkeypatch):
    p = params_for("quick", duration_us=60, warmup_us=40)
    monkeypatch.setattr(cc_sim, "plan_flows", lambda p, w, s: [Flow(0, 4, 8, 1024, 1000),
                                                             Flow(1, 5, 8, 10 * 1024, 20_000)])
    record = cc_sim.run_case(p, "mix", "pfc", 1)
    fct = {int(k): v for h in record["hosts"] for k, v in h["fct_ns"].items()}
    for index, size in ((0, 1024), (1, 10 * 1024)):
        assert 1 <= fct[index] / ideal_fct_ns(size, p) < 1.01
    receiver = next(h for h in record["hosts"] if h["host"] == 8)
    assert receiver["nic"]["rx_packets"] == 11 and receiver["window"]["rx_packets"] == 0  # all before warm-up
    row = case_row(record, p)
    assert row["short_flows"] == 2 and row["short_n"] == 0  # both started in the warm-up


def _record(p, **over):
    """A synthetic mix record: a long flow, and short flows that start in the warm-up
    (finished), after it (finished) and after it (not finished by the end)."""
    w, end = p.warmup_us * 1000, p.duration_us * 1000
    flows = [dict(index=0, src=0, dst=8, size=None, start_ns=0),
             dict(index=1, src=4, dst=8, size=1024, start_ns=w - 1), dict(index=2, src=4, dst=8, size=1024, start_ns=w),
             dict(index=3, src=5, dst=8, size=1024, start_ns=end - 20_000)]
    nic = dict(ce_marked=9, cnps_received=8, switch_cnps=7, int_echoed=6)
    hosts = [dict(host=0, error=None, goodput_bps={"0": 40e9}, fct_ns={}, retransmissions=5, host_paused_us=3.0,
                  nic=nic, window=dict(retransmissions=1, ce_marked=2, cnps_received=3, switch_cnps=4,
                                       int_echoed=5, host_paused_us=1.5)),
             dict(host=4, error=None, goodput_bps={}, fct_ns={"1": 10_000, "2": 8_400}, retransmissions=0,
                  host_paused_us=0.0, nic=nic, window=None),
             dict(host=5, error=None, goodput_bps={}, fct_ns={"3": None}, retransmissions=0, host_paused_us=0.0,
                  nic=nic, window=None)]
    marks = {"start": {"t": w, "tx": 1000, "drops": 4,
                       "pfc": {"pauses": 10, "paused_us": 50.0, "paused_us_l2": 50.0}},
             "end": {"t": end, "tx": 1000 + 125 * (end - w) // 100, "drops": 6,  # 10 Gb/s
                     "pfc": {"pauses": 13, "paused_us": 80.0, "paused_us_l2": 80.0}}}
    return {"workload": "mix", "scheme": "pfc", "seed": 1, "flows": flows, "hosts": hosts, "queue": [(w, 0), (end, 0)],
            "marks": marks, "link_bps": 100e9, "drops": 99, "cc_decisions": 0, "wall_s": 0.0, **over}


def test_metrics_cover_the_window_and_keep_unfinished_flows():
    p = params_for("quick")
    row = case_row(_record(p), p)
    assert row["short_flows"] == 3 and row["short_n"] == 2 and row["short_unfinished"] == 1  # flow 1: warm-up
    slow = sorted(x for _, x, _ in row["_slowdowns"])
    assert slow == pytest.approx(sorted([8_400 / ideal_fct_ns(1024, p), 20_000 / ideal_fct_ns(1024, p)]))
    assert row["slowdown_p99"] > 4  # the unfinished flow's lower bound, not dropped
    assert row["goodput_pct"] == pytest.approx(40) and row["wire_util_pct"] == pytest.approx(10)
    assert (row["pauses"], row["switch_paused_us"], row["paused_us_l2"], row["drops"]) == (3, 30.0, 30.0, 2)
    # host 0 reports its window; the others (no window: an older record) their whole run
    assert row["retransmissions"] == 1 and row["ce_marked"] == 2 + 9 + 9 and row["host_paused_us"] == 1.5
    old = _record(p)
    for mark in old["marks"].values():
        del mark["drops"]
    assert case_row(old, p)["drops"] == 99  # no snapshot: the whole run's


def test_jain_and_bad_parameters():
    assert jain([5, 5, 5]) == pytest.approx(1.0) and jain([1, 0, 0, 0]) == pytest.approx(0.25)
    with pytest.raises(FabricError, match="unknown or missing scheme"):
        params_for("quick", schemes=("pfc", "timely"))
    with pytest.raises(FabricError, match="unknown mode"):
        params_for("quick", mode="warp")
    with pytest.raises(FabricError, match="unknown or missing workload"):
        params_for("quick", workloads=("alltoall",))
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge")
    with pytest.raises(FabricError, match="maxStage >= 0"):
        params_for("quick", hpcc_max_stage=-1)
    emulate = params_for("quick", "emulate")
    assert emulate.link_gbps == 0.01 and emulate.base_rtt_ns > 100 * params_for("quick").base_rtt_ns
