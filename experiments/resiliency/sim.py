"""One collective through link failures in virtual time (`--mode sim`): no root, no processes.

A fresh `fabriclab.vtime.Fabric` per run (failures change it): fabric.p4 on every switch,
programmed by the unchanged FabricController. `Fabric.watch_ports` makes the switches
notice every cut after `detect_us`; with fast reroute each writes its own port signal at
that instant (the data plane skips the port from the next packet), and either way the
port event reaches the controller, whose handler (controller.link_failure.
controller_handler: liveness masks, then regroup) runs `control_delay_us` later. The
ranks' in-order progress is sampled every `bin_us`: goodput over time. Everything is a
function of the parameters and the seed: the same command gives byte-identical CSVs.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from controller.fabric_plan import FabricConfig, Mode
from controller.link_failure import LinkEvent, controller_handler
from experiments.resiliency.params import Params, topology
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.qp import psn_diff
from fabriclab.roce.rank import QPN_BASE, Rank
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.runs import entropy_port, run_apps
from topologies.graph import NodeKind, Topology

Link = tuple[str, str]  # (leaf, spine)


@dataclass(frozen=True)
class Case:
    """One run: a collective under a routing mode, `failures` links failing (0: healthy)."""

    collective: str
    routing: str
    seed: int
    failures: int = 0
    reroute: str = "controller"


def draw_failures(topo: Topology, n: int, seed: int, window_ns: tuple[int, int]) -> list[tuple[int, Link]]:
    """`n` distinct leaf-spine links and their failure instants, from the seed alone (the
    same for every scheme); no draw leaves two leaves without a common spine."""
    rng = random.Random(f"resiliency:{seed}:{n}")
    leaves = [s.name for s in topo.switches() if s.kind == NodeKind.LEAF]
    links = sorted((leaf, peer) for leaf in leaves for _, peer, _, _ in topo.neighbors(leaf)
                   if topo.nodes[peer].is_switch)
    spines = sorted({s for _, s in links})
    while True:
        chosen = rng.sample(links, n)
        if any(all((leaf, s) not in chosen for leaf in leaves) for s in spines):
            break
    times = sorted(rng.randint(*window_ns) for _ in range(n))
    return list(zip(times, chosen))


class Goodput:
    """Samples the ranks' in-order progress (receiver PSNs x PMTU) every `bin_ns`."""

    def __init__(self, fabric: Fabric, ranks: list[Rank], bin_ns: int, pmtu: int) -> None:
        self.fabric, self.bin_ns, self.pmtu = fabric, bin_ns, pmtu
        self.qps = [nic.qp(QPN_BASE + peer) for r in ranks for nic in r.nics
                    for peer in range(len(ranks)) if peer != r.rank]
        self.last = [qp.epsn for qp in self.qps]
        self.bins: list[int] = []  # bytes delivered in order per bin

    def start(self) -> None:
        self.fabric.at(self.fabric.now + self.bin_ns, self.sample)

    def sample(self) -> None:
        now = [qp.epsn for qp in self.qps]
        self.bins.append(sum(psn_diff(a, b) for a, b in zip(now, self.last)) * self.pmtu)
        self.last = now
        self.fabric.at(self.fabric.now + self.bin_ns, self.sample)


def run_case(p: Params, case: Case, healthy_ns: int | None = None) -> dict[str, Any]:
    """Run one case; `healthy_ns` (the same collective's failure-free time) places the
    failures. Returns the raw record (ranks' summaries, failures, goodput bins, cost)."""
    started = time.monotonic()
    topo = topology(p)
    config = FabricConfig(mode=Mode.parse(case.routing), flowlet_gap_us=p.flowlet_gap_us,
                          load_max_age_us=p.load_max_age_us)
    fabric = Fabric(topo, FabricOptions(queue_bytes=p.queue_bytes, config=config), seed=case.seed)
    handle = controller_handler(fabric.controller)
    reacted: list[tuple[int, str, int, bool]] = []

    def on_port_change(switch: str, port: int, up: bool) -> None:
        def react() -> None:
            reacted.append((fabric.now, switch, port, up))
            handle(LinkEvent(switch, port, up))
        fabric.at(fabric.now + p.control_delay_us * 1000, react)

    fabric.watch_ports(on_port_change, data_plane=case.reroute == "fast", detect_ns=p.detect_us * 1000)
    failures = []
    if case.failures:
        lo, hi = (round(f * healthy_ns) for f in p.fail_window)
        failures = draw_failures(topo, case.failures, case.seed, (lo, hi))
        for at_ns, (leaf, spine) in failures:
            port = next(q for q, peer, _, _ in topo.neighbors(leaf) if peer == spine)
            fabric.at(fabric.now + at_ns, fabric.set_link, leaf, port, False)
    names = [h.name for h in topo.hosts()]
    spec = CollectiveSpec(case.collective, len(names), p.nbytes(case.collective))
    opts = RunOptions(iters=1, warmup=0, line_rate=p.link_gbps * 1e9, pmtu=p.pmtu, window=p.window,
                      rto=p.rto_us / 1e6, mode=p.receiver_for(case.routing))
    addrs = [(fabric.endpoint(h).ip, ROCE_PORT) for h in names]
    apps, ranks = {}, []
    for i, (host, (ip, port)) in enumerate(zip(names, addrs)):
        nic = RoceNic(opts.nic_config(ip, port))
        rank = Rank(nic, i, addrs, spec, 1, 0)
        for peer in range(len(names)):
            if peer != i:
                nic.set_sport(QPN_BASE + peer, entropy_port(case.seed, i, peer))
        apps[host] = (nic, rank)
        ranks.append(rank)
    goodput = Goodput(fabric, ranks, p.bin_us * 1000, p.pmtu)
    goodput.start()
    t0 = fabric.now
    run_apps(fabric, apps, round(p.timeout_s * 1e9))
    goodput.sample()  # the last partial bin
    return {"case": vars(case), "ranks": [r.summary() for r in ranks], "elapsed_ns": fabric.now - t0,
            "failures": [(t, leaf, spine) for t, (leaf, spine) in failures],
            "reactions": reacted, "bins": goodput.bins, "bin_ns": p.bin_us * 1000,
            "wall_s": time.monotonic() - started, "packets": fabric.loop.packets}
