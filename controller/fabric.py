"""The fabric controller: programs fabric.p4 on every switch over P4Runtime from the topology
graph (routes, ECMP groups, routing mode, ECN, priorities, INT), changes those settings at
run time, follows link failures and reads the per-port statistics.

The plan (what to write) comes from `controller.fabric_plan`; this module only turns it
into P4Runtime entities and sends them, one `P4RuntimeClient` per switch.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from finsy.proto import p4r

from controller.client import Entry, P4RuntimeClient, encode
from controller.fabric_plan import (INT_REPORT_SESSION, MAX_CANDIDATES, NOTIFY_SESSION_BASE, Ecn,
                                    FabricConfig, Group, Mode, SwitchPlan, Watch, plan_fabric)
from fabriclab import paths
from fabriclab.errors import FabricError
from topologies.graph import Topology

if TYPE_CHECKING:  # scapy only where reports are decoded
    from controller.int_collector import IntReport

FABRIC_P4 = paths.p4src("fabric.p4")

IG, EG = "FabricIngress", "FabricEgress"
SELECTOR = f"{IG}.ecmp_selector"
TS_MASK = (1 << 32) - 1  # an INT record keeps the low 32 bits of a us timestamp


@dataclass(frozen=True)
class PortStats:
    """One port's counters; max_qdepth is None where registers are not served (BMv2)."""

    rx_packets: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    drops: int = 0
    ecn_marks: int = 0
    max_qdepth: int | None = None


@dataclass
class FabricController:
    """Owns one P4Runtime client per switch and the fabric's current configuration."""

    topo: Topology
    clients: dict[str, P4RuntimeClient]
    config: FabricConfig = field(default_factory=FabricConfig)
    down: set[tuple[str, int]] = field(default_factory=set)
    plans: dict[str, SwitchPlan] = field(default_factory=dict)
    measured_dci: dict[tuple[str, int], float] = field(default_factory=dict)  # (border, port) -> us
    dci_crossings: dict[tuple[str, int], int] = field(default_factory=dict)  # least clock difference, us
    unreachable: set[str] = field(default_factory=set)  # dead switches regroup leaves alone

    @classmethod
    def connect(cls, topo: Topology, addresses: dict[str, str],
                config: FabricConfig | None = None, device_ids: dict[str, int] | None = None,
                election_id: int = 1, timeout: float = 10.0) -> "FabricController":
        """Connect to every switch of the topology (`addresses`: switch -> host:port)."""
        missing = [s.name for s in topo.switches() if s.name not in addresses]
        if missing:
            raise FabricError(f"no P4Runtime address for switch(es) {', '.join(missing)}")
        clients: dict[str, P4RuntimeClient] = {}
        try:
            for sw in topo.switches():
                client = P4RuntimeClient(addresses[sw.name], (device_ids or {}).get(sw.name, 0),
                                         election_id=election_id, timeout=timeout)
                client.connect()
                clients[sw.name] = client
        except BaseException:
            for client in clients.values():
                client.close()
            raise
        return cls(topo, clients, config or FabricConfig())

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def __enter__(self) -> "FabricController":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __post_init__(self) -> None:
        if not self.plans:
            self.plans = plan_fabric(self.topo, self.config, self.down)

    # --- whole-fabric programming ---------------------------------------------------------
    def push_pipeline(self, p4info: object, device_config: bytes) -> None:
        for client in self.clients.values():
            client.set_pipeline(p4info, device_config)

    def install(self) -> None:
        """Write the complete state to every switch (on a freshly pushed pipeline)."""
        for name, c in self.clients.items():
            write_base(c, self.plans[name], self.config.priorities)
        self.apply_config()

    def apply_config(self) -> None:
        """Write mode, ECN and INT settings (the routing state is already there, e.g.
        installed by `fabriclab net` through controller.fabric_base_routes)."""
        for name, c in self.clients.items():
            self._write_mode(c)
            self._write_ecn(c)
            self._write_int(c, self.plans[name])
            self._write_border(c, self.plans[name])

    # --- run-time settings ----------------------------------------------------------------
    def _selected(self, switches: Iterable[str] | None) -> list[P4RuntimeClient]:
        names = list(switches) if switches else list(self.clients)
        unknown = [n for n in names if n not in self.clients]
        if unknown:
            raise FabricError(f"unknown switch(es) {', '.join(unknown)} "
                              f"(known: {', '.join(self.clients)})")
        return [self.clients[n] for n in names]

    def set_mode(self, mode: Mode | str, flowlet_gap_us: int | None = None,
                 load_max_age_us: int | None = None,
                 switches: Iterable[str] | None = None) -> None:
        """The routing mode (switch-wide default; config.class_modes override per DSCP)."""
        self.config.mode = Mode.parse(mode)
        if flowlet_gap_us is not None:
            self.config.flowlet_gap_us = _positive_us("flowlet gap", flowlet_gap_us)
        if load_max_age_us is not None:
            self.config.load_max_age_us = _positive_us("load max age", load_max_age_us)
        for c in self._selected(switches):
            self._write_mode(c)

    def _write_mode(self, c: P4RuntimeClient) -> None:
        def params(mode: Mode) -> dict[str, int]:
            return {"mode": int(mode), "flowlet_gap": self.config.flowlet_gap_us,
                    "load_max_age": self.config.load_max_age_us}

        _set_default(c, f"{IG}.routing_mode", f"{IG}.set_mode", params(self.config.mode))
        _replace_entries(c, f"{IG}.routing_mode",
                         [Entry(f"{IG}.routing_mode", {"hdr.ipv4.dscp": dscp},
                                f"{IG}.set_mode", params(mode))
                          for dscp, mode in sorted(self.config.class_modes.items())])

    def set_ecn(self, ecn: Ecn | None, switches: Iterable[str] | None = None) -> None:
        """Switch-wide ECN thresholds (None: no marking)."""
        self.config.ecn = ecn
        for c in self._selected(switches):
            self._write_ecn(c)

    def _write_ecn(self, c: P4RuntimeClient) -> None:
        ecn = self.config.ecn
        if ecn is None:
            _set_default(c, f"{EG}.ecn_config", f"{EG}.ecn_disabled", {})
        else:
            _set_default(c, f"{EG}.ecn_config", f"{EG}.ecn_thresholds",
                         {"kmin": ecn.kmin, "kmax": ecn.kmax, "slope": ecn.slope})

    def _write_border(self, c: P4RuntimeClient, plan: SwitchPlan) -> None:
        """A border switch's DCI ports (border.p4): ECN thresholds scaled to each DCI's BDP
        (per-port ecn_config entries, over the switch-wide default), near-source notification
        (dci_ports) and a notification clone session out of every port."""
        if not plan.dci_ports:
            return
        policy = self.config.border
        c.upsert([c.table_entry(Entry(f"{EG}.ecn_config", {"standard_metadata.egress_port": d.port},
                                        f"{EG}.ecn_thresholds",
                                        {"kmin": d.ecn.kmin, "kmax": d.ecn.kmax, "slope": d.ecn.slope}))
                    for d in plan.dci_ports.values()])
        _replace_entries(c, f"{IG}.border.dci_ports",
                         [Entry(f"{IG}.border.dci_ports", {"standard_metadata.egress_spec": d.port},
                                f"{IG}.border.dci_notify",
                                {"threshold": d.notify_threshold, "interval_us": policy.notify_interval_us,
                                 "cnp_dscp": policy.cnp_dscp})
                          for d in plan.dci_ports.values()])
        c.upsert(notify_sessions(self.topo.ports(plan.name)))

    def measure_dci(self, reports: Iterable[IntReport]) -> dict[tuple[str, int], float]:
        """The DCI's one-way latency as INT sees it. A report whose path crosses a DCI port (a
        border's record followed by its peer's) gives the time from leaving the first border
        to entering the second (the peer's egress timestamp less its hop latency), each read
        on its own switch's clock; the least per direction is kept in `dci_crossings`
        (serialisation and propagation, no queue). A switch's clock starts with the switch,
        as simple_switch's does, so one direction's figure also holds the two clocks' offset
        (hundreds of ms on Mininet; none in virtual time), which the other direction holds
        with the opposite sign: once both are seen, their mean is the one-way latency, kept
        per (switch, DCI port) in `measured_dci`, which `border()` shows. The records keep
        a timestamp's low 32 bits, so a difference is taken modulo 2**32 (offsets up to 35
        minutes either way)."""
        by_id = {plan.switch_id: plan for plan in self.plans.values()}
        for report in reports:
            for a, b in zip(report.hops, report.hops[1:]):
                plan, peer = by_id.get(a.switch_id), by_id.get(b.switch_id)
                dci = plan.dci_ports.get(a.egress_port) if plan is not None else None
                if dci is None or peer is None or peer.name != dci.peer:
                    continue
                diff = (b.egress_ts_us - b.hop_latency_us - a.egress_ts_us) & TS_MASK  # 32-bit stamps wrap
                diff -= (diff > TS_MASK >> 1) << 32  # signed: an offset is either way
                key = (plan.name, a.egress_port)
                self.dci_crossings[key] = min(diff, self.dci_crossings.get(key, diff))
        for (name, port), there in self.dci_crossings.items():
            back = self.dci_crossings.get(self._dci_return(name, port))
            if back is not None:
                self.measured_dci[(name, port)] = (there + back) / 2
        return dict(self.measured_dci)

    def _dci_return(self, switch: str, port: int) -> tuple[str, int]:
        """The far end of a DCI port: (peer border, its port back)."""
        return next((peer, pp) for p, peer, pp, _ in self.topo.neighbors(switch) if p == port)

    def border_notifications(self) -> int:
        """CNPs every border has sent so far from its DCI ports (port_notifications): what
        an experiment reads before and after a case, in either mode."""
        total = 0
        for name, plan in self.plans.items():
            if plan.dci_ports and name in self.clients:
                counts = self.clients[name].read_counter(f"{IG}.port_notifications")
                total += sum(counts.get(port, (0, 0))[1] for port in plan.dci_ports)
        return total

    def border(self, switch: str) -> str:
        """`ctl stats`: the switch's site and role; on a border, each DCI port's distance,
        BDP, the thresholds installed and the near-source notifications sent so far."""
        (c,) = self._selected([switch])
        plan = self.plans[switch]
        lines = [f"{switch}: site {plan.site}, role {plan.role}"]
        if not plan.dci_ports:
            return lines[0]
        notified = c.read_counter(f"{IG}.port_notifications")
        installed = {_p4data_int_bytes(e.match[0].exact.value) for e in c.read_table(f"{IG}.border.dci_ports")}
        lines.append(f"{'port':>4} {'to':>8} {'site':>4} {'Mb/s':>8} {'one-way us':>10} {'measured':>8} "
                     f"{'BDP frames':>10} {'ECN kmin/kmax':>15} {'notify at':>9} {'notified':>8}")
        for d in plan.dci_ports.values():
            measured = self.measured_dci.get((switch, d.port))
            lines.append(f"{d.port:>4} {d.peer:>8} {d.peer_site:>4} {d.rate_mbps:>8g} {d.delay_us:>10g} "
                         f"{'-' if measured is None else f'{measured:g}':>8} "
                         f"{d.bdp_frames:>10} {f'{d.ecn.kmin}/{d.ecn.kmax}':>15} {d.notify_threshold:>9} "
                         f"{notified.get(d.port, (0, 0))[1]:>8}")
        missing = [d.port for d in plan.dci_ports.values() if d.port not in installed]
        if missing:
            lines.append(f"  NOT installed on port(s) {', '.join(map(str, missing))}: the fabric "
                         "controller's install()/apply_config() writes the role (`fabriclab net` does at start)")
        lines.append("  one-way us: the topology's; measured: INT across the DCI (measure_dci); DCI "
                     "thresholds are packets queued on the port, scaled to the DCI's bandwidth-delay "
                     "product; notified: CNPs the border sent to senders in its own site")
        return "\n".join(lines)

    def set_watchlist(self, watches: list[Watch], collector: str | None = None) -> None:
        """Flows to trace with INT (and, optionally, a new collector host)."""
        self.config.watchlist = list(watches)
        if collector is not None:
            self.config.collector = collector
            for name, new in plan_fabric(self.topo, self.config, self.down).items():
                self.plans[name].collector_ip = new.collector_ip
                self.plans[name].report_port = new.report_port
        if any(not w.to_host for w in self.config.watchlist) and self.config.collector is None:
            raise FabricError("INT needs a collector host (set one with --collector)")
        for name, c in self.clients.items():
            self._write_int(c, self.plans[name])

    def _write_int(self, c: P4RuntimeClient, plan: SwitchPlan) -> None:
        _replace_entries(c, f"{IG}.int_watchlist",
                         [Entry(f"{IG}.int_watchlist", _watch_match(w),
                                f"{IG}.int_watch_to_host" if w.to_host else f"{IG}.int_watch", {},
                                priority=100 - i) for i, w in enumerate(self.config.watchlist)])
        if any(w.to_host for w in self.config.watchlist):
            self._write_int_to_host(c, plan)
        if plan.report_port is None:
            return
        _set_default(c, f"{EG}.int_config", f"{EG}.int_configure", {
            "switch_id": plan.switch_id, "report_src_ip": plan.report_src_ip,
            "collector_ip": plan.collector_ip, "collector_port": self.config.collector_port})
        session = p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
            clone_session_entry=p4r.CloneSessionEntry(
                session_id=INT_REPORT_SESSION,
                replicas=[p4r.Replica(egress_port=plan.report_port, instance=0)])))
        try:
            c.write([session], "MODIFY")
        except FabricError:
            c.write([session], "INSERT")

    def _write_int_to_host(self, c: P4RuntimeClient, plan: SwitchPlan) -> None:
        """INT to the receiver needs the switch id and each port's link rate (HPCC's B_j)."""
        if plan.report_port is None:
            _set_default(c, f"{EG}.int_config", f"{EG}.int_configure", {
                "switch_id": plan.switch_id, "report_src_ip": 0, "collector_ip": 0,
                "collector_port": 0})
        rates = {port: (link.ab if link.a == plan.name else link.ba).bw
                 for port, link in self.topo.ports(plan.name).items()}
        _replace_entries(c, f"{EG}.port_rate",
                         [Entry(f"{EG}.port_rate", {"standard_metadata.egress_port": port},
                                f"{EG}.set_port_rate", {"rate_mbps": round(bw)})
                          for port, bw in sorted(rates.items()) if bw])

    # --- link failures --------------------------------------------------------------------
    def link_down(self, switch: str, port: int) -> list[str]:
        """Take the link at switch:port out of every group; returns the switches changed."""
        link = self.topo.ports(switch).get(port) if switch in self.topo.nodes else None
        if link is None:
            raise FabricError(f"no link at {switch}:{port}")
        self.down |= {(link.a, link.a_port), (link.b, link.b_port)}
        return self.regroup()

    def link_up(self, switch: str, port: int) -> list[str]:
        link = self.topo.ports(switch).get(port) if switch in self.topo.nodes else None
        if link is None:
            raise FabricError(f"no link at {switch}:{port}")
        self.down -= {(link.a, link.a_port), (link.b, link.b_port)}
        return self.regroup()

    def regroup(self) -> list[str]:
        """Rewrite the groups whose ports changed (matched by prefix: group ids stay as
        installed). A group that lost every port keeps its old members (nothing better to
        send to) until a path comes back."""
        new_plans = plan_fabric(self.topo, self.config, self.down)
        changed = []
        for name, c in self.clients.items():
            if name in self.unreachable:
                continue
            old, new = self.plans[name], new_plans[name]
            diff = []
            for prefix, gid in old.routes.items():
                new_gid = new.routes.get(prefix)
                ports = new.groups[new_gid].ports if new_gid is not None else ()
                if ports and ports != old.groups[gid].ports:
                    old.groups[gid] = Group(gid, ports)
                    diff.append(old.groups[gid])
            if diff:
                c.write(_groups(c, diff), "MODIFY")
                c.write(_candidates(c, diff), "MODIFY")
                changed.append(name)
        return changed

    # --- statistics -----------------------------------------------------------------------
    def port_stats(self, switch: str) -> dict[int, PortStats]:
        """Counters of every linked port of `switch`."""
        (c,) = self._selected([switch])
        rx = c.read_counter(f"{IG}.port_rx")
        tx = c.read_counter(f"{EG}.port_tx")
        drops = c.read_counter(f"{IG}.port_drops")
        marks = c.read_counter(f"{EG}.port_ecn_marks")
        try:
            maxq = {i: _p4data_int(d) for i, d in c.read_register(f"{EG}.port_max_qdepth").items()}
        except FabricError:
            maxq = None
        out = {}
        for port in self.topo.ports(switch):
            out[port] = PortStats(
                rx_packets=rx.get(port, (0, 0))[1], rx_bytes=rx.get(port, (0, 0))[0],
                tx_packets=tx.get(port, (0, 0))[1], tx_bytes=tx.get(port, (0, 0))[0],
                drops=drops.get(port, (0, 0))[1], ecn_marks=marks.get(port, (0, 0))[1],
                max_qdepth=None if maxq is None else maxq.get(port, 0))
        return out


# --- routing state ------------------------------------------------------------------------

def write_base(c: P4RuntimeClient, plan: SwitchPlan,
               priorities: list[tuple[int | None, int | None, int]]) -> None:
    """Routes, next-hop groups, port MACs, INT sink ports, the ports facing other switches
    (where a packet with no live way on is sent back: liveness.p4) and traffic classes."""
    c.write([c.member(SELECTOR, port, f"{IG}.set_port", {"port": port})
             for port in sorted(plan.port_macs)])
    c.write(_groups(c, plan.groups.values()))
    c.write([_group_entry(c, gid) for gid in plan.groups])
    c.write(_candidates(c, plan.groups.values()))
    c.insert(Entry(f"{IG}.ipv4_routes", {"hdr.ipv4.dstAddr": str(prefix)},
                   f"{IG}.set_group", {"group": gid}) for prefix, gid in plan.routes.items())
    c.insert(Entry(f"{EG}.port_macs", {"standard_metadata.egress_port": port},
                   f"{EG}.set_port_macs", {"smac": ours, "dmac": peer})
             for port, (ours, peer) in sorted(plan.port_macs.items()))
    c.insert(Entry(f"{IG}.int_sink_ports", {"standard_metadata.egress_spec": port},
                   f"{IG}.int_sink", {}) for port in plan.host_ports)
    c.insert(Entry(f"{IG}.switch_ports", {"standard_metadata.ingress_port": port},
                   f"{IG}.bounce", {}) for port in sorted(set(plan.port_macs) - set(plan.host_ports)))
    c.insert(_priority_entries(priorities))


def notify_sessions(ports: Iterable[int]) -> list[p4r.Entity]:
    """fabric.p4's switch notifications (CNPs from a congested hop) leave by clone session
    NOTIFY_SESSION_BASE + p out of port p: one session per port."""
    return [p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
        clone_session_entry=p4r.CloneSessionEntry(
            session_id=NOTIFY_SESSION_BASE + port, replicas=[p4r.Replica(egress_port=port, instance=0)])))
        for port in ports]


def _groups(c: P4RuntimeClient, groups: Iterable[Group]) -> list[p4r.Entity]:
    """Selector groups; members are the ports (member id = port number)."""
    return [c.group(SELECTOR, g.gid, g.ports, max_size=MAX_CANDIDATES * 4) for g in groups]


def _candidates(c: P4RuntimeClient, groups: Iterable[Group]) -> list[p4r.Entity]:
    """group_candidates entries (groups above 8 ports stay ECMP in every mode)."""
    return [c.table_entry(Entry(f"{IG}.group_candidates", {"meta.group": g.gid},
                                f"{IG}.set_candidates", _candidate_params(g.ports)))
            for g in groups if 0 < len(g.ports) <= MAX_CANDIDATES]


# --- entity helpers (things controller.client has no builder for) -------------------------

def _candidate_params(ports: tuple[int, ...]) -> dict[str, int]:
    padded = list(ports) + [0] * (MAX_CANDIDATES - len(ports))
    return {"count": len(ports), **{f"p{i}": p for i, p in enumerate(padded)}}


def _group_entry(c: P4RuntimeClient, gid: int) -> p4r.Entity:
    """ecmp_groups entry meta.group == gid -> the selector group gid."""
    table = c._p4().get("tables", f"{IG}.ecmp_groups")
    (field_,) = [f for f in table.match_fields if f.name == "meta.group"]
    return p4r.Entity(table_entry=p4r.TableEntry(
        table_id=table.preamble.id,
        match=[p4r.FieldMatch(field_id=field_.id,
                              exact=p4r.FieldMatch.Exact(value=encode(gid, field_.bitwidth)))],
        action=p4r.TableAction(action_profile_group_id=gid)))


def _set_default(c: P4RuntimeClient, table: str, action: str, params: dict) -> None:
    entity = c.table_entry(Entry(table, {}, action, params))
    entity.table_entry.is_default_action = True
    c.write([entity], "MODIFY")



def _replace_entries(c: P4RuntimeClient, table: str, entries: list[Entry]) -> None:
    """Make the table hold exactly `entries` (small config tables only)."""
    old = [p4r.Entity(table_entry=e) for e in c.read_table(table) if not e.is_default_action]
    c.write(old, "DELETE")
    c.insert(entries)


def _priority_entries(priorities: list[tuple[int | None, int | None, int]]) -> list[Entry]:
    """traffic_class entries; earlier rules win (higher P4Runtime priority)."""
    out = []
    for i, (dscp, opcode, prio) in enumerate(priorities):
        match: dict = {}
        if dscp is not None:
            match["hdr.ipv4.dscp"] = (dscp, 0x3F)
        if opcode is not None:
            match["meta.bthValid"] = (1, 1)
            match["meta.bthOpcode"] = (opcode, 0xFF)
        out.append(Entry(f"{IG}.traffic_class", match, f"{IG}.set_priority",
                         {"priority": prio}, priority=1000 - i))
    return out


def _watch_match(w: Watch) -> dict:
    match: dict = {}
    if w.src is not None:
        match["hdr.ipv4.srcAddr"] = (str(ipaddress.IPv4Address(w.src)), 0xFFFFFFFF)
    if w.dst is not None:
        match["hdr.ipv4.dstAddr"] = (str(ipaddress.IPv4Address(w.dst)), 0xFFFFFFFF)
    if w.dport is not None:
        match["meta.l4DstPort"] = (w.dport, 0xFFFF)
    return match


def _p4data_int_bytes(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _p4data_int(data: p4r.P4Data) -> int:
    return int.from_bytes(data.bitstring, "big") if data.HasField("bitstring") else 0


def _positive_us(what: str, value: int) -> int:
    if value <= 0:
        raise FabricError(f"{what} must be > 0 us, got {value}")
    return value
