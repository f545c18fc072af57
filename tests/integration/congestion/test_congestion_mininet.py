"""congestion_control on Mininet (root): a short incast under PFC only and under HPCC, on the
built-in switch in real time. What survives a loaded machine is asserted: every case
finishes, PFC is lossless by pausing (pauses sent, nothing dropped, the hosts' NICs held
by pauses they received on their interface), and under HPCC the receivers echo INT they
got over UDP 9099; the shape (queues, the victim) is the sim test's."""

from __future__ import annotations

import json

import pytest

from experiments.congestion_control import run

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines: list[str] = []
    res = run("quick", out_dir=tmp_path_factory.mktemp("cc-emulate"), progress=lines.append, mode="emulate",
              schemes=("pfc", "hpcc"), workloads=("incast",), duration_us=4_000_000, warmup_us=2_000_000)
    res.lines = lines
    return res


def test_every_case_finishes_and_writes_its_files(result):
    assert result.errors == [] and len(result.rows) == 2
    doc = json.loads(result.files.json.read_text())
    assert set(doc["headline"]) == {"pfc", "hpcc"} and result.files.png.stat().st_size > 10_000
    assert result.lines[-1].startswith("headline: ")


def test_pfc_is_lossless_by_pausing_and_hosts_honour_the_pauses(result):
    pfc = next(r for r in result.rows if r["scheme"] == "pfc")
    assert pfc["pauses"] > 0 and pfc["drops"] == 0
    assert pfc["host_paused_us"] > 0  # the senders' NICs were held by pauses from their leaf


def test_hpcc_receivers_echo_int_in_real_time(result):
    hpcc = next(r for r in result.rows if r["scheme"] == "hpcc")
    assert hpcc["int_echoed"] > 100 and 0 < hpcc["wire_util_pct"] <= 105
