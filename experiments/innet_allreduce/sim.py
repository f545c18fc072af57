"""One innet_allreduce case in virtual time: a fresh fabric, then either the RoCE ring
all-reduce or the in-network one (fabriclab.vtime.innet_host) on the same hosts."""

from __future__ import annotations

import time
from typing import Any

from experiments.innet_allreduce.params import Params, topology
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.innet_host import run_innet_allreduce
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import run_collective


def run_case(p: Params, scheme: str, ranks: int, nbytes: int, loss: float,
             seed: int) -> dict[str, Any]:
    """One row: busbw (nccl-tests' GB/s; None if a rank did not finish), #wrong (the
    in-network one over the ranks that finished), retransmissions, what it cost."""
    started = time.monotonic()
    fabric = Fabric(topology(p, ranks), FabricOptions(impairments=Impairments(loss=loss)), seed=seed)
    hosts = [h.name for h in fabric.topo.hosts()][:ranks]
    limit = round(p.timeout_s * 1e9)
    row: dict[str, Any] = {"scheme": scheme, "ranks": ranks, "bytes": nbytes, "loss": loss,
                           "seed": seed, "error": None}
    if scheme == "innet":
        r = run_innet_allreduce(fabric, hosts, nbytes, pool_size=p.pool_size, window=p.window,
                                rto_ns=p.rto_us * 1000, seed=seed, limit_ns=limit)
        ok = r.time_ns is not None
        row.update(time_us=r.time_ns / 1000 if ok else None, algbw_gbs=r.algbw_gbs if ok else None,
                   busbw_gbs=r.busbw_gbs if ok else None, wrong=r.wrong, retransmissions=r.retransmitted,
                   packets_sent=r.sent, root=r.root, up_bytes=sum(r.up_bytes.values()))
        if r.time_ns is None:
            row["error"] = f"{r.completed}/{ranks} ranks finished in {p.timeout_s:g} simulated s"
    else:
        spec = CollectiveSpec("allreduce", ranks, nbytes)
        options = RunOptions(iters=1, warmup=0, line_rate=p.host_mbps * 1e6, pmtu=p.pmtu,
                             window=p.ring_window, rto=p.ring_rto_us / 1e6)
        ranks_out = run_collective(fabric.topo, spec, options, seed, hosts=hosts,
                                   limit_ns=limit, fabric=fabric)
        try:
            s = summarize(spec, ranks_out)
            row.update(time_us=s.time_us, algbw_gbs=s.algbw, busbw_gbs=s.busbw, wrong=s.wrong)
        except FabricError as err:  # a rank did not finish
            row.update(time_us=None, algbw_gbs=None, busbw_gbs=None, wrong=None, error=str(err)[:300])
        row.update(retransmissions=sum(x["qp"].get("retransmissions", 0) for x in ranks_out))
    row.update(wall_s=round(time.monotonic() - started, 2), packets=fabric.loop.packets)
    return row
