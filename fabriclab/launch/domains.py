"""Which ranks share a scale-up domain, and a virtual-time collective whose ranks have two NICs.

A hierarchical collective (`algo="hier"`) needs the domain size G (ranks r // G share a
domain) and, on a topology with scale-up switches, each rank's second NIC: the host port
on its domain's `scaleup` switch. `domains_of` reads both from the topology and refuses
rank orders that do not put a domain's members next to each other. Without scale-up
switches a domain is whatever G ranks the user names (a site, for scale-across), and every
byte goes over the scale-out NIC.

`run_two_nic` is the virtual-time driver: rank i's scale-out NIC carries every peer outside
its domain, its scale-up NIC (at the scale-up rate) the peers inside. Both interfaces serve
the one rank: after the rank runs from one interface, the host's other interface is woken
if the rank just gave its NIC work, as a host's doorbell would (`_Doorbell`). The model is
stated in docs/scale_up.md: scale-up transfers are RoCE WRITEs at the scale-up rate through
a switch running fabric.p4 (packets, a queue per port, ACKs; no memory semantics).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.rank import QPN_BASE, Rank, ScaleUpNic
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.host_node import HostEndpoint
from fabriclab.vtime.runs import DEFAULT_LIMIT_NS, StackOptions, entropy_port
from topologies.graph import NodeKind, Topology

MAX_KICKS_PER_INSTANT = 64  # a NIC that claims work at `now` but sends none is not re-woken forever


@dataclass(frozen=True)
class Domains:
    """G ranks per domain; per rank, its host port on a scale-up switch (None: no scale-up
    NIC, the domain's traffic uses the scale-out NIC) and that link's rate in Mb/s."""

    size: int
    up_ports: tuple[int | None, ...]
    up_mbps: tuple[float | None, ...]

    @property
    def two_nic(self) -> bool:
        return self.size > 1 and all(p is not None for p in self.up_ports)


def scaleup_port(topo: Topology, host: str) -> tuple[int, str, float | None] | None:
    """(host port, scale-up switch, link rate Mb/s) of `host`'s scale-up NIC, or None."""
    for port, peer, _, link in topo.neighbors(host):
        if topo.nodes[peer].kind is NodeKind.SCALEUP:
            return port, peer, link.params_from(host).bw
    return None


def domains_of(topo: Topology, hosts: Sequence[str], local: int | None) -> Domains:
    """The domains of ranks on `hosts` (rank i on hosts[i]); `local` is the user's G (None:
    the topology's scale-up domain size). A one-line FabricError when they do not fit."""
    n = len(hosts)
    up = [scaleup_port(topo, h) for h in hosts]
    if not any(up):
        if local is None:
            raise FabricError(f"--algo hier needs domains: {topo.name} has no scale-up switch; "
                              "give --local G (ranks per domain, e.g. a site's)")
        if local < 1 or n % local:
            raise FabricError(f"--local {local} does not divide {n} ranks")
        return Domains(local, (None,) * n, (None,) * n)
    missing = [h for h, u in zip(hosts, up) if u is None]
    if missing:
        raise FabricError(f"host {missing[0]} has no scale-up NIC: every rank of a "
                          "hierarchical collective on scale-up domains needs one")
    switch = [u[1] for u in up]
    size = next((i for i in range(1, n) if switch[i] != switch[0]), n)
    if local is not None and local != size:
        raise FabricError(f"--local {local} does not match the scale-up domains of these ranks "
                          f"({size} on {switch[0]})")
    if n % size:
        raise FabricError(f"{n} ranks do not fill whole scale-up domains of {size}")
    for r in range(n):
        if switch[r] != switch[r - r % size] or (r % size == 0 and switch[r] in switch[:r]):
            raise FabricError(f"ranks must come in whole scale-up domains of {size}, each domain's "
                              f"members next to each other (rank {r} on {hosts[r]} is on "
                              f"{switch[r]}; with --run, --ranks picks and orders them)")
    return Domains(size, tuple(u[0] for u in up), tuple(u[2] for u in up))


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


def run_two_nic(fabric: Fabric, spec: CollectiveSpec, options: StackOptions,
                up_config: Callable[[str, float | None], NicConfig], hosts: Sequence[str] | None = None,
                seed: int = 0, limit_ns: int = DEFAULT_LIMIT_NS,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run `spec` once on `fabric`, rank i on hosts[i] (default: the first nranks hosts).
    A hierarchical spec on scale-up domains gives each rank its scale-up NIC
    (`up_config(ip, link Mb/s)` configures it) for its domain peers. Returns the per-rank
    summaries, the bytes the scale-up switches delivered to hosts against all switches,
    and what the case cost."""
    started = time.monotonic()
    topo, loop = fabric.topo, fabric.loop
    names = list(hosts) if hosts is not None else [h.name for h in topo.hosts()][:spec.nranks]
    if len(names) != spec.nranks:
        raise FabricError(f"{spec.nranks} ranks need {spec.nranks} hosts; {topo.name} has {len(names)}")
    domains = domains_of(topo, names, spec.local) if spec.algo == "hier" else None
    two_nic = domains is not None and domains.two_nic
    out_eps = [fabric.endpoint(h, _scaleout_port(topo, h)) for h in names]
    out_addrs = [(ep.ip, ROCE_PORT) for ep in out_eps]
    before = host_tx_bytes(fabric)
    ranks: list[Rank] = []
    attached: list[HostEndpoint] = []
    for i, out_ep in enumerate(out_eps):
        nic = RoceNic(options.nic_config(out_ep.ip, ROCE_PORT))
        scaleup, up_ep = None, None
        if two_nic:
            up_eps = [fabric.endpoint(h, p) for h, p in zip(names, domains.up_ports)]
            up_ep = up_eps[i]
            peers = {j: (up_eps[j].ip, ROCE_PORT) for j in range(spec.nranks)
                     if j != i and spec.same_domain(i, j)}
            scaleup = ScaleUpNic(RoceNic(up_config(up_ep.ip, domains.up_mbps[i])), peers)
        rank = Rank(nic, i, out_addrs, spec, options.iters, options.warmup, scaleup)
        for peer in range(spec.nranks):
            if peer != i:
                rank.nic_for(peer).set_sport(QPN_BASE + peer, entropy_port(seed, i, peer))
        ranks.append(rank)
        if up_ep is None:
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
    return {"ranks": summaries, "intra_domain_bytes": inside, "host_bytes": total,
            "intra_share": inside / total if total else 0.0, "wall_s": time.monotonic() - started,
            "sim_ms": sim_ns / 1e6, "packets": loop.packets - packets}


def _scaleout_port(topo: Topology, host: str) -> int:
    """The host's first port that is not on a scale-up switch."""
    up = scaleup_port(topo, host)
    return next(port for port, _, _, _ in topo.neighbors(host) if up is None or port != up[0])
