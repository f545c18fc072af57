"""The isolation experiment in virtual time (no root): tenant A's ring all-reduce next to
tenant B's all-to-all on a leaf-spine at 100 Gb/s, small.

Physics behind the margins: A alone fills exactly the leaf-spine link (its 2 cross-leaf
flows per leaf at line rate); B adds ~4/3 of a host link of cross-leaf traffic with more
and deeper queue pairs, so in one FIFO A keeps about half the link (measured 0.52 of A
alone): asserted < 0.75. With the tenants installed A's data is in a strict-priority queue
above B's and nothing of A is metered, so only B's frames in service delay it (one 4 KiB
frame per hop, measured 0.97): asserted >= 0.9. B offers more than its cap (two host
links per switch, 10 us bursts), so its meter drops some of it RED and never A. ECN
thresholds act on each queue's own depth, so DCQCN marks reach B (whose queues build) and
never A."""

from __future__ import annotations

import json

import pytest

from experiments.isolation import run
from experiments.isolation.params import params_for
from experiments.isolation.sim import run_case
from fabriclab.errors import FabricError

SMALL = {"iters": 2, "allreduce_bytes": 256 << 10}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines: list[str] = []
    res = run("quick", out_dir=tmp_path_factory.mktemp("iso"), progress=lines.append, mode="sim", **SMALL)
    res.lines = lines
    return res


def case(result, name):
    return next(s for s in result.summary["cases"] if s["case"] == name)


def test_victim_suffers_without_isolation_and_not_with_it(result):
    assert not result.errors
    assert all(r["done"] and r["wrong"] == 0 for r in result.rows)
    norm = result.summary["headline"]["a_normalised_busbw"]
    assert norm["alone"] == 1
    assert norm["shared"] < 0.75
    assert norm["meters"] >= 0.9 and norm["meters_cc"] >= 0.9
    assert case(result, "shared")["a_iter_p99_us"] > 1.3 * case(result, "meters")["a_iter_p99_us"]
    assert case(result, "shared")["b_gbps"] > case(result, "meters")["b_gbps"] > 0  # B is capped


def test_marks_and_drops_stay_with_the_tenant_that_causes_them(result):
    cc = case(result, "meters_cc")
    assert cc["A_marks"] == 0 and cc["B_marks"] > 0
    for name in ("meters", "meters_cc"):  # B above its cap is dropped RED, A never
        assert case(result, name)["A_drops"] == 0 and case(result, name)["B_meter_drops"] > 0


def test_files_and_headline_last(result):
    doc = json.loads(result.files.json.read_text())
    assert doc["headline"]["a_normalised_busbw"]["shared"] < 0.75
    assert doc["scale"]["mode"] == "sim" and "spine" in doc["scale"]["topology"]
    assert result.files.csv.read_text().startswith("case,seed,")
    assert result.files.png.stat().st_size > 10_000
    assert result.lines[-1].startswith("headline: A's busbw / A alone")


def test_adaptive_routing_with_tenants_installed():
    """Tenants are classified after the path is chosen: with meters on, adaptive routing
    still spreads A and B over both spines, and A's data arrives intact."""
    p = params_for("quick", "sim", spines=2, routing="adaptive", **SMALL)
    record = run_case(p, "meters", 1)
    assert record["done"] and record["wrong"] == 0 and record["queue_drops"]["A"] == 0
    up = list(record["l1_uplink_tx_bytes"].values())
    assert len(up) == 2 and min(up) > 0.8 * max(up)


def test_bad_parameters():
    with pytest.raises(FabricError, match="unknown or missing case nope"):
        params_for("quick", "sim", cases=("nope",))
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge", "sim")
    with pytest.raises(FabricError, match="even number"):
        params_for("quick", "sim", hosts_per_leaf=3)
