"""One collective through link failures on Mininet (`--mode emulate`, root), real time.

A fresh `fabriclab net` per run (a failure changes it): fabric.p4 on the built-in switch,
routes from the RouteInstaller, the FabricController following the switches' port-status
events (controller.link_failure: liveness masks, then regroup). Controller-only reroute
starts the switches with `--no-port-signal`; fast reroute lets each switch write its own
port signal. The ranks run in the Mininet hosts (fabriclab.launch). Once traffic flows,
the failures' veths go down at their drawn offsets; delivered bytes (the leaves' counters
toward hosts, over P4Runtime) are sampled every `bin_us`. Real time on a shared machine:
the controller's delay is what it is (measured: `reactions`), the shapes are the point.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any

from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig, Mode
from controller.link_failure import PortStatusFollower, controller_handler, switch_ports
from experiments.emulation import fabric_net
from experiments.report import value_at
from experiments.resiliency.params import Params, topology
from experiments.resiliency.sim import Case, draw_failures
from experiments.trials import free_port_base
from fabriclab.launch.collective import launch
from fabriclab.launch.placement import in_mininet_host
from fabriclab.net import clean
from fabriclab.paths import veth_name
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions
from topologies.addressing import Addressing
from topologies.graph import Topology

STARTED_BYTES = 64 << 10  # delivered bytes that say the collective is under way


def delivered(ctl: FabricController, topo: Topology) -> int:
    """Bytes the leaves sent to their hosts so far."""
    total = 0
    for sw in topo.switches():
        hosts = [p for p, peer, _, _ in topo.neighbors(sw.name) if not topo.nodes[peer].is_switch]
        if hosts:
            stats = ctl.port_stats(sw.name)
            total += sum(stats[p].tx_bytes for p in hosts)
    return total


def cumulative(samples: list[tuple[float, int]], t: float) -> int:
    """Delivered bytes at `t`, interpolated between the samples around it: a sample takes
    a few P4Runtime reads, so on a loaded machine they come less often than the bins."""
    return round(value_at(samples, t))


def run_case(p: Params, case: Case, healthy_ns: int | None = None) -> dict[str, Any]:
    """Run one case on a fresh net; the same record as sim.run_case."""
    started = time.monotonic()
    topo = topology(p)
    run = f"res-{os.getpid()}-{case.failures}-{case.reroute[0]}"
    grpc_base_port = free_port_base(p.grpc_base_port, len(topo.switches()))
    switch_args = () if case.reroute == "fast" or not case.failures else ("--no-port-signal",)
    names = [h.name for h in topo.hosts()]
    addressing = Addressing(topo)
    failures = []
    if case.failures:
        lo, hi = (round(f * healthy_ns) for f in p.fail_window)
        failures = draw_failures(topo, case.failures, case.seed, (lo, hi))
    samples: list[tuple[float, int]] = []
    t0: list[float] = []
    try:
        with fabric_net(topo, run, p.target, grpc_base_port, mtu=max(1500, p.pmtu + 200),
                        switch_args=switch_args) as net:
            ctl = FabricController(topo, net.clients, FabricConfig(
                mode=Mode.parse(case.routing), flowlet_gap_us=p.flowlet_gap_us,
                load_max_age_us=p.load_max_age_us))
            ctl.apply_config()
            follower = PortStatusFollower(net.clients, switch_ports(topo), controller_handler(ctl)).start()
            done = threading.Event()
            pending = list(failures)

            def watch() -> None:
                while not done.is_set():
                    now, got = time.monotonic(), delivered(ctl, topo)
                    if not t0 and got >= STARTED_BYTES:
                        t0.append(now)
                    if t0:
                        samples.append((now - t0[0], got))
                        while pending and now - t0[0] >= pending[0][0] / 1e9:
                            _, (leaf, spine) = pending.pop(0)
                            port = next(q for q, peer, _, _ in topo.neighbors(leaf) if peer == spine)
                            subprocess.run(["ip", "link", "set", veth_name(leaf, port, run), "down"],
                                           check=True, capture_output=True)
                    done.wait(max(0.0, p.bin_us / 1e6 - (time.monotonic() - now)))

            sampler = threading.Thread(target=watch, daemon=True, name="resiliency-sampler")
            sampler.start()
            spec = CollectiveSpec(case.collective, len(names), p.nbytes(case.collective))
            opts = RunOptions(iters=1, warmup=0, line_rate=p.link_gbps * 1e9, pmtu=p.pmtu,
                              window=p.window, rto=p.rto_us / 1e6, mode=p.receiver_for(case.routing))
            try:
                ranks = launch([in_mininet_host(net.host(n)) for n in names],
                               [(str(addressing.ip(n)), 4791) for n in names], spec, opts,
                               timeout=p.timeout_s)
            finally:
                done.set()
                sampler.join(30)
                follower.stop()
    finally:
        clean.clean_run(run)
    elapsed_ns = round(max(r.get("avg_time") or 0.0 for r in ranks) * 1e9)
    bin_ns = p.bin_us * 1000
    edges = [cumulative(samples, k * bin_ns / 1e9) for k in range(-(-elapsed_ns // bin_ns) + 1)]
    bins = [b - a for a, b in zip(edges, edges[1:])]
    origin = t0[0] if t0 else started
    return {"case": vars(case), "ranks": ranks, "elapsed_ns": elapsed_ns,
            "failures": [(t, leaf, spine) for t, (leaf, spine) in failures],
            "reactions": [(round((t - origin) * 1e9), e.switch, e.port, e.up) for t, e in follower.events],
            "bins": bins, "bin_ns": bin_ns, "wall_s": time.monotonic() - started, "packets": 0}
