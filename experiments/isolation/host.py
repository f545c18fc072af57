"""`python -m experiments.isolation.host --me I --peers IP[:PORT],...`: this experiment's
host agent (fabriclab's one agent protocol, `fabriclab.launch.agent.serve`) with two
workloads: `victim`, a rank of tenant A's ring all-reduce over the hosts `members` (in ring
order), which also reports when it started and ended (`time.monotonic_ns`, one clock for
every network namespace of the machine), and `noise`, a member of tenant B's all-to-all
for `duration` seconds, then `drain` seconds receiving what is still in flight."""

from __future__ import annotations

import sys
from dataclasses import replace

from experiments.isolation.workload import noise_app
from fabriclab.errors import FabricError
from fabriclab.launch.agent import Peers, Stack, Workload, late_loop_burst, serve
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.nic import App, RoceNic, source_port
from fabriclab.roce.rank import Rank


def _stack(job: dict) -> Stack:
    """The job's host stack, with a rank process's catch-up burst (`late_loop_burst`)."""
    stack = Stack.from_job(job)
    return replace(stack, run=replace(stack.run, burst=late_loop_burst(stack.run.line_rate, stack.run.pmtu)))


def _members(job: dict, me: int, peers: Peers) -> tuple[int, Peers]:
    members = [int(i) for i in job["members"]]
    if me not in members or any(not 0 <= i < len(peers) for i in members):
        raise FabricError(f"host {me}: members {members} must name hosts 0..{len(peers) - 1} including me")
    return members.index(me), [peers[i] for i in members]


class TimedRank(Rank):
    """A rank that notes the clock (the driver's `now`) of its first service, when its
    first (warm-up) iteration starts, and of the service that finished it."""

    start_ns: int | None = None
    end_ns: int | None = None

    def service(self, now: int) -> None:
        if self.start_ns is None:
            self.start_ns = now
        was_done = self.done
        super().service(now)
        if self.done and not was_done:
            self.end_ns = now

    def summary(self) -> dict:
        return {**super().summary(), "start_ns": self.start_ns, "end_ns": self.end_ns}


def victim(job: dict, me: int, peers: Peers) -> tuple[RoceNic, App]:
    pos, addrs = _members(job, me, peers)
    stack = _stack(job)
    nic = RoceNic(stack.nic_config(*peers[me]))
    spec = CollectiveSpec("allreduce", len(addrs), int(job["size"]))
    return nic, TimedRank(nic, pos, addrs, spec, stack.iters, stack.warmup)


def noise(job: dict, me: int, peers: Peers) -> tuple[RoceNic, App]:
    pos, addrs = _members(job, me, peers)
    nic = RoceNic(_stack(job).nic_config(*peers[me]))
    return nic, noise_app(nic, pos, addrs, int(job["message"]), lambda i, j: source_port(0x700 + j, i),
                          round(float(job["duration"]) * 1e9), round(float(job.get("drain", 0)) * 1e9))


WORKLOADS: dict[str, Workload] = {"victim": victim, "noise": noise}


if __name__ == "__main__":
    sys.exit(serve(WORKLOADS, prog=f"python -m {__name__}"))
