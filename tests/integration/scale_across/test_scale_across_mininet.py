"""scale_across on Mininet (root): two sites joined by a DCI of 10 ms one way (2,000 km of
fibre), through `fabriclab run scale_across --mode emulate`, every scheme. What survives a
loaded machine: every case completes with correct data (#wrong 0), the busbw stays under
the link rate, the borders' notifications are read from the switches, and the files and
headline are written. The shape lives in sim mode."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]


def test_two_sites_10_ms_apart_every_scheme_completes_correctly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "fabriclab", "run", "scale_across", "--mode", "emulate",
                           "--quick", "--out", str(tmp_path)], capture_output=True, text=True, timeout=540)
    docs = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert done.returncode == 0, [d["summary"]["errors"] for d in docs] or done.stdout[-3000:] + done.stderr[-3000:]
    (doc,) = docs
    assert doc["config"]["distances_km"] == [0, 2000] and doc["scale"]["one_way_us"]["2000"] == 10_000
    assert doc["scale"]["dcqcn_rtt_us"] == 1000 and doc["scale"]["rto_ms"] == 100  # the hosts run DCQCN
    rows = list(csv.DictReader(next(tmp_path.glob("*.csv")).open()))
    far = [r for r in rows if float(r["km"]) == 2000]
    assert sorted(r["scheme"] for r in far) == ["adaptive", "adaptive_hier", "baseline"]
    for r in rows:
        assert not r["error"] and int(r["wrong"]) == 0, r
        assert 0 < float(r["busbw_gbs"]) < 0.1 / 8  # under one 100 Mb/s NIC
        assert int(r["border_cnps"]) >= 0  # read over P4Runtime around the case (blank: never read)
    assert done.stdout.strip().splitlines()[-1] == doc["headline"]
    assert "10 ms one way" in doc["headline"]
    assert next(tmp_path.glob("*.png")).stat().st_size > 0
