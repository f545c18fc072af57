"""One case of the isolation experiment in virtual time (`--mode sim`): no root.

A fresh `fabriclab.vtime.Fabric` of the leaf-spine per (case, seed): fabric.p4 on every
switch, programmed by the FabricController with the tenants the topology declares (taken
off again in the unmetered cases: `controller.tenants` over P4Runtime), and in `meters_cc` every NIC
runs DCQCN with the CC manager's ECN thresholds. Tenant A's ranks run the ring all-reduce
(`fabriclab.roce.rank.Rank`), tenant B's hosts the endless all-to-all (`workload.Noise`,
absent in `alone`); the run ends when A's last rank finishes, and B's throughput is the
payload B's receivers got in order over that run (partly written messages included).
Drops are counted per tenant where they happen: refused by a switch queue (the frame's
source address says whose) and dropped RED by a tenant meter (`tenant_colors`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from controller.congestion import CcManager, CcPolicy
from controller.fabric_plan import FabricConfig, Mode
from controller.tenants import TenantInstaller, effective_tenants, plan_tenants
from experiments.isolation.params import Params, topology
from experiments.isolation.workload import noise_app
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig
from fabriclab.roce.rank import QPN_BASE, Rank
from fabriclab.vtime.fabric import Fabric, FabricOptions

HEADERS = 76  # Ethernet + IPv4 + UDP + BTH + RETH/ICRC around a RoCE payload


def entropy(seed: int, tenant: str, src: int, dst: int) -> int:
    """A QP's UDP source port (49152-65535) under `seed`. SHA-256, not CRC: fabric.p4's ECMP
    hash is a CRC too, and a CRC of CRC-derived ports is linear in the flow's identifiers,
    which put all of A's flows on one spine and all of B's on the other for every seed."""
    digest = hashlib.sha256(f"isolation:{seed}:{tenant}:{src}:{dst}".encode()).digest()
    return 49152 + (int.from_bytes(digest[:2], "big") & 0x3FFF)


def nic_config(p: Params, ip: str, dcqcn: bool) -> NicConfig:
    rate = p.link_mbps * 1e6
    qp = QpConfig(pmtu=p.pmtu, window=p.window, ack_every=min(16, p.window), rto_ns=p.rto_us * 1000,
                  max_rto_ns=20 * p.rto_us * 1000)
    rtt_ns = max(4_000, 8 * p.delay_us * 1000)
    return NicConfig(ip, ROCE_PORT, rate, qp, DcqcnParams.scaled(rate, rtt_ns) if dcqcn else None,
                     burst=3 * (p.pmtu + 100), cc="dcqcn" if dcqcn else "none")


class DropCounter:
    """Wraps a traffic manager's enqueue: refused frames counted by their source address."""

    def __init__(self, tenant_of: dict[bytes, str]) -> None:
        self.tenant_of = tenant_of
        self.drops: dict[str, int] = {}

    def wrap(self, tm: Any) -> None:
        enqueue = tm.enqueue

        def counted(item: Any, now_ns: int, ingress_port: int | None = None) -> bool:
            if enqueue(item, now_ns, ingress_port):
                return True
            who = self.tenant_of.get(bytes(item.state.data[26:30]), "other")
            self.drops[who] = self.drops.get(who, 0) + 1
            return False

        tm.enqueue = counted


def run_case(p: Params, case: str, seed: int) -> dict[str, Any]:
    """Run one case; return its raw record (A's per-rank iteration times, B's bytes received
    during A's run, per-tenant drops and marks)."""
    started = time.monotonic()
    topo = topology(p)
    fabric = Fabric(topo, FabricOptions(queue_bytes=p.queue_bytes, config=FabricConfig(mode=Mode.parse(p.routing))),
                    seed=seed)
    a_hosts, b_hosts = p.tenant_hosts()
    if case == "alone":
        b_hosts = []
    ips = {h: fabric.endpoint(h).ip for h in a_hosts + b_hosts}
    tenant_of = {bytes(int(x) for x in ips[h].split(".")): t
                 for t, hs in (("A", a_hosts), ("B", b_hosts)) for h in hs}
    drops = DropCounter(tenant_of)
    for node in fabric.switches.values():
        drops.wrap(node.tm)
    installer = TenantInstaller(fabric.clients)  # the fabric installed the topology's tenants
    plan = plan_tenants(topo, effective_tenants(topo))
    if case not in ("meters", "meters_cc"):
        installer.clear()
    manager = None
    if case == "meters_cc":
        manager = CcManager(fabric.controller, CcPolicy(mode="adaptive", rtt_ns=max(4_000, 8 * p.delay_us * 1000),
                                                        frame_bytes=p.pmtu + HEADERS))
        manager.start()
    dcqcn = case == "meters_cc"
    spec = CollectiveSpec("allreduce", len(a_hosts), p.allreduce_bytes)
    addrs = [(ips[h], ROCE_PORT) for h in a_hosts]
    nics = {h: RoceNic(nic_config(p, ips[h], dcqcn)) for h in a_hosts + b_hosts}
    ranks = []
    for i, h in enumerate(a_hosts):
        rank = Rank(nics[h], i, addrs, spec, p.iters, 1)
        for peer in range(len(a_hosts)):
            if peer != i:
                nics[h].set_sport(QPN_BASE + peer, entropy(seed, "A", i, peer))
        ranks.append(rank)
    b_addrs = [(ips[h], ROCE_PORT) for h in b_hosts]
    noise = {h: noise_app(nics[h], i, b_addrs, p.noise_message, lambda i, j: entropy(seed, "B", i, j))
             for i, h in enumerate(b_hosts)}
    for h, rank in zip(a_hosts, ranks):
        fabric.endpoint(h).attach(nics[h], rank)
    for h, app in noise.items():
        fabric.endpoint(h).attach(nics[h], app)
    for h in a_hosts + b_hosts:
        fabric.endpoint(h).kick()
    limit = round(p.timeout_s * 1e9)
    if manager is not None:
        period = p.cc_period_us * 1000
        for t in range(period, limit, period):
            fabric.at(t, manager.observe)
    t0 = fabric.now
    end = fabric.run(until_ns=t0 + limit, stop=lambda: all(r.done for r in ranks))
    span_s = (end - t0) / 1e9
    results = [r.summary() for r in ranks]
    red = {"A": 0, "B": 0}
    if case in ("meters", "meters_cc"):
        for sw in fabric.clients:
            for t in ("A", "B"):
                red[t] += installer.color_counts(sw, plan.ids[t])["red"][1]
    marks = {t: sum(nics[h].counters.ce_marked for h in hs) for t, hs in (("A", a_hosts), ("B", b_hosts))}
    retx = {t: sum(nics[h].qp_counters().get("retransmissions", 0) for h in hs)
            for t, hs in (("A", a_hosts), ("B", b_hosts))}
    uplinks = {port: tx for port, tx in fabric.switch_tx_bytes("il1").items()
                if topo.nodes[topo.ports("il1")[port].peer("il1")[0]].is_switch}
    return {"case": case, "seed": seed, "l1_uplink_tx_bytes": uplinks, "done": all(r["done"] for r in results),
            "error": next((r["error"] for r in results if r.get("error")), None)
            or (None if all(r["done"] for r in results) else f"A timed out after {p.timeout_s} simulated s"),
            "wrong": sum(r["wrong"] for r in results), "rank_times_s": [r["times"] for r in results],
            "span_s": span_s, "b_bytes": sum(a.received_bytes() for a in noise.values()),
            "b_completed_bytes": sum(a.completed_bytes for a in noise.values()),
            "queue_drops": {t: drops.drops.get(t, 0) for t in ("A", "B")}, "meter_drops": red,
            "marks": marks, "retransmissions": retx,
            "cc_decisions": len(manager.decisions) if manager else 0,
            "wall_s": time.monotonic() - started}
