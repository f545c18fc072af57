"""What the live view shows, computed without I/O: the graph laid out by tiers, and frames of
per-direction load, per-port queues, drops and ECN marks, routing mode and INT paths.

A source (live P4Runtime reads or a virtual-time recorder) hands `Snapshot`s of cumulative
counters to a `FrameMaker`, which turns two successive snapshots into load as % of each
link direction's rate and keeps the peak queue per port. Live runs and replays produce
the same frame dicts, so the page has one renderer for both.

A link direction is named "<link index>:ab" or "<link index>:ba" (topology link order):
two switches can share more than one link, so node names alone are not enough.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from controller.fabric import PortStats
from topologies.graph import NodeKind, Topology

HISTORY_NS = 60 * 10**9  # the time series a click on a link shows

# Rows from top to bottom: sites sit side by side, each with its own tiers.
TIER = {NodeKind.BORDER: 0, NodeKind.CORE: 1, NodeKind.SPINE: 2, NodeKind.AGG: 2,
        NodeKind.LEAF: 3, NodeKind.HOST: 4, NodeKind.SCALEUP: 5}
X_STEP, Y_STEP, SITE_GAP = 150, 120, 160


def direction_ids(index: int) -> tuple[str, str]:
    return f"{index}:ab", f"{index}:ba"


def direction_id(topo: Topology, src: str, dst: str) -> str:
    """The id of the first link direction from node `src` to node `dst`."""
    for i, ln in enumerate(topo.links):
        if (ln.a, ln.b) == (src, dst) or (ln.b, ln.a) == (src, dst):
            return direction_ids(i)[0 if ln.a == src else 1]
    raise KeyError(f"no link {src}-{dst}")


def graph(topo: Topology) -> dict[str, Any]:
    """Nodes with their tier and a preset position, links with both directions' rates."""
    rows: dict[tuple[int, int], list[str]] = {}
    for node in topo.nodes.values():
        rows.setdefault((node.site, TIER[node.kind]), []).append(node.name)
    sites = sorted({site for site, _ in rows})
    width = {s: max(len(names) for (site, _), names in rows.items() if site == s) * X_STEP
             for s in sites}
    pos: dict[str, tuple[float, float]] = {}
    left = 0.0
    for s in sites:
        for (site, tier), names in rows.items():
            if site != s:
                continue
            names.sort(key=lambda n: (topo.nodes[n].pod or 0, _natural(n)))
            step = width[s] / len(names)
            for i, name in enumerate(names):
                pos[name] = (left + step * (i + 0.5), tier * Y_STEP)
        left += width[s] + SITE_GAP
    nodes = [{"id": n.name, "kind": n.kind.value, "tier": TIER[n.kind], "site": n.site,
              "pod": n.pod, "switch": n.is_switch, "x": pos[n.name][0], "y": pos[n.name][1]}
             for n in topo.nodes.values()]
    links = []
    for i, ln in enumerate(topo.links):
        ab, ba = direction_ids(i)
        links.append({"index": i, "a": ln.a, "a_port": ln.a_port, "b": ln.b, "b_port": ln.b_port,
                      "dirs": {ab: _rate_bps(ln.ab.bw), ba: _rate_bps(ln.ba.bw)}})
    return {"name": topo.name, "nodes": nodes, "links": links}


def _rate_bps(mbps: float | None) -> float | None:
    return None if mbps is None else mbps * 1e6


def _natural(name: str) -> tuple[str, int]:
    digits = name.lstrip("abcdefghijklmnopqrstuvwxyz")
    return name[:len(name) - len(digits)], int(digits) if digits.isdigit() else 0


@dataclass(frozen=True)
class SwitchSettings:
    mode: str = "?"
    ecn: str = "?"  # "off" or "Kmin-Kmax"


@dataclass(frozen=True)
class Snapshot:
    """Everything one sample read, at `t_ns` on the source's clock (wall or virtual).
    `read_ns` says when each switch's counters were read, where that differs (live reads
    go switch after switch): rates divide by that switch's own interval."""

    t_ns: int
    ports: dict[tuple[str, int], PortStats]  # cumulative counters of every switch port
    read_ns: dict[str, int] = field(default_factory=dict)
    qdepth: dict[tuple[str, int], int | None] = field(default_factory=dict)  # packets, now
    switches: dict[str, SwitchSettings] = field(default_factory=dict)
    int_paths: list[list[str]] = field(default_factory=list)


def direction_bytes(topo: Topology, snap: Snapshot) -> dict[str, tuple[int, int]]:
    """(bytes sent so far, when they were read) per link direction: a switch's transmit
    counter, or, for a host's direction (hosts have no counters), the receive counter at
    the switch end."""
    out: dict[str, tuple[int, int]] = {}
    ports = snap.ports
    for i, ln in enumerate(topo.links):
        for did, (src, sport, dst, dport) in zip(direction_ids(i), (
                (ln.a, ln.a_port, ln.b, ln.b_port), (ln.b, ln.b_port, ln.a, ln.a_port))):
            if topo.nodes[src].is_switch and (src, sport) in ports:
                out[did] = (ports[(src, sport)].tx_bytes, snap.read_ns.get(src, snap.t_ns))
            elif (dst, dport) in ports:
                out[did] = (ports[(dst, dport)].rx_bytes, snap.read_ns.get(dst, snap.t_ns))
    return out


class FrameMaker:
    """Successive snapshots -> frames (JSON-ready dicts); keeps the last 60 s of frames."""

    def __init__(self, topo: Topology, history_ns: int = HISTORY_NS) -> None:
        self.topo, self.history_ns = topo, history_ns
        self.rates = {did: rate for link in graph(topo)["links"]
                      for did, rate in link["dirs"].items()}
        self.frames: deque[dict[str, Any]] = deque()
        self._last: dict[str, tuple[int, int]] = {}
        self._peak: dict[tuple[str, int], int] = {}

    def add(self, snap: Snapshot) -> dict[str, Any]:
        sent = direction_bytes(self.topo, snap)
        loads: dict[str, dict[str, float | None]] = {}
        for did, (total, when) in sent.items():
            before, then = self._last.get(did, (total, when))
            if when <= then:
                continue  # a first sample, or no time passed: no rate yet
            bps = max(0, total - before) * 8e9 / (when - then)
            rate = self.rates.get(did)
            loads[did] = {"bps": round(bps, 1),
                          "pct": None if not rate else round(100 * bps / rate, 2)}
        self._last = sent
        ports = {}
        for (sw, port), c in sorted(snap.ports.items()):
            now = snap.qdepth.get((sw, port))
            peak = max(self._peak.get((sw, port), 0), now or 0, c.max_qdepth or 0)
            self._peak[(sw, port)] = peak
            ports[f"{sw}:{port}"] = {"q": now, "qmax": peak, "drops": c.drops,
                                     "ecn": c.ecn_marks}
        frame = {"t": snap.t_ns / 1e9, "loads": loads, "ports": ports,
                 "switches": {n: {"mode": s.mode, "ecn": s.ecn} for n, s in snap.switches.items()},
                 "int_paths": snap.int_paths}
        self.frames.append(frame)
        while self.frames and snap.t_ns - self.frames[0]["t"] * 1e9 > self.history_ns:
            self.frames.popleft()
        return frame


def int_paths(rows: Iterable[dict[str, str]], switch_names: dict[int, str],
              host_of_ip: dict[str, str], last: int) -> list[list[str]]:
    """The last `last` INT-traced paths from collector CSV rows (one row per hop):
    source host, the switches in hop order, destination host."""
    reports: dict[tuple[str, str], list[tuple[int, str]]] = {}
    ends: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        try:
            key = (row["reporter"], row["seq"])
            hop, sid = int(row["hop"]), int(row["switch_id"])
        except (KeyError, ValueError):
            continue  # a torn or foreign line: skip it, keep the rest
        reports.setdefault(key, []).append((hop, switch_names.get(sid, f"#{sid}")))
        ends[key] = (row.get("src", ""), row.get("dst", ""))
    out: list[list[str]] = []
    for key in list(reports)[-last:] if last > 0 else []:
        src, dst = ends[key]
        path = [name for _, name in sorted(reports[key])]
        out.append([host_of_ip.get(src, src), *path, host_of_ip.get(dst, dst)])
    return out
