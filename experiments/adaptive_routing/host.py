"""`python -m experiments.adaptive_routing.host --me I --peers IP[:PORT],...`: this experiment's
host agent. It is fabriclab's one host agent (`fabriclab.launch.agent`: "ready", then per case a
JSON job, "bound", "go", one JSON result) serving the experiment's two workloads: a permutation
flow and an all-reduce over a given ring. A batch of cases pays Python's start-up once per host.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

from experiments.adaptive_routing.workload import PermutationFlow, reseed
from fabriclab.errors import FabricError
from fabriclab.launch.agent import Peers, Workload, late_loop_burst, serve
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.rank import Rank
from fabriclab.roce.runs import RunOptions


@dataclass(frozen=True)
class HostJob:
    """One host's part of one case."""

    workload: str            # "permutation" or "allreduce"
    nbytes: int
    seed: int
    line_rate: float         # bit/s
    pmtu: int
    window: int
    receiver: str            # "gbn" or "ooo"
    rto: float
    timeout: float
    iters: int = 1
    dst: int | None = None   # permutation: the host we write to
    src: int | None = None   # permutation: the host that writes to us
    ring: list[int] | None = None  # allreduce: host indices in rank order (default: as given)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def make_app(job: HostJob, me: int, peers: Peers, burst: int | None = None
             ) -> tuple[RoceNic, PermutationFlow | Rank]:
    """`burst`: the pacer's catch-up in bytes (None: the engine's default, as in virtual time)."""
    opts = RunOptions(iters=job.iters, warmup=0, line_rate=job.line_rate, pmtu=job.pmtu, window=job.window,
                      mode=job.receiver, rto=job.rto, burst=burst)
    nic = RoceNic(opts.nic_config(*peers[me]))
    if job.workload == "permutation":
        if job.dst is None or job.src is None:
            raise FabricError("the permutation needs dst and src")
        app: PermutationFlow | Rank = PermutationFlow(nic, me, peers, job.dst, job.src, job.nbytes)
    elif job.workload == "allreduce":
        order = job.ring or list(range(len(peers)))
        if sorted(order) != list(range(len(peers))):
            raise FabricError(f"ring {order} is not an order of all {len(peers)} hosts")
        spec = CollectiveSpec("allreduce", len(peers), job.nbytes)
        app = Rank(nic, order.index(me), [peers[i] for i in order], spec, job.iters, 0)
    else:
        raise FabricError(f"unknown workload {job.workload!r}")
    reseed(nic, me, job.seed)  # after connecting: every QP exists
    return nic, app


def workload(job: dict, me: int, peers: Peers) -> tuple[RoceNic, PermutationFlow | Rank]:
    """The agent's entry for both workloads (a rank process in real time): the job line is a
    HostJob."""
    host = HostJob(**job)
    return make_app(host, me, peers, burst=late_loop_burst(host.line_rate, host.pmtu))


WORKLOADS: dict[str, Workload] = {"permutation": workload, "allreduce": workload}


if __name__ == "__main__":
    sys.exit(serve(WORKLOADS, prog=f"python -m {__name__}"))
