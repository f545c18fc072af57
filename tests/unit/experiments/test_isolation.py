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
    assert all(r["a_iter_n"] == SMALL["iters"] for r in result.rows)   # one seed: n = iterations


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
    # B's payload received in order counts the writes still in progress at A's end too
    assert record["b_bytes"] > record["b_completed_bytes"] > 0
    up = list(record["l1_uplink_tx_bytes"].values())
    assert len(up) == 2 and min(up) > 0.8 * max(up)


def test_bad_parameters():
    with pytest.raises(FabricError, match="unknown or missing case nope"):
        params_for("quick", "sim", cases=("nope",))
    with pytest.raises(FabricError, match="unknown scale"):
        params_for("huge", "sim")
    with pytest.raises(FabricError, match="even number"):
        params_for("quick", "sim", hosts_per_leaf=3)


# --- the measures, as pure functions (emulate mode cannot run here) -----------------------

def test_b_throughput_is_taken_over_a_s_run_not_b_s_own_window():
    """B's hosts sample (monotonic ns, bytes received); A's ranks report their start and end
    on the same clock. B sends 10 s, faster once A is done (2-4 s): only A's run counts."""
    from experiments.isolation.metrics import noise_over_window, window_bytes

    s = 1_000_000_000
    noise = [{"samples": [[0, 0], [2 * s, 200], [4 * s, 400], [10 * s, 4000]], "seconds": 10.0},
             {"samples": [[1 * s, 0], [3 * s, 100], [10 * s, 1500]], "seconds": 9.0}]
    ranks = [{"start_ns": 2 * s, "end_ns": 3 * s}, {"start_ns": 2 * s + s // 2, "end_ns": 4 * s}]
    got, span = noise_over_window(ranks, noise)
    assert span == 2.0
    assert got == 200 + (300 - 50)   # host 2: 50 at 2 s, 100 at 3 s, +1400/7 by 4 s
    assert got / span != (4000 + 1500) / 9.5   # what B's own window gave (mostly B uncontended)
    assert window_bytes([[5, 10]], 0, 100) == 0 and window_bytes([], 0, 10) == 0
    assert noise_over_window([{"start_ns": 0, "end_ns": None}], noise) == (0.0, 0.0)  # A unfinished


def test_timed_rank_reports_its_run_on_the_driver_clock(monkeypatch):
    from experiments.isolation import host
    from fabriclab.roce.rank import Rank

    def service(self, now):
        self.done = now >= 50

    monkeypatch.setattr(Rank, "service", service)
    r = host.TimedRank.__new__(host.TimedRank)
    r.done = False
    for now in (7, 20, 50, 60):
        r.service(now)
    assert (r.start_ns, r.end_ns) == (7, 50)


class _Qp:
    def __init__(self):
        self.epsn, self.outstanding, self.posted = 100, 0, 0

    def post_write(self, *args):
        self.posted += 1


class _Nic:
    def __init__(self, qpns, pmtu=4096):
        from collections import deque
        from types import SimpleNamespace

        self.qps = {q: _Qp() for q in qpns}
        self.cfg = SimpleNamespace(qp=SimpleNamespace(pmtu=pmtu))
        self.completions = deque()
        self.counters = SimpleNamespace()

    def qp(self, qpn):
        return self.qps[qpn]

    def qp_counters(self):
        return {}


def test_noise_drains_before_it_reports_and_counts_received_payload():
    """After `duration` the noise posts nothing new but keeps receiving for `drain`: what was
    in flight at the stop arrives (rx) instead of counting as lost; what is still
    unacknowledged at the report is `unsettled`, left out of the losses."""
    from experiments.isolation.metrics import frames_lost
    from experiments.isolation.workload import Noise, received_payload

    assert received_payload(4, 10_000, 4096) == 10_000 + 4096   # 3 packets a message
    assert received_payload(128, 256 << 10, 4096) == 2 * (256 << 10)
    nic = _Nic([1, 2])
    noise = Noise(nic, [1, 2], 10_000, duration_ns=100, drain_ns=50)
    noise.service(0)
    assert [q.posted for q in nic.qps.values()] == [2, 2] and not noise.done
    nic.qps[1].epsn += 4   # a peer's 1 1/3 messages arrived in order
    nic.completions.append((1, type("C", (), {"error": None, "kind": "write"})()))
    noise.service(99)
    assert nic.qps[1].posted == 3 and noise.received_bytes() == 14_096   # reposted, still sending
    nic.completions.append((2, type("C", (), {"error": None, "kind": "write"})()))
    noise.service(100)
    assert nic.qps[2].posted == 2 and noise.stopped and not noise.done   # stopped: no repost
    noise.service(149)
    assert not noise.done
    nic.qps[2].outstanding = 3
    noise.service(150)
    assert noise.done
    summary = noise.summary()
    assert summary["unsettled"] == 3 and summary["received_bytes"] == 14_096
    assert summary["samples"][0] == [0, 0] and summary["samples"][-1] == [150, 14_096]
    assert frames_lost(tx=1000, rx=900, red=60, unsettled=3) == 37
    assert frames_lost(tx=1000, rx=999, red=0, unsettled=3) == 0


def test_busbw_takes_the_slowest_rank_mean_and_p99_pools_the_seeds():
    from experiments.isolation import summarize
    from experiments.isolation.metrics import case_row, iteration_times, slowest_mean
    from experiments.report import nearest_rank

    ranks = [[1.0, 3.0], [3.0, 1.0]]
    assert slowest_mean(ranks) == 2.0 and iteration_times(ranks) == [3.0, 3.0]   # max per k: 3
    assert nearest_rank([5, 1, 4, 2, 3], 99) == 5 and nearest_rank([float(i) for i in range(1, 201)], 99) == 198

    def record(seed, times, case="shared"):
        return {"case": case, "seed": seed, "done": True, "wrong": 0, "error": None, "rank_times_s": times,
                "span_s": 1.0, "b_bytes": 0, "queue_drops": {"A": 0, "B": 0}, "meter_drops": {"A": 0, "B": 0},
                "marks": {"A": 0, "B": 0}, "retransmissions": {"A": 0, "B": 0}, "cc_decisions": 0, "wall_s": 0}

    row = case_row(record(1, ranks), 1 << 20, 2)
    assert row["a_iter_mean_us"] == 2e6 and row["a_iter_n"] == 2
    rows = [case_row(record(1, [[1.0, 1.0, 1.0, 10.0]]), 1 << 20, 1),
            case_row(record(2, [[1.0, 1.0, 1.0, 2.0]]), 1 << 20, 1)]
    for r in rows:
        r["a_norm_busbw"] = 1.0
    (s,) = summarize(rows, params_for("quick", "sim", cases=("shared",)))
    assert s["a_iter_p99_us"] == 10e6 and s["a_iter_n"] == 8   # not the seeds' mean of their maxima


def test_alone_baseline_needs_a_finished_run():
    from experiments.isolation.metrics import normalise

    rows = [{"case": "alone", "seed": 1, "done": False, "a_busbw_gbps": 10.0},
            {"case": "shared", "seed": 1, "done": True, "a_busbw_gbps": 5.0},
            {"case": "alone", "seed": 2, "done": True, "a_busbw_gbps": 10.0},
            {"case": "shared", "seed": 2, "done": True, "a_busbw_gbps": 5.0}]
    normalise(rows)
    assert rows[1]["a_norm_busbw"] != rows[1]["a_norm_busbw"]   # nan: no baseline for seed 1
    assert rows[3]["a_norm_busbw"] == 0.5
