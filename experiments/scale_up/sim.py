"""One scale-up case in virtual time: ranks with two NICs on a `scale_up_fabric`.

Rank i runs on accelerator i. Its scale-out NIC (eth0) carries every peer in the flat
scheme; in the hierarchical scheme its scale-up NIC (eth1, at the scale-up rate) carries
the peers of its own domain (`Rank`'s `ScaleUpNic`). Both interfaces serve the one rank:
after the rank runs from one interface, the host's other interface is woken if the rank
just gave its NIC work, as a host's doorbell would (`_Doorbell`). The NVLink model is
stated in docs/scale_up.md: scale-up transfers are RoCE WRITEs at the scale-up rate through
a switch running fabric.p4, i.e. packets, a queue per port and ACKs, no memory semantics.

The share of bytes that stayed inside domains is read from the switches' transmit counters
on ports toward hosts: what the scale-up switches delivered over what all switches did.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.rank import QPN_BASE, Rank, ScaleUpNic
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.host_node import HostEndpoint
from fabriclab.vtime.runs import DEFAULT_LIMIT_NS, entropy_port
from topologies.graph import NodeKind

SCALEOUT_NIC, SCALEUP_NIC = 0, 1
MAX_KICKS_PER_INSTANT = 64  # a NIC that claims work at `now` but sends none is not re-woken forever


class _Doorbell:
    """The rank as one interface's app: service it, then wake the host's other interfaces
    whose NIC now has something to send."""

    def __init__(self, rank: Rank, others: list[HostEndpoint]) -> None:
        self.rank, self.others = rank, others
        self._instant, self._kicks = -1, 0

    @property
    def done(self) -> bool:
        return self.rank.done

    def service(self, now: int) -> None:
        self.rank.service(now)
        if now != self._instant:
            self._instant, self._kicks = now, 0
        for ep in self.others:
            wake = ep.nic.next_wakeup() if ep.nic else None
            if wake is not None and wake <= now and self._kicks < MAX_KICKS_PER_INSTANT:
                self._kicks += 1
                ep.kick()


def host_tx_bytes(fabric: Fabric) -> dict[str, int]:
    """Per switch: bytes sent on its ports toward hosts so far."""
    topo = fabric.topo
    out = {}
    for sw in topo.switches():
        tx = fabric.switch_tx_bytes(sw.name)
        out[sw.name] = sum(tx[port] for port, peer, _, _ in topo.neighbors(sw.name)
                           if not topo.nodes[peer].is_switch)
    return out


def run_case(fabric: Fabric, spec: CollectiveSpec, options: RunOptions, scaleup_bps: float,
             seed: int = 0, limit_ns: int = DEFAULT_LIMIT_NS,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run `spec` once on `fabric` (ranks on its first nranks hosts; `spec.algo == "hier"`
    uses the scale-up NICs for domain peers) -> per-rank summaries, intra-domain byte share
    and what the case cost."""
    started = time.monotonic()
    topo, loop = fabric.topo, fabric.loop
    hosts = [h.name for h in topo.hosts()][:spec.nranks]
    out_addrs = [(fabric.endpoint(h, SCALEOUT_NIC).ip, ROCE_PORT) for h in hosts]
    hier = spec.algo == "hier" and spec.local > 1
    up_options = dataclasses.replace(options, line_rate=scaleup_bps)
    before = host_tx_bytes(fabric)
    ranks: list[Rank] = []
    attached: list[HostEndpoint] = []
    for i, host in enumerate(hosts):
        out_ep = fabric.endpoint(host, SCALEOUT_NIC)
        nic = RoceNic(options.nic_config(out_ep.ip, ROCE_PORT))
        scaleup = None
        if hier:
            up_ep = fabric.endpoint(host, SCALEUP_NIC)
            peers = {j: (fabric.endpoint(hosts[j], SCALEUP_NIC).ip, ROCE_PORT)
                     for j in range(len(hosts)) if j != i and spec.same_domain(i, j)}
            scaleup = ScaleUpNic(RoceNic(up_options.nic_config(up_ep.ip, ROCE_PORT)), peers)
        rank = Rank(nic, i, out_addrs, spec, options.iters, options.warmup, scaleup)
        for peer in range(spec.nranks):
            if peer != i:
                rank.nic_for(peer).set_sport(QPN_BASE + peer, entropy_port(seed, i, peer))
        ranks.append(rank)
        if scaleup is None:
            out_ep.attach(nic, rank)
            attached.append(out_ep)
        else:
            out_ep.attach(nic, _Doorbell(rank, [up_ep]))
            up_ep.attach(scaleup.nic, _Doorbell(rank, [out_ep]))
            attached += [out_ep, up_ep]
    for ep in attached:
        ep.kick()
    t0, packets = loop.now, loop.packets
    fabric.run(until_ns=loop.now + limit_ns, stop=lambda: all(r.done for r in ranks),
               progress=(lambda report: progress(f"    {report}")) if progress else None)
    sim_ns = loop.now - t0
    for ep in attached:  # the last ACKs land on no NIC before counting
        ep.attach(None)
    fabric.run()
    after = host_tx_bytes(fabric)
    delivered = {sw: after[sw] - before[sw] for sw in after}
    inside = sum(v for sw, v in delivered.items() if topo.nodes[sw].kind is NodeKind.SCALEUP)
    total = sum(delivered.values())
    summaries = []
    for r in ranks:
        s = r.summary()
        if not r.done:
            s["error"] = s.get("error") or f"rank {r.rank}: timed out after {limit_ns / 1e9:g} simulated s"
        summaries.append(s)
    wall = time.monotonic() - started
    return {"ranks": summaries, "intra_domain_bytes": inside, "host_bytes": total,
            "intra_share": inside / total if total else 0.0, "wall_s": wall,
            "sim_ms": sim_ns / 1e6, "packets": loop.packets - packets}
