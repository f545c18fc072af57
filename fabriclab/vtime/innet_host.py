"""In-network all-reduce in virtual time: one `InnetWorker` per rank on the hosts of a vtime
Fabric running fabric.p4, the job installed by controller.aggregation (docs/aggregation.md).

A worker is not a RoCE app, so it does not sit behind a host's NIC: `InnetHost` sends its
UDP frames on the host's wire and takes over the leaf's wire toward the host. Virtual time
is deterministic, so the times it reports are exact, repeatable figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from controller.aggregation import AggJob, AggregationManager, install_job, remove_job
from fabriclab.roce.innet import (AGG_UDP_PORT, InnetConfig, InnetWorker, float_check,
                                  random_buffers, wrong_elements)
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.frames import ip_bytes, mac_bytes, parse_udp, udp_frame
from fabriclab.vtime.runs import DEFAULT_LIMIT_NS


class InnetHost:
    """One worker on a host interface: frames out on the host's wire; the leaf's wire
    toward the host delivers here."""

    def __init__(self, fabric: Fabric, host: str, worker: InnetWorker, service_ip: str):
        ep = fabric.endpoint(host)
        self.fabric, self.worker, self.wire = fabric, worker, ep.wire
        self.head = (mac_bytes(ep.addr.mac), mac_bytes(ep.addr.gateway_mac), ip_bytes(ep.ip),
                     ip_bytes(service_ip))
        self.done_at: int | None = None
        fabric.wires[(ep.addr.switch, ep.addr.switch_port)].receive = self.receive

    def start(self) -> None:
        self.send(self.worker.poll(self.fabric.loop.now))

    def send(self, packets: list[bytes]) -> None:
        now = self.fabric.loop.now
        for p in packets:
            self.wire.send(udp_frame(*self.head, AGG_UDP_PORT, AGG_UDP_PORT, p, tos=0), now)
        due = self.worker.deadline()
        if due is not None:
            self.fabric.loop.at(due, self._timer)

    def _timer(self) -> None:
        due = self.worker.deadline()
        if due is not None and due <= self.fabric.loop.now:
            self.send(self.worker.on_timer(self.fabric.loop.now))

    def receive(self, port: int, frame: bytes) -> None:
        parsed = parse_udp(frame)
        if parsed is not None and parsed[3] == AGG_UDP_PORT:
            self.send(self.worker.receive(parsed[5], self.fabric.loop.now))
            if self.worker.done and self.done_at is None:
                self.done_at = self.fabric.loop.now


@dataclass(frozen=True)
class InnetRun:
    """In-network all-reduces of one buffer per rank: nccl-tests' figures plus what the
    network did."""

    nranks: int
    bytes: int
    times_ns: tuple[int, ...]    # per finished iteration, until the last rank had its result
    iters: int                   # iterations asked for
    wrong: int                   # elements off by more than the fixed-point bound, finished ranks
    sent: int                    # aggregation packets the ranks sent, retransmissions included
    retransmitted: int
    completed: int               # ranks that finished the last iteration run
    root: str
    up_bytes: dict[str, int]     # per non-root tree switch: bytes it sent to its parent

    @property
    def time_ns(self) -> int | None:
        """Mean time of an iteration; None if one did not finish."""
        if len(self.times_ns) < self.iters:
            return None
        return sum(self.times_ns) // len(self.times_ns)

    @property
    def algbw_gbs(self) -> float:
        return self.bytes / self.time_ns if self.time_ns else 0.0

    @property
    def busbw_gbs(self) -> float:
        return self.algbw_gbs * 2 * (self.nranks - 1) / self.nranks


def run_innet_allreduce(fabric: Fabric, hosts: Sequence[str], nbytes: int, *, job_id: int = 1,
                        pool_size: int = 64, window: int = 16, rto_ns: int = 400_000,
                        seed: int = 1, iters: int = 1,
                        limit_ns: int = DEFAULT_LIMIT_NS) -> InnetRun:
    """Install a job over `hosts` (rank order), all-reduce float32 buffers of `nbytes` per
    rank through the switches `iters` times (each iteration's seqs follow the last one's, as
    on a real job), check every rank's result, remove the job. The hosts' wires stay with
    the workers afterwards: use a fresh Fabric per call."""
    job: AggJob = AggregationManager(fabric.topo).create(job_id, hosts, pool_size=pool_size)
    install_job(fabric.clients, job)
    n = len(hosts)
    buffers = random_buffers(n, nbytes, seed)
    scale, exact, tolerance = float_check(buffers)
    tx_before = {s: fabric.switch_tx_bytes(s) for s in job.roles}
    times: list[int] = []
    wrong = sent = retransmitted = completed = 0
    seq_base = 0
    for _ in range(iters):
        runners = [InnetHost(fabric, h, InnetWorker(InnetConfig(
            job.job_id, r, n, job.pool_size, window=min(window, pool_size), rto_ns=rto_ns,
            scale=scale, seq_base=seq_base), buffers[r]), job.service_ip)
            for r, h in enumerate(hosts)]
        seq_base += runners[0].worker.chunks
        t0 = fabric.loop.now
        for runner in runners:
            runner.start()
        fabric.run(until_ns=t0 + limit_ns, stop=lambda: all(r.done_at is not None for r in runners))
        # checked over the ranks that have a result; one that did not finish is `completed`'s
        wrong += sum(wrong_elements(r.worker.result(), exact, tolerance) for r in runners if r.worker.done)
        sent += sum(r.worker.stats.sent for r in runners)
        retransmitted += sum(r.worker.stats.retransmitted for r in runners)
        finished = [r.done_at for r in runners if r.done_at is not None]
        completed = len(finished)
        if completed < n:
            break
        times.append(max(finished) - t0)
    up = {s: fabric.switch_tx_bytes(s)[role.parent_port] - tx_before[s][role.parent_port]
          for s, role in job.roles.items() if not role.is_root}
    remove_job(fabric.clients, job)
    return InnetRun(n, buffers[0].nbytes, tuple(times), iters, wrong, sent, retransmitted,
                    completed, job.root, up)
