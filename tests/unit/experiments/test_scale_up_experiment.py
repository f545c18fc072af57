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
    assert any(line.startswith("  [1/8] G=1") for line in lines)


def test_topology_per_domain_size_and_bad_parameters():
    p = params_for("full")
    t = topology(p, 1)
    assert len(t.hosts()) == 576 and not [n for n in t.nodes.values() if n.kind is NodeKind.SCALEUP]
    assert len(topology(p, 72).hosts()) == 576
    with pytest.raises(FabricError, match="does not divide"):
        params_for("quick", domain_sizes=(3,))
    with pytest.raises(FabricError, match="--mode sim"):
        params_for("quick", "emulate")
    with pytest.raises(FabricError, match="unknown or missing scheme"):
        params_for("quick", schemes=("tree",))
