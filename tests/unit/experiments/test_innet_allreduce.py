"""The innet_allreduce experiment in sim mode, reduced to 8 ranks at 0 and 1% loss: the
in-network all-reduce beats the ring by most of 2(n-1)/n = 1.75, loss costs retransmissions
but no wrong element, and the run writes its CSV, figure and headline."""

from __future__ import annotations

import json

import pytest

from experiments.innet_allreduce import run
from experiments.innet_allreduce.params import params_for
from fabriclab.errors import FabricError


def test_quick_reduced_run_measures_the_ratio_and_survives_loss(tmp_path):
    lines: list[str] = []
    result = run("quick", tmp_path, progress=lines.append, ranks=(8,), sizes=(), losses=(0.0, 0.01))
    assert result.errors == []
    head = result.summary["headline"]
    assert head["innet_ring_busbw_ratio"] >= 1.5          # expected 1.75
    assert head["innet_wrong_elements"] == 0 and head["innet_unfinished"] == 0
    lossy = [r for r in result.rows if r["loss"] == 0.01 and r["scheme"] == "innet"]
    assert len(lossy) == 1 and lossy[0]["wrong"] == 0 and lossy[0]["retransmissions"] > 0
    clean = [r for r in result.rows if r["loss"] == 0 and r["scheme"] == "innet"]
    assert clean[0]["retransmissions"] == 0 and clean[0]["up_bytes"] > 0
    document = json.loads(result.files.json.read_text())
    assert document["headline"]["innet_wrong_elements"] == 0
    assert result.files.png.stat().st_size > 0 and result.files.csv.exists()
    assert lines[-1] == head["text"] and "1.75" in lines[-1]


def test_emulate_runs_at_the_python_switch_rates_and_bad_parameters_are_errors():
    p = params_for("quick", "emulate")
    assert (p.host_mbps, p.losses, p.ranks) == (5.0, (0.0,), (2, 4, 8)) and p.nbytes <= 256 << 10
    assert p.window <= p.pool_size
    sim = params_for("quick")
    assert sim.host_mbps >= 100_000 and sim.window <= sim.pool_size   # real link rates
    with pytest.raises(FabricError, match="loss rates"):
        params_for("quick", losses=(1.5,))
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge")


def test_trials_are_cases_in_sim_and_rank_counts_in_emulate():
    """Sim: one trial per case (a fresh fabric each); emulate: one per rank count (one Mininet
    net), numbered so that progress lines count cases in plan order either way."""
    from experiments.innet_allreduce import plan

    sim = plan(params_for("quick", ranks=(2, 4), sizes=(), losses=(0.0,), loss_ranks=4))
    assert [t.cases for t in sim] == [((2, 1 << 20, 0.0, 1, "ring"),), ((2, 1 << 20, 0.0, 1, "innet"),),
                                      ((4, 1 << 20, 0.0, 1, "ring"),), ((4, 1 << 20, 0.0, 1, "innet"),)]
    assert [t.first for t in sim] == [0, 1, 2, 3] and {t.total for t in sim} == {4}
    emulate = plan(params_for("quick", "emulate", ranks=(4, 2), loss_ranks=4))
    assert [{c[0] for c in t.cases} for t in emulate] == [{4}, {2}]
    assert [t.first for t in emulate] == [0, len(emulate[0].cases)]
    assert sum(len(t.cases) for t in emulate) == emulate[0].total


def test_a_case_that_does_not_finish_has_no_busbw_and_no_wrong_elements():
    """A timeout is an unfinished case: busbw None (not 0, which halved the averages), the
    in-network result checked over the ranks that finished only (an unfinished rank used to
    count its whole buffer as wrong), and the ring's #wrong None as before."""
    from experiments.innet_allreduce.sim import run_case

    p = params_for("quick", timeout_s=2e-6)
    for scheme in ("innet", "ring"):
        row = run_case(p, scheme, 2, 16 << 10, 0.0, 1)
        assert row["error"] and row["busbw_gbs"] is None and row["algbw_gbs"] is None
        assert row["wrong"] == (0 if scheme == "innet" else None)


def test_averages_are_over_finished_cases():
    from experiments.innet_allreduce import summarize_runs

    p = params_for("quick", ranks=(8,), sizes=(), losses=(0.0,), seeds=(1, 2))

    def row(scheme, seed, busbw, error=None):
        return {"scheme": scheme, "ranks": 8, "bytes": p.nbytes, "loss": 0.0, "seed": seed, "error": error,
                "busbw_gbs": busbw, "wrong": 0 if scheme == "innet" else None, "retransmissions": 0}

    rows = [row("ring", 1, 2.0), row("ring", 2, 0.0, "rank 3 did not finish"),
            row("innet", 1, 3.5), row("innet", 2, None, "1/8 ranks finished")]
    summary = summarize_runs(rows, p)
    ring, innet = summary["table"]
    assert (ring["busbw_gbs"], ring["completed"], ring["cases"]) == (2.0, 1, 2)
    assert (innet["busbw_gbs"], innet["completed"]) == (3.5, 1)
    head = summary["headline"]
    assert head["innet_ring_busbw_ratio"] == 1.75 and head["innet_unfinished"] == 1
    assert head["innet_wrong_elements"] == 0
