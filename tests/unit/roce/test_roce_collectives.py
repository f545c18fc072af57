"""Collective schedules with real data: exact results, nccl-tests report, runs in virtual time."""

import random
from collections import deque

import numpy as np
import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import Collective, CollectiveSpec, count_wrong, expected_output, rank_input
from fabriclab.roce.report import format_table, make_row
from fabriclab.roce.runs import RunOptions, summarize
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.rank import Rank
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import run_apps, run_collective, star
from topologies.graph import LinkParams, NodeKind, Topology


def simulate(spec: CollectiveSpec, opts: RunOptions, faults: Impairments = Impairments(), seed: int = 0):
    """The collective CLI's default fabric: a fabric.p4 star at line rate, 50 us per switch port."""
    topo = star(spec.nranks, bw_mbps=opts.line_rate / 1e6, delay_us=50)
    return run_collective(topo, spec, opts, seed, FabricOptions(queue_bytes=256 << 10, impairments=faults))


def exchange(spec: CollectiveSpec, seed: int) -> list[Collective]:
    """Deliver Puts in a random interleaving that keeps each (src, dst) pair in order, as RC does."""
    rng = random.Random(seed)
    ranks = [Collective(spec, r) for r in range(spec.nranks)]
    links: dict[tuple[int, int], deque] = {}
    for r, c in enumerate(ranks):
        for p in c.start():
            links.setdefault((r, p.dst), deque()).append(p)
    while any(links.values()):
        (src, dst) = rng.choice([k for k, q in links.items() if q])
        p = links[(src, dst)].popleft()
        for q in ranks[dst].on_data(src, p.tag, p.data):
            links.setdefault((dst, q.dst), deque()).append(q)
    return ranks


@pytest.mark.parametrize("kind", ["allreduce", "allgather", "reducescatter", "alltoall", "gather", "scatter",
                                  "sendrecv"])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype,op", [("float", "sum"), ("int", "prod"), ("int", "max"), ("float", "min")])
def test_schedules_compute_the_exact_result(kind, n, dtype, op):
    spec = CollectiveSpec(kind, n, 4 * 40 * n + 12, dtype, op)
    ranks = exchange(spec, seed=n)
    for r, c in enumerate(ranks):
        assert c.done
        assert count_wrong(spec, r, c.output()) == 0


@pytest.mark.parametrize("kind,n,size,dtype", [("allreduce", 3, 4 * 30, "int"), ("alltoall", 7, 4 * 7 * 101, "float"),
                                               ("allgather", 16, 8 * 16 * 53, "double"),
                                               ("allreduce", 2, 4 * 10, "int")])  # less than one period
def test_rank_input_is_its_formula_at_every_element(kind, n, size, dtype):
    """rank_input tiles the formula's period of 25: the same values as computing every element."""
    spec = CollectiveSpec(kind, n, size, dtype)
    for r in range(n):
        got = rank_input(spec, r)
        i = np.arange(got.size, dtype=np.int64)
        assert got.size == (spec.chunk if kind == "allgather" else spec.count)
        assert got.dtype == spec.np_dtype
        assert np.array_equal(got, (((r * 7 + i * 3 + (r + 1) * (i // 5)) % 5) - 2).astype(spec.np_dtype))


@pytest.mark.parametrize("kind", ["allreduce", "reducescatter", "allgather", "gather", "scatter",
                                  "sendrecv", "alltoall"])
@pytest.mark.parametrize("n,size,dtype,op", [(3, 4 * 30, "int", "sum"), (3, 4 * 30, "int", "max"),
                                             (7, 4 * 7 * 13, "float", "sum"), (5, 8 * 5 * 61, "double", "min"),
                                             (4, 8 * 4 * 9, "int64", "prod")])
def test_expected_output_is_what_the_inputs_give(kind, n, size, dtype, op):
    """Built from the inputs' period of 25 (chunks that start mid-period included), it is
    what every rank's whole input gives."""
    spec = CollectiveSpec(kind, n, size, dtype, op)
    inputs = [rank_input(spec, r) for r in range(n)]
    c = spec.chunk
    reduced = np.array(inputs[0])
    for x in inputs[1:]:
        reduced = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}[op](reduced, x)
    for r in range(n):
        want = {"allreduce": reduced, "reducescatter": reduced[r * c:(r + 1) * c],
                "allgather": np.concatenate(inputs),
                "gather": np.concatenate(inputs) if r == 0 else inputs[r],
                "scatter": inputs[0][r * c:(r + 1) * c], "sendrecv": inputs[(r - 1) % n],
                "alltoall": np.concatenate([x[r * c:(r + 1) * c] for x in inputs])}[kind]
        got = expected_output(spec, r)
        assert got.dtype == want.dtype and np.array_equal(got, want), (kind, r)


def test_wrong_elements_are_counted():
    spec = CollectiveSpec("allreduce", 2, 4 * 64)
    ranks = exchange(spec, 0)
    out = ranks[0].output().copy()
    out[[3, 9]] += 1
    assert count_wrong(spec, 0, out) == 2


def test_allreduce_moves_2_n_minus_1_chunks_per_rank():
    spec = CollectiveSpec("allreduce", 4, 4 * 400)
    c = Collective(spec, 0)
    puts = c.start()
    assert len(puts) == 1 and puts[0].dst == 1 and len(puts[0].data) == 4 * 100
    assert len(c._steps) == 2 * 3


def test_bad_specs_are_clear_errors():
    for kwargs, msg in [({"kind": "broadcast"}, "unknown collective"), ({"dtype": "half"}, "data type"),
                        ({"op": "avg"}, "reduction"), ({"size": 4}, "too small")]:
        args = {"kind": "allreduce", "nranks": 4, "size": 1024} | kwargs
        with pytest.raises(FabricError, match=msg):
            CollectiveSpec(**args)


def test_report_bandwidths_follow_nccl_tests():
    spec = CollectiveSpec("allreduce", 4, 1 << 20)
    row = make_row(spec, 0.5, 0)
    assert row.algbw == pytest.approx((1 << 20) / 0.5 / 1e9)
    assert row.busbw == pytest.approx(row.algbw * 2 * 3 / 4)
    ag = make_row(CollectiveSpec("allgather", 4, 1 << 20), 0.5, 0)
    assert ag.busbw == pytest.approx(ag.algbw * 3 / 4) and ag.redop == "none"
    text = format_table("allreduce", [row])
    assert "busbw" in text and "#wrong" in text
    # 2 MiB/s = 16.78 Mb/s algbw: the table speaks in the largest bit rate unit it reaches
    assert text.splitlines()[-4].split() == ["1048576", "262144", "float", "sum", "500000.0", "16.78", "25.17", "0"]
    assert "(Mb/s)" in text and text.endswith("Avg bus bandwidth    : 25.17 Mb/s")
    fast = format_table("allreduce", [make_row(spec, 0.0005, 0)])
    assert "(Gb/s)" in fast and fast.endswith(": 25.17 Gb/s")


@pytest.mark.parametrize("mode", ["gbn", "ooo"])
def test_allreduce_in_virtual_time_over_impaired_fabric(mode):
    spec = CollectiveSpec("allreduce", 4, 64 * 1024, "float", "sum")
    faults = Impairments(loss=0.005, reorder=0.02, duplicate=0.005)
    results = simulate(spec, RunOptions(iters=2, mode=mode, rto=0.005), faults, seed=5)
    row = summarize(spec, results)
    assert row.wrong == 0 and all(r["wrong"] == 0 for r in results)
    assert sum(r["qp"]["retransmissions"] for r in results) > 0
    # losses cost timeouts (the only recovery in ooo mode), yet busbw stays a fair share of line rate
    assert 0.2 < row.busbw * 8e9 / 100e6 < 1.0


def test_allreduce_time_matches_line_rate_on_a_clean_fabric():
    spec = CollectiveSpec("allreduce", 4, 1 << 20)
    row = summarize(spec, simulate(spec, RunOptions(iters=1, warmup=0)))
    wire_bits = 2 * 3 / 4 * (1 << 20) * 8 * (1024 + 82) / 1024  # payload plus per-packet headers
    assert row.wrong == 0
    assert row.time_us == pytest.approx(wire_bits / 100e6 * 1e6, rel=0.05)


def test_data_for_a_later_iteration_waits_for_the_slow_rank():
    """Rank 2 hears everything late: in the ring its neighbours start the next iteration first."""
    spec = CollectiveSpec("allreduce", 4, 16 * 1024, "int", "sum")
    topo = Topology(name="slow-h3")
    topo.add_node("sw1", NodeKind.LEAF)
    for i in range(1, 5):
        topo.add_node(f"h{i}", NodeKind.HOST)
        topo.add_link(f"h{i}", "sw1", LinkParams(100, 0), LinkParams(100, 20_000 if i == 3 else 10))
    fabric, opts = Fabric(topo), RunOptions(iters=4, warmup=0)
    addrs = [(fabric.endpoint(f"h{i + 1}").ip, 4791) for i in range(4)]
    apps = {}
    for i, (ip, port) in enumerate(addrs):
        nic = RoceNic(opts.nic_config(ip, port))
        apps[f"h{i + 1}"] = (nic, Rank(nic, i, addrs, spec, opts.iters, opts.warmup))
    run_apps(fabric, apps, limit_ns=60 * 10**9)
    ranks = [rank for _, rank in apps.values()]
    assert all(r.done and r.result.wrong == 0 and r.result.error is None for r in ranks)
    assert sum(r.early_arrivals for r in ranks) > 0


def test_gather_is_an_incast_to_rank_0_and_scatter_its_mirror():
    spec = CollectiveSpec("gather", 4, 4 * 400, "int")
    starts = [Collective(spec, r).start() for r in range(4)]
    assert starts[0] == [] and all(len(p) == 1 and p[0].dst == 0 for p in starts[1:])
    scatter = Collective(CollectiveSpec("scatter", 4, 4 * 400, "int"), 0).start()
    assert sorted(p.dst for p in scatter) == [1, 2, 3] and all(len(p.data) == 400 for p in scatter)
    assert CollectiveSpec("sendrecv", 4, 4 * 400).bus_factor == 1.0


@pytest.mark.parametrize("kind", ["gather", "scatter", "sendrecv"])
def test_direct_kinds_in_virtual_time(kind):
    spec = CollectiveSpec(kind, 4, 64 * 1024, "int", "sum")
    row = summarize(spec, simulate(spec, RunOptions(iters=2)))
    assert row.wrong == 0 and row.busbw > 0
