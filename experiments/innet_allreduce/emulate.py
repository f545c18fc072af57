"""innet_allreduce on Mininet (root): one `fabriclab.net` leaf-spine on fabric.p4 per rank
count, the ring through the RoCE agents (`launch.collective.launch`) and the in-network
all-reduce through its own agents (`launch.innet.launch_innet`), in the same hosts."""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from experiments.emulation import fabric_net
from experiments.innet_allreduce.params import Params, topology
from fabriclab.errors import FabricError
from fabriclab.launch.collective import launch
from fabriclab.launch.innet import InnetOptions, launch_innet
from fabriclab.launch.placement import in_mininet_host
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.runs import RunOptions, summarize
from topologies.addressing import Addressing


def run_rank_count(p: Params, ranks: int, cases: list[tuple[int, float, int, str]],
                   progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every (bytes, loss, seed, scheme) case at `ranks` ranks on one fresh net."""
    topo = topology(p, ranks)
    rows = []
    with fabric_net(topo, f"innet-{ranks}-{os.getpid()}", p.target, p.grpc_base_port) as net:
        names = [h.name for h in topo.hosts()][:ranks]
        addressing = Addressing(topo)
        spawns = [in_mininet_host(net.host(n)) for n in names]
        addrs = [(str(addressing.ip(n)), ROCE_PORT) for n in names]
        options = RunOptions(iters=1, warmup=0, line_rate=p.host_mbps * 1e6, pmtu=p.pmtu,
                             window=p.ring_window, rto=p.ring_rto_us / 1e6)
        innet = InnetOptions(p.pool_size, p.window, p.rto_us / 1e6)
        for nbytes, loss, seed, scheme in cases:
            started = time.monotonic()
            spec = CollectiveSpec("allreduce", ranks, nbytes)
            row: dict[str, Any] = {"scheme": scheme, "ranks": ranks, "bytes": nbytes,
                                   "loss": loss, "seed": seed, "error": None}
            try:
                if scheme == "ring":
                    results = launch(spawns, addrs, spec, options, p.timeout_s)
                else:
                    (results,) = launch_innet(spawns, addrs, names, net.clients, topo, [spec],
                                              options, innet, p.timeout_s)
                s = summarize(spec, results)
                row.update(time_us=s.time_us, algbw_gbs=s.algbw, busbw_gbs=s.busbw, wrong=s.wrong,
                           retransmissions=sum(r["qp"].get("retransmissions", 0) for r in results))
            except FabricError as err:
                row.update(time_us=None, algbw_gbs=None, busbw_gbs=None, wrong=None,
                           retransmissions=None, error=str(err)[:300])
            row.update(wall_s=round(time.monotonic() - started, 2), packets=None)
            rows.append(row)
    return rows
