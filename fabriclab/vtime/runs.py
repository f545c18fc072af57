"""Runs on a virtual-time fabric: apps on host NICs until they finish, and collectives.

`run_collective(topo, spec, options, seed)` returns the same per-rank dicts as the
real-time launcher (`Rank.summary()`), so `summarize` and the nccl-tests table work on
either. `options` is the host-stack settings object of the collective CLI and experiments
(anything with `iters`, `warmup` and `nic_config(ip)`, e.g. `RunOptions`). The seed picks
every queue pair's UDP source port (the fabric's ECMP entropy) and the links' impairment
draws: the same seed gives the same result byte for byte, another seed other paths.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol, Sequence

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.rank import QPN_BASE, Rank
from fabriclab.vtime.events import Progress
from fabriclab.vtime.fabric import Fabric, FabricOptions
from topologies.graph import LinkParams, NodeKind, Topology

DEFAULT_LIMIT_NS = 600 * 10**9  # simulated time after which unfinished apps give up


class StackOptions(Protocol):
    iters: int
    warmup: int

    def nic_config(self, ip: str, port: int = ROCE_PORT) -> NicConfig: ...


class App(Protocol):
    done: bool

    def service(self, now: int) -> None: ...


def entropy_port(seed: int, src: int, dst: int) -> int:
    """The UDP source port (49152-65535) rank `src` uses toward `dst` under `seed`."""
    return 49152 + (zlib.crc32(f"vtime:{seed}:{src}:{dst}".encode()) & 0x3FFF)


def star(hosts: int, bw_mbps: float | None = None, delay_us: int = 0,
         queue_pkts: int | None = None) -> Topology:
    """One switch with `hosts` hosts (h1..hN on ports 1..N): the collective CLI's default
    fabric. The delay is on the switch's port toward each host, so a packet crosses it once
    and a round trip twice (the old private simulator's port model)."""
    if hosts < 1:
        raise FabricError(f"a star needs at least one host, got {hosts}")
    topo = Topology(name=f"star-{hosts}")
    topo.add_node("sw1", NodeKind.LEAF)
    for i in range(hosts):
        topo.add_node(f"h{i + 1}", NodeKind.HOST)
        topo.add_link(f"h{i + 1}", "sw1", LinkParams(bw_mbps, 0, queue_pkts),
                      LinkParams(bw_mbps, delay_us, queue_pkts))
    topo.validate()
    return topo


def run_apps(fabric: Fabric, apps: dict[str, tuple[RoceNic, App]], limit_ns: int = DEFAULT_LIMIT_NS,
             progress: Progress | None = None) -> int:
    """Attach each host's (NIC, app) to its first interface, start them together at the
    fabric's current time and run until every app is done or `limit_ns` passes; returns
    the simulated time reached."""
    for host, (nic, app) in apps.items():
        endpoint = fabric.endpoint(host)
        endpoint.attach(nic, app)
        endpoint.kick()
    return fabric.run(until_ns=fabric.now + limit_ns, stop=_AllDone([a for _, a in apps.values()]),
                      progress=progress)


class _AllDone:
    """`stop` for the event loop: checked after every event, so it resumes where the last
    check found an unfinished app instead of scanning every app each time."""

    def __init__(self, apps: list[App]) -> None:
        self.apps, self.next = apps, 0

    def __call__(self) -> bool:
        apps = self.apps
        while self.next < len(apps) and apps[self.next].done:
            self.next += 1
        return self.next == len(apps)


def run_collective(topo: Topology, spec: CollectiveSpec, options: StackOptions, seed: int = 0,
                   fabric_options: FabricOptions | None = None, hosts: Sequence[str] | None = None,
                   limit_ns: int = DEFAULT_LIMIT_NS, progress: Progress | None = None,
                   fabric: Fabric | None = None) -> list[dict[str, Any]]:
    """Rank i on `hosts[i]` (default: the topology's first `spec.nranks` hosts)."""
    fabric = fabric or Fabric(topo, fabric_options, seed)
    names = list(hosts) if hosts is not None else [h.name for h in topo.hosts()][:spec.nranks]
    if len(names) != spec.nranks:
        raise FabricError(f"{spec.nranks} ranks need {spec.nranks} hosts; the topology has "
                          f"{len(topo.hosts())}" if hosts is None else
                          f"{spec.nranks} ranks but {len(names)} hosts given")
    addrs = [(fabric.endpoint(h).ip, ROCE_PORT) for h in names]
    apps: dict[str, tuple[RoceNic, App]] = {}
    ranks = []
    for i, (host, (ip, port)) in enumerate(zip(names, addrs)):
        nic = RoceNic(options.nic_config(ip, port))
        rank = Rank(nic, i, addrs, spec, options.iters, options.warmup)
        for peer in range(spec.nranks):
            if peer != i:
                nic.set_sport(QPN_BASE + peer, entropy_port(seed, i, peer))
        if host in apps:
            raise FabricError(f"host {host!r} given twice")
        apps[host] = (nic, rank)
        ranks.append(rank)
    run_apps(fabric, apps, limit_ns, progress)
    return [r.summary() for r in ranks]
