"""The scale_up experiment end to end in virtual time, at a tiny scale: files, rows, headline."""

import json

import pytest

from experiments import scale_up
from experiments.scale_up.params import params_for, topology
from fabriclab.errors import FabricError
from topologies.graph import NodeKind


def test_small_run_writes_rows_figure_and_headline(tmp_path):
    lines = []
    result = scale_up.run("quick", tmp_path, lines.append, accelerators=8, domain_sizes=(1, 4),
                          nbytes=64 << 10)
    assert not result.errors
    assert len(result.rows) == 2 * 2 * 2
    assert all(r["wrong"] == 0 for r in result.rows)
    for r in result.rows:  # flat keeps everything on the network; hier keeps the domain's part
        if r["scheme"] == "flat" or r["domain"] == 1:
            assert r["intra_share"] == 0
        elif r["kind"] == "alltoall":  # 3 of each rank's 7 peers share its domain
            assert r["intra_share"] == pytest.approx(3 / 7, rel=0.05)
        else:  # 2x3/4 of the buffer inside, 2x1/2 of a quarter across
            assert r["intra_share"] > 0.7
    bus = {(r["kind"], r["domain"], r["scheme"]): r["busbw_gbs"] for r in result.rows}
    assert bus["allreduce", 4, "hier"] >= 2 * bus["allreduce", 4, "flat"]  # the acceptance ratio, at G=4
    doc = json.loads(result.files.json.read_text())
    assert doc["headline"].startswith("hierarchical/flat busbw at G=4")
    assert result.files.png.stat().st_size > 0 and result.files.csv.exists()
    assert lines[-1] == doc["headline"]
    assert any(line.startswith("  [G=1 1/4] allreduce flat") for line in lines)
    assert lines[1].startswith("[trial 1/2] G=1") and "400 Gb/s NICs, scale-up 7.2 Tb/s (18:1)" in lines[0]


def test_workers_give_the_same_rows(tmp_path):
    """Trials through experiments.sweep: two worker processes write what one does."""
    from experiments.sweep import Sweep

    kw = dict(accelerators=4, domain_sizes=(1, 2), nbytes=16 << 10, kinds=("allreduce",))
    one = scale_up.run("quick", tmp_path / "a", lambda s: None, sweep=Sweep(workers=1), **kw)
    two = scale_up.run("quick", tmp_path / "b", lambda s: None, sweep=Sweep(workers=2), **kw)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]  # noqa: E731
    assert strip(one.rows) == strip(two.rows) and len(one.rows) == 4


def test_topology_per_domain_size_and_bad_parameters():
    p = params_for("full")
    t = topology(p, 1)
    assert len(t.hosts()) == 576 and not [n for n in t.nodes.values() if n.kind is NodeKind.SCALEUP]
    assert len(topology(p, 72).hosts()) == 576
    with pytest.raises(FabricError, match="does not divide"):
        params_for("quick", domain_sizes=(3,))
    e = params_for("quick", "emulate")
    assert (e.accelerators, e.domain_sizes, e.scaleup_mbps) == (16, (1, 2, 4, 8), 16.0)
    assert e.busbw_unit == ("Mb/s", 8000.0) and type(e).from_dict(e.as_dict()) == e
    with pytest.raises(FabricError, match="unknown mode"):
        params_for("quick", "real")
    with pytest.raises(FabricError, match="unknown or missing scheme"):
        params_for("quick", schemes=("tree",))


def test_headline_pairs_seeds_when_one_failed():
    """flat failed seed 2 at the largest G: the speed-up is over seeds 1 and 3 for both schemes."""
    from experiments.scale_up import summarize_runs

    p = params_for("quick", domain_sizes=(1, 8), kinds=("allreduce",), seeds=(1, 2, 3))
    rows = []
    for g in (1, 8):
        for seed, hier, flat in ((1, 40.0, 10.0), (2, 10.0, None), (3, 80.0, 10.0)):
            for scheme, bus in (("hier", hier), ("flat", flat)):
                row = {"kind": "allreduce", "domain": g, "scheme": scheme, "seed": seed, "time_us": 1.0,
                       "intra_share": 0.5, "wrong": 0}
                rows.append({**row, "busbw_gbs": bus} if bus is not None else {**row, "error": "timed out"})
    summary = summarize_runs(rows, p)
    assert summary["speedup_at_largest"] == {"allreduce": 6.0}  # (40 + 80) / (10 + 10), not 43.3 / 10
    assert summary["headline"].endswith("allreduce 6.00x; ratio of means over seeds 1, 3")
