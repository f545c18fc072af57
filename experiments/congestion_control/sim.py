"""One scheme of the congestion_control experiment on the virtual-time fabric.

A fresh `fabriclab.vtime.Fabric` of the leaf-spine per (scheme, seed): fabric.p4 on every
switch, programmed by the FabricController (and, for `dcqcn_pfc_ccm`, the CC manager,
through the same in-process P4Runtime clients), host NICs running the RoCE engines. Every
incast sender and the victim keep a stream of RDMA WRITEs posted for the whole run; the
bottleneck queue (leaf 2's port to the incast receiver) is sampled every `sample_ns`, and
the metrics are taken between `warmup_us` and `duration_us`.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from controller.congestion import CcManager, CcPolicy
from controller.fabric_plan import Ecn, FabricConfig, Watch
from experiments.congestion_control.params import Params, topology
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.hpcc import HpccParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig
from fabriclab.vtime.fabric import Fabric, FabricOptions

DATA_PRIORITY = 0  # fabric.p4's traffic classes leave RoCE data in queue 0
MESSAGE = 256 << 10  # bytes per RDMA WRITE; the receiver's region is overwritten in turn
RKEY = 0x51
RECEIVER, VICTIM_SRC, VICTIM_DST = "h{}", "h{}", "h{}"
CCM_PERIOD_NS = 20_000  # how often the CC manager observes in scheme dcqcn_pfc_ccm


def _roles(p: Params) -> tuple[list[str], str, str, str]:
    """(incast senders, incast receiver, victim source, victim receiver)."""
    per_leaf = p.senders + 1
    return ([f"h{i + 1}" for i in range(p.senders)], f"h{per_leaf + 1}", f"h{per_leaf}",
            f"h{per_leaf + 2}")


def _nic_config(p: Params, scheme: str, ip: str) -> NicConfig:
    rate = p.link_gbps * 1e9
    ack_every = 1 if scheme == "hpcc" else 8  # HPCC reacts per ACK: the paper ACKs every packet
    qp = QpConfig(pmtu=p.pmtu, window=p.window, ack_every=ack_every, rto_ns=200_000, max_rto_ns=2_000_000)
    cc = {"none": "none", "pfc": "none", "dcqcn_pfc": "dcqcn", "dcqcn_pfc_ccm": "dcqcn", "hpcc": "hpcc"}[scheme]
    dcqcn = DcqcnParams(rate, cnp_interval_ns=p.cnp_interval_ns, alpha_timer_ns=p.dcqcn_timer_ns,
                        increase_timer_ns=p.dcqcn_timer_ns, rate_ai=p.dcqcn_rate_ai, rate_hai=10 * p.dcqcn_rate_ai)
    return NicConfig(ip, ROCE_PORT, rate, qp, dcqcn=dcqcn, burst=3 * (p.pmtu + 100),
                     hpcc=HpccParams(rate, p.base_rtt_ns, min_interval_ns=p.hpcc_min_interval_ns), cc=cc,
                     pfc_priority=None if scheme == "none" else DATA_PRIORITY,
                     int_host_clock=p.hpcc_host_clock)


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


def run_scheme(p: Params, scheme: str, seed: int,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run one scheme; return its record (metrics and the queue time series)."""
    started = time.monotonic()
    fabric, manager = _fabric(p, scheme, seed)
    senders, receiver, victim_src, victim_dst = _roles(p)
    nics = {h: RoceNic(_nic_config(p, scheme, fabric.endpoint(h).ip))
            for h in [*senders, receiver, victim_src, victim_dst]}
    flows = [(s, receiver) for s in senders] + [(victim_src, victim_dst)]
    writes = math.ceil(p.link_gbps * 1e9 / 8 * p.duration_us * 1e-6 / MESSAGE) + 1
    payload = bytes(MESSAGE)
    qps = []
    for i, (src, dst) in enumerate(flows):
        a, b = nics[src], nics[dst]
        rkey = RKEY + i
        b.register(rkey, MESSAGE)
        sport = 49152 + (seed * 7919 + i * 104729) % 16384
        qp = a.connect(0x100 + i, fabric.endpoint(dst).ip, 0x200 + i, sport=sport)
        b.connect(0x200 + i, fabric.endpoint(src).ip, 0x100 + i)
        for w in range(writes):
            qp.post_write(w, payload, 0, rkey)
        qps.append(qp)
    for host, nic in nics.items():
        fabric.endpoint(host).attach(nic)
        fabric.endpoint(host).kick()
    l2 = fabric.switches["l2"].tm
    bottleneck = fabric.topo.ports("l2")
    port = next(n for n, link in bottleneck.items() if receiver in (link.a, link.b))
    queue: list[tuple[int, int]] = []

    def sample(t: int) -> None:
        queue.append((t, sum(q.nbytes for q in l2.ports[port].queues)))

    for t in range(0, p.duration_us * 1000 + 1, p.sample_ns):
        fabric.at(t, sample, t)
    if manager is not None:
        for t in range(CCM_PERIOD_NS, p.duration_us * 1000, CCM_PERIOD_NS):
            fabric.at(t, manager.observe)
    marks: dict[str, Any] = {}

    def mark(name: str) -> None:
        marks[name] = {"t": fabric.now, "tx": l2.ports[port].tx_bytes,
                       "acked": [qp.una * p.pmtu for qp in qps]}

    fabric.at(p.warmup_us * 1000, mark, "start")
    fabric.at(p.duration_us * 1000, mark, "end")
    fabric.run(until_ns=p.duration_us * 1000)
    return _record(p, scheme, seed, fabric, nics, qps, queue, marks, manager, time.monotonic() - started)


def _record(p: Params, scheme: str, seed: int, fabric: Fabric, nics: dict[str, RoceNic], qps: list,
            queue: list[tuple[int, int]], marks: dict[str, Any], manager: CcManager | None,
            wall_s: float) -> dict[str, Any]:
    start, end = marks["start"], marks["end"]
    span_s = (end["t"] - start["t"]) / 1e9
    rate = p.link_gbps * 1e9
    goodput = [(b - a) * 8 / span_s for a, b in zip(start["acked"], end["acked"])]
    now = fabric.now
    pauses = paused_us = 0
    for node in fabric.switches.values():
        for per_prio in node.tm.pfc_stats(now).values():
            for s in per_prio.values():
                pauses += s["pauses_sent"]
                paused_us += s["paused_us"]
    host_paused_us = sum(h.total_ns(now) for nic in nics.values() for h in nic.link_pause.holds.values()) / 1000
    counters = [nic.qp_counters() for nic in nics.values()]
    window = [q for t, q in queue if start["t"] <= t <= end["t"]]
    return {"scheme": scheme, "seed": seed, "queue": queue, "queue_window": window,
            "utilisation": (end["tx"] - start["tx"]) * 8 / span_s / rate,
            "incast_gbps": [g / 1e9 for g in goodput[:-1]], "victim_gbps": goodput[-1] / 1e9,
            "retransmissions": sum(c.get("retransmissions", 0) for c in counters),
            "drops": sum(q.drops for node in fabric.switches.values() for port in node.tm.ports.values()
                         for q in port.queues),
            "pauses": pauses, "switch_paused_us": paused_us, "host_paused_us": host_paused_us,
            "cc_decisions": len(manager.decisions) if manager else 0, "wall_s": wall_s}
