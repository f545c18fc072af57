"""What fabric.p4 should hold on each switch, computed from the topology graph: pure data,
no switches involved (the driver in `controller.fabric` writes it over P4Runtime).

Every route prefix gets its own next-hop group (group id = position of the prefix in the
switch's sorted route list), so a link failure only changes group membership and never
the route entries themselves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import IntEnum

from controller.routes import NextHop, Prefix, compute_routes
from fabriclab.errors import FabricError
from topologies.addressing import Addressing, switch_mac
from topologies.graph import NodeKind, Topology

MAX_CANDIDATES = 8          # set_candidates carries at most 8 ports (larger groups: ECMP)
INT_REPORT_SESSION = 100    # fabric.p4's clone session for INT reports
INT_COLLECTOR_PORT = 32766  # UDP port the collector listens on
DSCP_CNP = 48               # DSCP RoCE NICs use for CNPs
ROCE_OPCODE_ACK = 0x11
ROCE_OPCODE_CNP = 0x81
NOTIFY_SESSION_BASE = 200   # fabric.p4: clone session 200 + p sends a notification out of port p


class Mode(IntEnum):
    """fabric.p4's routing modes (the `mode` parameter of set_mode)."""

    ECMP = 0
    FLOWLET = 1
    ADAPTIVE = 2

    @classmethod
    def parse(cls, text: str | "Mode") -> "Mode":
        if isinstance(text, Mode):
            return text
        try:
            return cls[text.upper()]
        except KeyError:
            raise FabricError(f"unknown routing mode {text!r} "
                              f"(one of {', '.join(m.name.lower() for m in cls)})") from None


@dataclass(frozen=True)
class Ecn:
    """RED-like ECN marking on the dequeue queue depth (packets): none below kmin, all at
    kmax and above, linear up to probability pmax in between."""

    kmin: int
    kmax: int
    pmax: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.kmin < self.kmax:
            raise FabricError(f"ECN thresholds need 0 <= Kmin < Kmax, got {self.kmin}, {self.kmax}")
        if not 0 < self.pmax <= 1:
            raise FabricError(f"ECN Pmax must be in (0, 1], got {self.pmax}")

    @property
    def slope(self) -> int:
        """fabric.p4 marks when (depth - kmin) * slope > uniform(0..65535); at least 1, so a
        wide band (a DCI's, thousands of packets) still marks before Kmax."""
        return max(1, round(self.pmax * 65536 / (self.kmax - self.kmin)))


@dataclass(frozen=True)
class BorderPolicy:
    """What a border switch does on its DCI ports (border.p4), each threshold a fraction of
    that DCI's bandwidth-delay product in frames (at least `floor_frames`), so the
    controller derives them from the topology: a site's thresholds of tens of packets would mark a long DCI all the time (it
    holds its BDP in flight), and a DCI's would never mark in a site. The round trip is the
    DCI's two ways plus `site_rtt_us` (a 0 km DCI still has the sites' round trip)."""

    ecn_kmin: float = 0.05
    ecn_kmax: float = 0.5
    ecn_pmax: float = 0.2
    notify: float = 0.1  # near-source notification threshold
    notify_interval_us: int = 50  # per flow: DCQCN's CNP interval
    frame_bytes: int = 1500
    site_rtt_us: float = 10.0
    cnp_dscp: int = DSCP_CNP
    # no threshold below a site switch's own band: a short DCI's BDP is a few frames, and
    # notifying on every burst halved a ring's rate (0 km, 100 Gb/s DCI: 245 us, not 128)
    floor_frames: int = 64

    def __post_init__(self) -> None:
        if not 0 <= self.ecn_kmin < self.ecn_kmax or not 0 < self.notify:
            raise FabricError(f"border thresholds need 0 <= Kmin < Kmax and a notification above 0 "
                              f"(fractions of the DCI BDP), got {self.ecn_kmin}, {self.ecn_kmax}, {self.notify}")
        if self.notify_interval_us <= 0 or self.frame_bytes <= 0 or self.site_rtt_us < 0 or self.floor_frames < 1:
            raise FabricError("border notification interval, frame size and threshold floor must be > 0, "
                              "site RTT >= 0")

    def bdp_frames(self, rate_mbps: float, delay_us: float) -> int:
        """Frames in flight on a DCI of `rate_mbps` and one-way `delay_us`."""
        return max(1, round(rate_mbps * 1e6 / 8 * (2 * delay_us + self.site_rtt_us) * 1e-6 / self.frame_bytes))

    def dci_port(self, port: int, peer: str, peer_site: int, rate_mbps: float, delay_us: float) -> DciPort:
        bdp, floor = self.bdp_frames(rate_mbps, delay_us), self.floor_frames
        kmin = max(floor, round(self.ecn_kmin * bdp))
        ecn = Ecn(kmin, max(2 * kmin, round(self.ecn_kmax * bdp)), self.ecn_pmax)
        return DciPort(port, peer, peer_site, rate_mbps, delay_us, bdp, ecn, max(floor, round(self.notify * bdp)))


@dataclass(frozen=True)
class DciPort:
    """One DCI port of a border switch and the thresholds the controller installs on it."""

    port: int
    peer: str  # the border switch across the DCI
    peer_site: int
    rate_mbps: float
    delay_us: float  # one way
    bdp_frames: int
    ecn: Ecn
    notify_threshold: int  # packets queued on the port


@dataclass(frozen=True)
class Watch:
    """An INT watchlist entry: None matches anything."""

    src: str | None = None
    dst: str | None = None
    dport: int | None = None
    to_host: bool = False  # INT to the receiver (HPCC) instead of reports to the collector

    def __post_init__(self) -> None:
        for what in (self.src, self.dst):
            if what is not None:
                try:
                    ipaddress.IPv4Address(what)
                except ValueError:
                    raise FabricError(f"INT watch: {what!r} is not an IPv4 address") from None
        if self.dport is not None and not 0 <= self.dport <= 0xFFFF:
            raise FabricError(f"INT watch: UDP port {self.dport} out of range")


@dataclass
class FabricConfig:
    """Run-time knobs the controller pushes to every switch (changeable later)."""

    mode: Mode = Mode.ECMP
    flowlet_gap_us: int = 50_000
    load_max_age_us: int = 20_000
    class_modes: dict[int, Mode] = field(default_factory=dict)  # DSCP -> mode override
    ecn: Ecn | None = None
    # (dscp or None, roce opcode or None, priority); None = wildcard
    priorities: list[tuple[int | None, int | None, int]] = field(default_factory=lambda: [
        (DSCP_CNP, None, 7), (None, ROCE_OPCODE_CNP, 7), (None, ROCE_OPCODE_ACK, 6)])
    watchlist: list[Watch] = field(default_factory=list)
    collector: str | None = None    # host that receives INT reports
    collector_port: int = INT_COLLECTOR_PORT
    border: BorderPolicy | None = field(default_factory=BorderPolicy)  # None: no border role


@dataclass(frozen=True)
class Group:
    """A next-hop group: the equal-cost ports toward one prefix."""

    gid: int
    ports: tuple[int, ...]


@dataclass
class SwitchPlan:
    """Everything fabric.p4 needs on one switch."""

    name: str
    switch_id: int
    site: int = 0
    role: str = "switch"  # the topology's kind: leaf, spine, border, ...
    dci_ports: dict[int, DciPort] = field(default_factory=dict)  # border role only
    routes: dict[Prefix, int] = field(default_factory=dict)       # prefix -> group id
    groups: dict[int, Group] = field(default_factory=dict)
    port_macs: dict[int, tuple[str, str]] = field(default_factory=dict)  # port -> (ours, peer)
    host_ports: list[int] = field(default_factory=list)           # INT sink ports
    report_port: int | None = None                                # toward the collector
    report_src_ip: str = "0.0.0.0"
    collector_ip: str = "0.0.0.0"

    @property
    def ports(self) -> set[int]:
        return {p for g in self.groups.values() for p in g.ports}


def _without_down(topo: Topology, down: set[tuple[str, int]]) -> Topology:
    """A copy of the topology without links that have a down end."""
    if not down:
        return topo
    copy = Topology(name=topo.name)
    for node in topo.nodes.values():
        copy.add_node(node.name, node.kind, node.site, node.pod, node.rail)
    for link in topo.links:
        if (link.a, link.a_port) in down or (link.b, link.b_port) in down:
            continue
        copy.add_link(link.a, link.b, link.ab, link.ba, link.a_port, link.b_port)
    return copy


def plan_from_routes(name: str, switch_index: int,
                     routes: dict[Prefix, tuple[NextHop, ...]]) -> SwitchPlan:
    """One switch's routing state from its route table alone (what `fabriclab net` hands
    to route installers). Our port MACs follow topologies.addressing.switch_mac; host
    ports are the ports of /32 routes (only a subnet's own switch has those)."""
    plan = SwitchPlan(name, switch_id=switch_index + 1,
                      report_src_ip=str(ipaddress.IPv4Address("10.255.0.0") + switch_index + 1))
    ordered = sorted(routes.items(), key=lambda kv: (kv[0].prefixlen, kv[0].network_address))
    for gid, (prefix, hops) in enumerate(ordered):
        plan.routes[prefix] = gid
        plan.groups[gid] = Group(gid, tuple(sorted({h.port for h in hops})))
        for hop in hops:
            plan.port_macs[hop.port] = (switch_mac(switch_index, hop.port), hop.mac)
            if prefix.prefixlen == 32 and hop.port not in plan.host_ports:
                plan.host_ports.append(hop.port)
    plan.host_ports.sort()
    return plan


def plan_fabric(topo: Topology, config: FabricConfig,
                down: set[tuple[str, int]] = frozenset()) -> dict[str, SwitchPlan]:
    """Per switch plan. `down` holds (switch, port) ends of failed links: their links are
    left out of the routes, so groups only contain working ports."""
    addressing = Addressing(topo)
    routes = compute_routes(_without_down(topo, set(down)), addressing)
    collector_ip = None
    if config.collector is not None:
        collector_ip = str(addressing.ip(config.collector))
    plans: dict[str, SwitchPlan] = {}
    for node in topo.switches():
        plan = plan_from_routes(node.name, topo.switch_index(node.name), routes[node.name])
        if collector_ip is not None:
            plan.collector_ip = collector_ip
            plan.report_port = _first_hop(routes[node.name], ipaddress.IPv4Address(collector_ip))
        plan.site, plan.role = node.site, node.kind.value
        if config.border is not None and node.kind is NodeKind.BORDER:
            plan.dci_ports = dci_ports(topo, node.name, config.border)
        plans[node.name] = plan
    return plans


def dci_ports(topo: Topology, switch: str, policy: BorderPolicy) -> dict[int, DciPort]:
    """The ports of a border switch that lead to a border of another site, with their
    rate and one-way delay from the topology and the thresholds `policy` scales to them."""
    me = topo.nodes[switch]
    out = {}
    for port, peer, _, link in topo.neighbors(switch):
        other = topo.nodes[peer]
        if other.kind is NodeKind.BORDER and other.site != me.site:
            d = link.ab if link.a == switch else link.ba
            if d.bw is None:
                raise FabricError(f"DCI link {switch}:{port} -> {peer} has no rate")
            out[port] = policy.dci_port(port, peer, other.site, d.bw, d.delay_us)
    return out


def _first_hop(table: dict[Prefix, tuple[NextHop, ...]],
               addr: ipaddress.IPv4Address) -> int | None:
    """The (first) port of the longest matching prefix's group."""
    best = max((p for p in table if addr in p and table[p]), key=lambda p: p.prefixlen,
               default=None)
    return None if best is None else table[best][0].port
