"""The innet_allreduce experiment on Mininet (root), reduced to 4 ranks at 256 KiB on its own
5 Mb/s links: both all-reduces complete with the right data, the run writes its CSV, JSON
(with the headline) and figure, and the in-network all-reduce beats the ring.

Why the ratio margin holds on a loaded machine: both algorithms run on the same links, and
at 4 ranks the ring moves 2(n-1)/n = 1.5x the bytes per rank that in-network does, so
link-bound the ratio is 1.5. The links must stay the limit, not the switches' CPU: an
aggregation packet costs the built-in switch 15-27 us (bench/agg_pps.py; the second figure
on a slower 2-core machine), and a leaf takes its ranks' contributions and the results. At
20 Mb/s (about 7,000 packets/s) that machine's switches became the limit beside a busy loop
on each core (1.10-1.32); at 5 Mb/s they need a quarter of that: 1.52 quiet, 1.60 beside
the hog there. 1.25 leaves room for a starved host or switch."""

from __future__ import annotations

import json

import pytest

import experiments.innet_allreduce as innet

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return innet.run("quick", tmp_path_factory.mktemp("innet"), progress=print, mode="emulate",
                     ranks=(4,), loss_ranks=4, sizes=())


def test_both_all_reduces_complete_with_the_right_data(result):
    assert result.errors == []
    assert sorted(r["scheme"] for r in result.rows) == ["innet", "ring"]
    assert all(r["wrong"] == 0 and r["busbw_gbs"] > 0 for r in result.rows)


def test_in_network_beats_the_ring(result):
    head = result.summary["headline"]
    assert head["innet_wrong_elements"] == 0 and head["innet_unfinished"] == 0
    assert head["innet_ring_busbw_ratio"] >= 1.25        # expected 1.5 (see the docstring)


def test_run_writes_csv_json_and_figure(result):
    document = json.loads(result.files.json.read_text())
    assert document["headline"]["innet_ring_busbw_ratio"] == result.summary["headline"]["innet_ring_busbw_ratio"]
    assert result.files.csv.exists() and result.files.png.stat().st_size > 10_000
