"""`python -m experiments.adaptive_routing.host`: a host agent that runs workload after
workload in this process's network namespace (a Mininet host), so a batch of cases pays
Python's start-up once per host, not once per case.

Protocol on stdin/stdout, one line each: the agent prints "ready" once; then for every
case it reads a JSON `HostJob`, binds its sockets, prints "bound", waits for "go", runs and
prints one JSON result. End of input ends the agent.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

from experiments.adaptive_routing.workload import PermutationFlow, reseed
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.driver import UdpDriver
from fabriclab.roce.host import parse_peers
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


def make_app(job: HostJob, me: int, peers: list[tuple[str, int]]) -> tuple[RoceNic, PermutationFlow | Rank]:
    opts = RunOptions(iters=job.iters, warmup=0, line_rate=job.line_rate, pmtu=job.pmtu, window=job.window,
                      mode=job.receiver, rto=job.rto)
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


def run_job(job: HostJob, me: int, peers: list[tuple[str, int]]) -> dict:
    nic, app = make_app(job, me, peers)
    with UdpDriver(nic, app) as driver:
        driver.open_qp_sockets()
        print("bound", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise FabricError("launcher went away before 'go'")
        finished = driver.run(lambda: app.done, job.timeout)
        summary = app.summary()
        summary["send_errors"] = driver.send_errors
        if not finished:
            summary["error"] = summary.get("error") or f"host {me}: timed out after {job.timeout} s"
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__.splitlines()[0])
    p.add_argument("--me", type=int, required=True, help="this host's index in --peers")
    p.add_argument("--peers", required=True, help="every host's IP[:PORT], in index order")
    args = p.parse_args(argv)
    try:
        peers = parse_peers(args.peers)
        if not 0 <= args.me < len(peers):
            raise FabricError(f"--me {args.me} is outside 0..{len(peers) - 1}")
        print("ready", flush=True)
        for line in sys.stdin:
            job = HostJob(**json.loads(line))
            print(json.dumps(run_job(job, args.me, peers)), flush=True)
    except (FabricError, TypeError, ValueError) as err:
        print(f"{__name__}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
