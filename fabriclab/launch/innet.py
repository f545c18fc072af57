"""`fabriclab collective allreduce --algo innet`: the all-reduce summed by fabric.p4's
aggregation slots (docs/aggregation.md) instead of a ring between the ranks.

- `--sim N`: N ranks in virtual time on a star of one switch running fabric.p4 (a
  leaf-spine above 32 ranks).
- `--run NAME` / `--hosts LIST`: the ranks in the hosts of a running `fabriclab net`; the
  launcher installs a job on its switches over P4Runtime, runs one agent per rank
  (`python -m fabriclab.launch.innet`, the agent line protocol of `fabriclab.launch.agent`)
  and removes the job, whatever happens.
- `--netns`: a Linux bridge cannot aggregate; that is an error.

Each rank runs an `InnetWorker` (windowed chunks, a retransmission timer per chunk) over one
UDP socket bound to its address and port 9200, and checks its result against the exact sum
of every rank's buffer (they all come from one seed): the `#wrong` column.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabriclab.errors import FabricError
from controller.aggregation import MAX_FAN_IN
from fabriclab.launch.agent import Peers, agent_argv, serve_rounds, wait_go
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import Spawn
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.innet import (AGG_UDP_PORT, LANES, InnetConfig, InnetWorker, float_check,
                                  random_buffers, wrong_elements)
from fabriclab.roce.runs import RunOptions

AGENT = "fabriclab.launch.innet"
SEED = 1
REALTIME_WINDOW = 4
REALTIME_MIN_RTO_S = 0.2


@dataclass(frozen=True)
class InnetOptions:
    """The in-network knobs: slots per switch for the job, chunks in flight, chunk RTO."""

    pool: int = 64
    window: int = 16
    rto_s: float = 0.0004


def check_spec(spec: CollectiveSpec) -> None:
    if spec.kind != "allreduce" or spec.op != "sum":
        raise FabricError(f"--algo innet runs allreduce with --op sum, not {spec.kind} {spec.op}")
    if spec.dtype != "float":
        raise FabricError(f"--algo innet sums float buffers (int32 fixed point on the wire), "
                          f"not {spec.dtype}")


def _summary(rank: int, times: list[float], iters: int, wrong: int, retransmitted: int,
             error: str | None = None) -> dict[str, Any]:
    """A rank's result in the shape `roce.runs.summarize` and the CLI read."""
    done = error is None and len(times) == iters
    out = {"rank": rank, "done": done, "avg_time": sum(times) / len(times) if times else 0.0,
           "wrong": wrong, "qp": {"retransmissions": retransmitted}, "nic": {"cnps_sent": 0}}
    if error or not done:
        out["error"] = error or f"rank {rank}: {len(times)}/{iters} iterations finished"
    return out


# --- virtual time ---------------------------------------------------------------------------

def simulate_innet(spec: CollectiveSpec, opts: RunOptions, innet: InnetOptions,
                   delay_s: float, loss: float) -> list[dict]:
    """`--sim N --algo innet`: N ranks on a one-switch star at the line rate (above 32
    ranks, the most one switch sums: a leaf-spine); the warm-up iterations run too and are
    left out of the average."""
    from fabriclab.vtime.fabric import Fabric, FabricOptions
    from fabriclab.vtime.innet_host import run_innet_allreduce
    from fabriclab.vtime.links import Impairments
    from fabriclab.vtime.runs import star
    from topologies.builders import leaf_spine

    check_spec(spec)
    mbps, delay_us = opts.line_rate / 1e6, round(delay_s * 1e6)
    if spec.nranks <= MAX_FAN_IN:
        topo = star(spec.nranks, mbps, delay_us)
    else:  # a switch sums at most 32 children: leaves of up to 32 ranks under a spine
        leaves = -(-spec.nranks // MAX_FAN_IN)
        topo = leaf_spine(leaves, 2, -(-spec.nranks // leaves), downlink_bw=mbps, delay_us=delay_us)
    fabric = Fabric(topo, FabricOptions(impairments=Impairments(loss=loss)), seed=SEED)
    hosts = [h.name for h in fabric.topo.hosts()][:spec.nranks]
    r = run_innet_allreduce(fabric, hosts, spec.bytes, pool_size=innet.pool,
                            window=innet.window, rto_ns=round(innet.rto_s * 1e9), seed=SEED,
                            iters=opts.warmup + opts.iters)
    times = [t / 1e9 for t in r.times_ns[opts.warmup:]]
    # the run's totals go on rank 0 (summarize adds #wrong over ranks)
    return [_summary(i, times, opts.iters, r.wrong if i == 0 else 0,
                     r.retransmitted if i == 0 else 0,
                     None if r.completed == spec.nranks else "timed out in virtual time")
            for i in range(spec.nranks)]


# --- real time: the rank --------------------------------------------------------------------

def run_worker(worker: InnetWorker, sock: socket.socket, service: tuple[str, int],
               timeout_s: float) -> bool:
    """Drive `worker` over `sock` until done (True) or `timeout_s` passes (False)."""
    now = time.monotonic_ns
    end = now() + round(timeout_s * 1e9)

    def send(packets: list[bytes]) -> None:
        for p in packets:
            sock.sendto(p, service)

    send(worker.poll(now()))
    while not worker.done:
        t = now()
        if t >= end:
            return False
        due = worker.deadline()
        wait = min(end, due if due is not None else end) - t
        if select.select([sock], [], [], max(0, wait) / 1e9)[0]:
            while True:
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    break
                send(worker.receive(data, now()))
        t = now()
        if due is not None and due <= t:
            send(worker.on_timer(t))
    return True


def rank_round(job: dict, me: int, peers: Peers, go: Any) -> dict:
    """One round of the agent: bind, say "bound", wait for `go()`, run the iterations."""
    world = len(peers)
    buffers = random_buffers(world, int(job["size"]), int(job["seed"]))
    scale, exact, tolerance = float_check(buffers)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((peers[me][0], AGG_UDP_PORT))
        sock.setblocking(False)
        print("bound", flush=True)
        go()
        times: list[float] = []
        wrong = retransmitted = 0
        seq_base = int(job["seq_base"])
        for it in range(job["warmup"] + job["iters"]):
            worker = InnetWorker(InnetConfig(job["job"], me, world, job["pool"],
                                             window=job["window"], rto_ns=job["rto_ns"],
                                             scale=scale, seq_base=seq_base), buffers[me])
            seq_base += worker.chunks
            started = time.monotonic()
            if not run_worker(worker, sock, (job["service_ip"], AGG_UDP_PORT), job["timeout"]):
                return _summary(me, times, job["iters"], wrong, retransmitted + worker.stats.retransmitted,
                                f"rank {me}: timed out after {job['timeout']} s "
                                f"({worker.outstanding} chunks outstanding)")
            if it >= job["warmup"]:
                times.append(time.monotonic() - started)
            wrong += wrong_elements(worker.result(), exact, tolerance)
            retransmitted += worker.stats.retransmitted
        return _summary(me, times, job["iters"], wrong, retransmitted)
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    """The agent (fabriclab.launch.agent's protocol): 'ready', then per job line: 'bound',
    wait for 'go', one JSON result."""
    return serve_rounds(lambda job, seats, peers: rank_round(job, seats[0].me, peers, wait_go), argv,
                        f"python -m {AGENT}", "an in-network all-reduce rank")


# --- real time: the launcher ----------------------------------------------------------------

def launch_innet(spawns: list[Spawn], addrs: list[tuple[str, int]], host_names: list[str],
                 clients: Any, topo: Any, specs: list[CollectiveSpec], opts: RunOptions,
                 innet: InnetOptions, timeout: float) -> list[list[dict]]:
    """Install a job over `host_names` through `clients` (switch name -> P4RuntimeClient
    of the net whose topology is `topo`), run every spec's all-reduce in the ranks (one
    agent per rank for all sizes), remove the job."""
    from controller.aggregation import create_installed, remove_job

    for spec in specs:
        check_spec(spec)
    argvs = [agent_argv(AGENT, i, addrs) for i in range(len(addrs))]
    job = create_installed(clients, topo, host_names, pool_size=innet.pool)
    try:
        out, seq_base = [], 0
        with Lockstep(spawns, argvs, timeout + 30, what="rank") as ranks:
            for spec in specs:
                line = json.dumps({
                    "job": job.job_id, "pool": job.pool_size, "window": min(innet.window, innet.pool),
                    "rto_ns": round(innet.rto_s * 1e9), "service_ip": job.service_ip,
                    "size": spec.bytes, "seed": SEED, "iters": opts.iters, "warmup": opts.warmup,
                    "timeout": timeout, "seq_base": seq_base})
                out.append(ranks.round([line] * len(addrs), timeout + 30))
                seq_base += -(-max(1, spec.bytes // 4) // LANES) * (opts.iters + opts.warmup)
        return out
    finally:
        remove_job(clients, job)


def run_innet(args: argparse.Namespace, specs: Any, opts: RunOptions,
              attach: Any = None) -> list[tuple[CollectiveSpec, list[dict]]]:
    """`fabriclab collective allreduce --algo innet` wherever the ranks run; `specs(n)`
    gives the sizes' specs for n ranks. `attach(run) -> (rundir, connect)` finds a running
    net; `connect()` opens a controller on its switches (the CLI passes `fabriclab ctl`'s,
    which sits above this floor)."""
    if args.sim is not None:
        innet = InnetOptions()
        return [(spec, simulate_innet(spec, opts, innet, args.delay, args.loss))
                for spec in specs(args.sim)]
    if args.netns is not None:
        raise FabricError("--algo innet needs P4 switches that aggregate (fabric.p4): the "
                          "--netns bridge cannot; use --run NAME on a `fabriclab net` or --sim N")
    from fabriclab.launch.collective import hosts_of_run
    from fabriclab.launch.placement import parse_hosts
    from topologies.addressing import Addressing
    from topologies.graph import Topology

    if attach is None:
        raise FabricError("--algo innet on a running net needs a way to attach to it")
    rundir, connect = attach(args.run)
    topo = Topology.from_json((rundir / "topology.json").read_text())
    if args.run:
        names = [n for n in (args.ranks or "").split(",") if n] or [h.name for h in topo.hosts()]
        spawns, addrs = hosts_of_run(rundir.name, names)
    else:
        spawns, addrs = parse_hosts(args.hosts)
        by_ip = {str(Addressing(topo).ip(h.name)): h.name for h in topo.hosts()}
        unknown = [ip for ip, _ in addrs if ip not in by_ip]
        if unknown:
            raise FabricError(f"--hosts: {', '.join(unknown)} is not a host of running net "
                              f"{rundir.name!r}")
        names = [by_ip[ip] for ip, _ in addrs]
    # Python switches sum ~500 aggregation packets/s: few chunks in flight, a timer of
    # --rto but at least REALTIME_MIN_RTO_S (early retransmissions only cost replays)
    innet = InnetOptions(window=REALTIME_WINDOW, rto_s=max(args.rto, REALTIME_MIN_RTO_S))
    todo = specs(len(addrs))
    with connect() as ctl:
        results = launch_innet(spawns, addrs, names, ctl.clients, topo, todo, opts, innet,
                               args.timeout)
    return list(zip(todo, results))


if __name__ == "__main__":
    sys.exit(main())
