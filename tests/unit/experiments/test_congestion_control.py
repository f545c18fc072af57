"""congestion_control in virtual time (no root): the 7:1 incast and its victim at 100 Gb/s.
PFC alone keeps the fabric lossless but the victim, sharing the upstream links, collapses
(head-of-line blocking); with DCQCN or HPCC on top it recovers; HPCC keeps the bottleneck
queue shorter than DCQCN at >= 90% utilisation. One run writes the CSV, JSON (headline
last) and figure."""

from __future__ import annotations

import json

import pytest

from experiments.congestion_control import run
from experiments.congestion_control.metrics import jain
from experiments.congestion_control.params import params_for
from fabriclab.errors import FabricError


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines: list[str] = []
    res = run("quick", out_dir=tmp_path_factory.mktemp("cc"), progress=lines.append,
              schemes=("pfc", "dcqcn_pfc", "hpcc"))
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
    assert hpcc["utilisation_pct"] >= 90


def test_files_and_headline(result):
    doc = json.loads(result.files.json.read_text())
    assert set(doc["headline"]) == {"pfc", "dcqcn_pfc", "hpcc"}
    assert all({"p99_queue_kb", "utilisation_pct"} <= set(h) for h in doc["headline"].values())
    assert result.files.png.stat().st_size > 10_000 and result.files.csv.read_text().count("\n") == 4
    assert result.lines[-1].startswith("headline: ")


def test_jain_and_bad_parameters():
    assert jain([5, 5, 5]) == pytest.approx(1.0) and jain([1, 0, 0, 0]) == pytest.approx(0.25)
    with pytest.raises(FabricError, match="unknown scheme"):
        params_for("quick", schemes=("pfc", "timely"))
    with pytest.raises(FabricError, match="sim mode only"):
        params_for("quick", mode="emulate")
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge")
