"""resiliency in virtual time (no root), small: an all-to-all of 4 ranks while a fabric link
fails, under controller-only reroute and data-plane fast reroute. Every run completes with
correct data (RoCE retransmits what the dead link swallowed); a failure costs time; fast
reroute (the switch's own signal, and a spine's bounce) makes every run finish sooner; the
headline and files are written (trials in 2 workers, plan order)."""

from __future__ import annotations

import json

import pytest

from experiments.resiliency import run
from experiments.resiliency.metrics import recoveries_ns
from experiments.resiliency.params import params_for, topology
from experiments.resiliency.sim import draw_failures
from experiments.sweep import Sweep
from fabriclab.errors import FabricError

SMALL = dict(collectives=("alltoall",), alltoall_bytes=1 << 20, failures=(1, 2), seeds=(1, 2),
             schemes=("controller+ecmp", "fast+ecmp"))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines: list[str] = []
    res = run("quick", out_dir=tmp_path_factory.mktemp("res"), progress=lines.append,
              sweep=Sweep(workers=2), **SMALL)
    res.lines = lines
    return res


def rows(result, **match):
    return [r for r in result.rows if all(r[k] == v for k, v in match.items())]


def test_every_run_completes_with_correct_data(result):
    assert len(result.rows) == 2 * (1 + 2 * 2)  # seeds x (healthy + failure counts x schemes)
    assert all(r["completed"] and r["wrong"] == 0 for r in result.rows), result.errors
    assert not result.errors


def test_failures_cost_time_and_retransmissions(result):
    for r in rows(result, failures=1):
        assert r["slowdown"] > 1.0 and r["retransmitted_kb"] > 0
        assert len(r["recoveries_us"].split()) == 1 and r["recovery_us_median"] > 0
    assert all(r["retransmitted_kb"] == 0 for r in rows(result, failures=0))


def test_fast_reroute_recovers_sooner_at_either_end_of_a_cut(result):
    """The same failures for both (drawn from the seed). Where the cut link is the switch's
    own way out, fast reroute moves its flows at once while controller-only keeps feeding
    the dead port for control_delay_us (and then waits out the RoCE timeout). Where the cut
    is a spine's only way down, the spine bounces the packets back to their leaf, which
    routes the group over another spine (liveness.p4); controller-only drops them until it
    regroups. So every run with fast reroute finishes well before its controller-only twin
    (measured 0.36-0.51x here; before the bounce, seed 1's single cut at a spine end took
    the same time either way)."""
    for seed in (1, 2):
        for n in (1, 2):
            fast = rows(result, seed=seed, failures=n, reroute="fast")[0]
            ctl = rows(result, seed=seed, failures=n, reroute="controller")[0]
            assert fast["failed_links"] == ctl["failed_links"]
            assert fast["elapsed_us"] < 0.75 * ctl["elapsed_us"], (fast, ctl)


def test_files_and_headline(result):
    doc = json.loads(result.files.json.read_text())
    head = doc["headline"]
    assert set(head["schemes"]) == {"controller+ecmp", "fast+ecmp"}
    assert head["total_wrong"] == 0 and head["all_completed"]
    assert all(h["median_recovery_us"] > 0 and h["failures"] == 2 for h in head["schemes"].values())
    assert result.files.png.stat().st_size > 10_000
    assert result.files.csv.read_text().count("\n") == 11
    assert result.lines[-1].startswith("headline: median time to recover")
    assert [line for line in result.lines if line.startswith("[trial")] == [
        "[trial 1/2] alltoall, ecmp, seed 1", "[trial 2/2] alltoall, ecmp, seed 2"]


def test_failures_are_seeded_and_never_cut_the_leaves_apart():
    topo = topology(params_for("quick"))
    for seed in range(20):
        drawn = draw_failures(topo, 4, seed, (1000, 5000))
        assert drawn == draw_failures(topo, 4, seed, (1000, 5000))
        links = {link for _, link in drawn}
        assert all(1000 <= t <= 5000 for t, _ in drawn) and len(links) == 4
        assert any(("rl1", s) not in links and ("rl2", s) not in links
                   for s in ("rs1", "rs2", "rs3", "rs4"))  # a spine still joins both leaves


def test_gap_is_time_at_zero_goodput():
    # the failure-free run: 1 byte/ns in 10 ns bins; a 30 ns stall after a failure at 20 ns
    healthy = {"bins": [10, 10, 10, 10], "bin_ns": 10, "elapsed_ns": 40, "failures": []}
    record = {"bins": [10, 10, 0, 0, 0, 10, 10], "bin_ns": 10, "elapsed_ns": 70,
              "failures": [(20, "a", "b")]}
    assert recoveries_ns(record, healthy) == [30]
    # half rate for 40 ns costs 20 ns
    record = {"bins": [10, 10, 5, 5, 5, 5], "bin_ns": 10, "elapsed_ns": 60, "failures": [(20, "a", "b")]}
    assert recoveries_ns(record, healthy) == [20]
    # a 25 ns stall, the run ending inside its last bin
    record = {"bins": [10, 10, 0, 0, 5, 10, 5], "bin_ns": 10, "elapsed_ns": 65, "failures": [(20, "a", "b")]}
    assert recoveries_ns(record, healthy) == [25]


def test_gap_is_the_extra_time_whatever_the_shape_of_the_progress():
    """A collective that moves most of its bytes early (an all-to-all's tail): a failure that
    changes nothing costs nothing, and a 10 ns stall costs 10 ns. Measured against the
    failure-free run's mean goodput instead, the first would have cost 6 ns."""
    healthy = {"bins": [20, 20, 5, 5], "bin_ns": 10, "elapsed_ns": 40, "failures": []}
    unharmed = dict(healthy, failures=[(10, "a", "b")])
    assert recoveries_ns(unharmed, healthy) == [0]
    stalled = {"bins": [20, 0, 20, 5, 5], "bin_ns": 10, "elapsed_ns": 50, "failures": [(10, "a", "b")]}
    assert recoveries_ns(stalled, healthy) == [10]
    twice = dict(stalled, failures=[(10, "a", "b"), (30, "c", "d")])
    assert recoveries_ns(twice, healthy) == [10, 0]


@pytest.mark.parametrize("overrides, message", [
    (dict(failures=(7,)), "failures \\[7\\]: 1..6 links"),
    (dict(schemes=("fast+flowlet",)), "unknown scheme 'fast\\+flowlet'"),
    (dict(collectives=("broadcast",)), "unknown or missing collective broadcast"),
    (dict(fail_window=(0.5, 0.2)), "fail_window"),
])
def test_bad_parameters(overrides, message):
    with pytest.raises(FabricError, match=message):
        params_for("quick", **overrides)


def test_emulate_scale_keeps_a_spine_whole():
    p = params_for("quick", "emulate")
    assert p.spines == 2 and p.failures == (1,) and p.mode == "emulate"
    with pytest.raises(FabricError, match="failures \\[3\\]: 1..2 links"):
        params_for("quick", "emulate", failures=(3,))


def test_emulate_goodput_is_interpolated_between_sparse_samples():
    from experiments.resiliency.emulate import cumulative

    samples = [(0.0, 0), (0.3, 300), (0.35, 300), (1.0, 1000)]
    assert [cumulative(samples, t) for t in (0.0, 0.1, 0.3, 0.675, 2.0)] == [0, 100, 300, 650, 1000]
