"""In-network all-reduce in virtual time: InnetWorkers on the hosts of a vtime Fabric running
fabric.p4, the job installed by controller.aggregation, compared with the ring all-reduce
of the RoCE stack on the same fabric. Virtual time is deterministic, so the busbw figures
are exact repeatable numbers, not timings of this machine."""

from __future__ import annotations

import numpy as np

from controller.aggregation import AggregationManager, install_job
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.innet import (InnetConfig, InnetWorker, choose_scale,
                                  max_error, wrong_elements)
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.innet_host import InnetHost
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import run_collective
from topologies.builders import leaf_spine

RANKS, SIZE = 8, 128 << 10
RING = RunOptions(iters=1, warmup=0, line_rate=1e9, pmtu=1024, window=64, rto=0.0005)


def topo():
    return leaf_spine(2, 2, RANKS // 2, downlink_bw=1000.0, delay_us=2)


def innet_allreduce(loss: float = 0.0, seed: int = 1):
    """(seconds, #wrong, retransmissions, leaf->spine bytes per spine)."""
    fabric = Fabric(topo(), FabricOptions(impairments=Impairments(loss=loss)), seed=seed)
    hosts = [h.name for h in fabric.topo.hosts()][:RANKS]
    job = AggregationManager(fabric.topo).create(1, hosts, pool_size=64)
    install_job(fabric.clients, job)
    rng = np.random.default_rng(seed)
    buffers = [rng.normal(0, 1, SIZE // 4).astype(np.float32) for _ in range(RANKS)]
    scale = choose_scale(max(float(np.abs(b).max()) for b in buffers), RANKS)
    runners = [InnetHost(fabric, h, InnetWorker(InnetConfig(
        job.job_id, r, RANKS, job.pool_size, window=16, rto_ns=400_000, scale=scale),
        buffers[r]), job.service_ip) for r, h in enumerate(hosts)]
    for runner in runners:
        runner.send(runner.worker.poll(0))
    fabric.run(until_ns=10**9, stop=lambda: all(r.done_at is not None for r in runners))
    exact = np.sum(np.stack(buffers).astype(np.float64), axis=0)
    tolerance = max_error(RANKS, scale) + float(np.spacing(np.float32(np.abs(exact).max())))
    wrong = sum(wrong_elements(r.worker.result(), exact, tolerance) for r in runners)
    up = {s: sum(fabric.switch_tx_bytes(leaf)[p] for leaf in ("l1", "l2")
                 for p, peer, _, _ in fabric.topo.neighbors(leaf) if peer == s)
          for s in ("s1", "s2")}
    return (max(r.done_at for r in runners) / 1e9, wrong,
            sum(r.worker.stats.retransmitted for r in runners), up)


def busbw(seconds: float) -> float:
    return SIZE / seconds * 2 * (RANKS - 1) / RANKS


def test_innet_beats_ring_by_the_expected_factor_at_8_ranks():
    t_innet, wrong, retransmitted, up = innet_allreduce()
    results = run_collective(topo(), CollectiveSpec("allreduce", RANKS, SIZE), RING, seed=1)
    t_ring = max(r["avg_time"] for r in results)
    assert wrong == 0 and retransmitted == 0 and sum(r["wrong"] for r in results) == 0
    assert busbw(t_innet) / busbw(t_ring) >= 1.5          # expected 2(n-1)/n = 1.75
    # one partial per leaf per chunk crosses to the root spine, nothing to the other one
    chunks = -(-SIZE // 4 // 256)
    assert up == {"s1": 2 * chunks * 1082, "s2": 0}


def test_innet_completes_correctly_at_1_percent_loss():
    _, wrong, retransmitted, _ = innet_allreduce(loss=0.01)
    assert wrong == 0 and retransmitted > 0
