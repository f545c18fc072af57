"""The isolation experiment on Mininet (root), quick scale, as a SMOKE test: the four cases
run on fresh leaf-spines with the built-in P4 switch, tenant A's all-reduce completes with
the right data in every case, the tenants' meters never drop A (its meter covers all it can
send), and the run writes its CSV, JSON and figure. Only what holds on a loaded machine is
asserted here (a CPU-starved Python switch slows everyone); the shape (A's busbw well below
1 without isolation, close to 1 with it) is asserted in virtual time
(tests/unit/experiments/test_isolation.py)."""

from __future__ import annotations

import json
import os

import pytest

from experiments import isolation
from experiments.results import read_csv
from fabriclab.net.clean import run_processes

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    res = isolation.run("quick", out_dir=tmp_path_factory.mktemp("iso"), progress=print, mode="emulate")
    yield res
    for i in range(len(res.params.cases)):  # every trial cleaned up after itself
        assert not run_processes(f"iso-{os.getpid()}-{i}")


def test_every_case_completes_with_the_right_data(result):
    assert not result.errors
    assert [r["case"] for r in result.rows] == list(isolation.params.CASES)
    assert all(r["done"] and r["wrong"] == 0 for r in result.rows)


def test_meters_never_drop_the_victim_and_b_is_throttled(result):
    by_case = {r["case"]: r for r in result.rows}
    for case in ("meters", "meters_cc"):
        assert by_case[case]["A_meter_drops"] == 0
    p = result.params
    for r in result.rows:  # nobody beats the links B's hosts have
        assert 0 <= r["b_gbps"] * 1000 <= 1.05 * len(p.tenant_hosts()[1]) * p.link_mbps


def test_run_writes_csv_json_and_figure(result):
    rows = read_csv(result.files.csv)
    assert {r["case"] for r in rows} == set(isolation.params.CASES)
    doc = json.loads(result.files.json.read_text())
    assert doc["scale"]["mode"] == "emulate" and doc["scale"]["link_rate_mbps"] == 4.0
    assert set(doc["headline"]["a_normalised_busbw"]) == set(isolation.params.CASES)
    assert result.files.png.stat().st_size > 10_000
