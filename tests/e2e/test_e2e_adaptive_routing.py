"""End to end (root): a reduced adaptive-routing run on real Mininet networks with the
built-in P4 switch, as a SMOKE test: every case of both trials completes with the right data
and the run writes its CSV, JSON and figure. Only assertions that hold on a loaded machine
live here; the result's shape (adaptive + out-of-order beats ECMP, ECMP varies with the
seed) is asserted deterministically in virtual time (tests/unit/vtime/
test_vtime_adaptive_routing.py). Checked with two busy loops on both cores."""

from __future__ import annotations

import json
import os

import pytest

from experiments import adaptive_routing
from experiments.results import read_csv
from fabriclab.net.clean import run_processes

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(600)]

SCHEMES = ("ecmp+gbn", "adaptive+ooo")
SEEDS = (1, 2)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    res = adaptive_routing.run("quick", out_dir=tmp_path_factory.mktemp("ar"), progress=print,
                               schemes=SCHEMES, workloads=("permutation", "allreduce"), seeds=SEEDS)
    yield res
    for i in range(len(SCHEMES)):  # every trial cleaned up after itself
        assert not run_processes(f"ar-{os.getpid()}-{i}")


def test_every_case_completes_with_the_right_data(result):
    assert not result.errors
    assert len(result.rows) == len(SCHEMES) * 2 * len(SEEDS)
    assert all(not r["error"] for r in result.rows)
    allreduce = [r for r in result.rows if r["workload"] == "allreduce"]
    assert allreduce and all(r["wrong"] == 0 for r in allreduce)


def test_rates_stay_within_physics(result):
    """No flow beats its link (the ceiling); adaptive routing with out-of-order receivers
    keeps every flow of the permutation above half the share it would get if all of a
    leaf's flows collided on one uplink (a CPU-starved switch slows, never stalls, it)."""
    p = result.params
    for r in result.rows:
        if r["workload"] == "permutation":
            assert 0 < r["min_flow_pct"] <= r["max_flow_pct"] <= 105
    worst_collision_pct = 100 / p.hosts_per_leaf
    adaptive = [r for r in result.rows if r["scheme"] == "adaptive+ooo" and r["workload"] == "permutation"]
    assert all(r["min_flow_pct"] >= worst_collision_pct / 2 for r in adaptive)


def test_run_writes_csv_json_and_figure(result):
    files = result.files
    rows = read_csv(files.csv)
    assert {r["scheme"] for r in rows} == set(SCHEMES)
    doc = json.loads(files.json.read_text())
    assert doc["seeds"] == list(SEEDS)
    assert doc["scale"]["link_rate_mbps"] == result.params.link_mbps
    assert {"fabriclab", "target", "python", "kernel"} <= set(doc["versions"])
    assert files.png.read_bytes()[:4] == b"\x89PNG"
