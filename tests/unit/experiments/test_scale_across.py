"""The scale_across experiment end to end in virtual time, reduced: 300 km only, a small buffer
and an intra-site window to match; files, rows, the acceptance ratio and the headline."""

import json

import pytest

from experiments import scale_across
from experiments.scale_across.params import params_for, spec_for, stack_for, topology
from fabriclab.errors import FabricError
from topologies.graph import NodeKind


def test_reduced_run_adaptive_hier_beats_baseline_far_away(tmp_path):
    lines = []
    result = scale_across.run("quick", tmp_path, lines.append, distances_km=(300,),
                              nbytes=256 << 10, window=8)
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
    assert any(line.startswith("  [1/3] 300 km allreduce baseline") for line in lines)


def test_topology_schemes_and_bad_parameters():
    p = params_for("quick")
    t = topology(p, 1000)
    dci = [lk for lk in t.links if t.nodes[lk.a].kind is NodeKind.BORDER
           and t.nodes[lk.b].kind is NodeKind.BORDER]
    assert [lk.ab.delay_us for lk in dci] == [5000] and dci[0].ab.bw == 400_000
    assert len(t.hosts()) == p.nranks == 4
    assert spec_for(p, "allreduce", "adaptive_hier").algo == "hier"
    assert spec_for(p, "allreduce", "adaptive").algo == "ring"
    base = stack_for(p, "baseline").nic_config("10.0.0.1").qp
    adaptive = stack_for(p, "adaptive").nic_config("10.0.0.1").qp
    assert (base.adaptive, base.window) == (False, p.window)
    assert adaptive.adaptive and adaptive.bdp_rate == 400e9 and adaptive.window == p.window
    assert params_for("full").sites == 3
    for bad in ({"distances_km": (-1,)}, {"sites": 1}, {"schemes": ("nope",)}, {"dci_gbps": 0}):
        with pytest.raises(FabricError):
            params_for("quick", **bad)
    with pytest.raises(FabricError, match="--mode sim"):
        params_for("quick", mode="emulate")
