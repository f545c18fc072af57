"""One case (workload, scheme, seed) of the congestion_control experiment in virtual time.

A fresh `fabriclab.vtime.Fabric` of the leaf-spine per case: fabric.p4 on every switch,
programmed by the FabricController (and, for `dcqcn_pfc_ccm`, the CC manager, through the
same in-process P4Runtime clients), every host's NIC driven by the workload's `FlowApp`.
The bottleneck queue (leaf 2's port to the receiver) is sampled every `sample_ns`; the
switch-side metrics are read at `warmup_us` and `duration_us`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from controller.congestion import CcManager, CcPolicy
from controller.fabric_plan import Ecn, FabricConfig, Watch
from experiments.congestion_control.params import Params, topology
from experiments.congestion_control.workload import DATA_PRIORITY, FlowApp, nic_config, plan_flows, roles
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import RoceNic
from fabriclab.vtime.fabric import Fabric, FabricOptions


def headroom(rate_bps: float, delay_ns: int, frame: int) -> int:
    """PFC headroom of a port: what arrives after XOFF while the pause crosses the link and
    the data already on it comes back (2 x rate x delay), plus 8 frames: one being
    serialised at each end and a NIC's back-to-back burst (docs/congestion.md, "Sizing")."""
    return math.ceil(2 * rate_bps * delay_ns / 8e9) + 8 * frame


def _fabric(p: Params, scheme: str, seed: int) -> tuple[Fabric, CcManager | None]:
    ecn = Ecn(p.ecn_kmin, p.ecn_kmax, p.ecn_pmax) if scheme == "dcqcn_pfc" else None
    fabric = Fabric(topology(p), FabricOptions(queue_bytes=p.queue_bytes, config=FabricConfig(ecn=ecn)),
                    seed=seed)
    if scheme != "none":
        for node in fabric.switches.values():
            for port in fabric.topo.ports(node.name):
                tm_port = node.tm.ports[port]
                node.tm.enable_pfc(port, DATA_PRIORITY, p.pfc_xoff, p.pfc_xon,
                                   headroom(tm_port.rate_bps or 0, tm_port.delay_ns, p.pmtu + 100))
    manager = None
    if scheme == "dcqcn_pfc_ccm":
        manager = CcManager(fabric.controller, CcPolicy(mode="adaptive", rtt_ns=p.base_rtt_ns,
                                                        frame_bytes=p.pmtu + 76, notify_dscp=0))
        manager.start()
    if scheme == "hpcc":
        fabric.controller.set_watchlist([Watch(dport=ROCE_PORT, to_host=True)])
    return fabric, manager


def run_case(p: Params, workload: str, scheme: str, seed: int) -> dict[str, Any]:
    """Run one case; return its raw record (see metrics.case_row)."""
    started = time.monotonic()
    fabric, manager = _fabric(p, scheme, seed)
    hosts = [h.name for h in fabric.topo.hosts()]
    peers = [(fabric.endpoint(h).ip, ROCE_PORT) for h in hosts]
    flows = plan_flows(p, workload, seed)
    end_ns = p.duration_us * 1000
    apps = {}
    for i, h in enumerate(hosts):
        if any(i in (f.src, f.dst) for f in flows):
            nic = RoceNic(nic_config(p, scheme, peers[i][0]))
            apps[h] = FlowApp(nic, i, peers, flows, p.warmup_us * 1000, end_ns, p.pmtu, sport_seed=seed)
            fabric.endpoint(h).attach(nic, apps[h])
            fabric.endpoint(h).kick()
    _, receiver, _, _ = roles(p)
    l2 = fabric.switches["l2"].tm
    port = next(n for n, link in fabric.topo.ports("l2").items() if hosts[receiver] in (link.a, link.b))
    queue: list[tuple[int, int]] = []
    marks: dict[str, dict[str, Any]] = {}

    def sample(t: int) -> None:
        queue.append((t, sum(q.nbytes for q in l2.ports[port].queues)))

    def mark(name: str) -> None:
        marks[name] = {"t": fabric.now, "tx": l2.ports[port].tx_bytes, "pfc": _pfc_totals(fabric),
                       "drops": _drops(fabric)}

    # the apps act on their NIC's events; they also need to wake when a short flow starts and
    # to read their marks (their clock starts at 0 with the fabric's)
    for i, h in enumerate(hosts):
        if h in apps:
            starts = {f.start_ns for f in flows if f.src == i and not f.long}
            for t in sorted(starts | {p.warmup_us * 1000, end_ns}):
                fabric.at(t, fabric.endpoint(h).kick)
    for t in range(0, end_ns + 1, p.sample_ns):
        fabric.at(t, sample, t)
    if manager is not None:
        for t in range(p.ccm_period_ns, end_ns, p.ccm_period_ns):
            fabric.at(t, manager.observe)
    fabric.at(p.warmup_us * 1000, mark, "start")
    fabric.at(end_ns, mark, "end")
    fabric.run(until_ns=end_ns + 1)
    return {"workload": workload, "scheme": scheme, "seed": seed, "flows": [vars(f) for f in flows],
            "hosts": [a.summary() for a in apps.values()], "queue": queue, "marks": marks,
            "link_bps": p.link_gbps * 1e9, "drops": _drops(fabric),
            "cc_decisions": len(manager.decisions) if manager else 0, "wall_s": time.monotonic() - started}


def _drops(fabric: Fabric) -> int:
    """Packets dropped so far, summed over every switch queue."""
    return sum(q.drops for node in fabric.switches.values() for pt in node.tm.ports.values() for q in pt.queues)


def _pfc_totals(fabric: Fabric) -> dict[str, float]:
    """Pause frames sent and time paused, summed over every switch port (per hop: by switch)."""
    out: dict[str, float] = {"pauses": 0, "paused_us": 0.0}
    for name, node in fabric.switches.items():
        for per_prio in node.tm.pfc_stats(fabric.now).values():
            for s in per_prio.values():
                out["pauses"] += s["pauses_sent"]
                out["paused_us"] += s["paused_us"]
                out[f"paused_us_{name}"] = out.get(f"paused_us_{name}", 0.0) + s["paused_us"]
    return out
