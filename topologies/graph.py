"""The one model of a network: a typed graph of nodes, numbered ports and links.

Mininet (`fabriclab.net`), the controller's routing (`controller.routes`) and the plots all
read this object, so a node's role is an explicit `kind`, never guessed from its name.
Everything is validated as it is added: a bad topology fails with a FabricError before any
namespace, link or process exists.

Tenants (docs/tenants.md) are part of the model: named, disjoint host sets with a guaranteed
share and a cap, which the controller installs as meters and queues on every switch.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Iterable, Iterator

from fabriclab.errors import FabricError

FORMAT = "fabriclab-topology"
VERSION = 1

#: Node names become Mininet node names and part of kernel interface names
#: (`flv<tag><node>-<port>`, at most 15 characters), hence short and lower-case.
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
#: Switch ports count from 1 (port 0 is where BMv2 sends packets nobody routed) and stay
#: below the CPU port fabriclab uses by default (255) and v1model's drop port (511).
MAX_SWITCH_PORT = 254
MAX_HOST_NICS = 16


class NodeKind(str, Enum):
    """What a node is; switches of every kind run the same P4 program."""

    HOST = "host"
    LEAF = "leaf"  # top-of-rack / edge / rail switch: hosts attach here
    SPINE = "spine"
    AGG = "agg"  # fat-tree aggregation layer
    CORE = "core"  # fat-tree core layer
    BORDER = "border"  # DCI / border switch joining sites
    SCALEUP = "scaleup"  # NVLink-style high-rate domain switch

    @property
    def is_switch(self) -> bool:
        return self is not NodeKind.HOST


@dataclass(frozen=True)
class Node:
    """A host or switch. `site` groups nodes of a multi-site fabric; `pod` is the fat-tree
    pod or leaf-spine group; `rail` is the NIC index a rail switch serves."""

    name: str
    kind: NodeKind
    site: int = 0
    pod: int | None = None
    rail: int | None = None

    @property
    def is_switch(self) -> bool:
        return self.kind.is_switch


@dataclass(frozen=True)
class LinkParams:
    """One direction of a link, in Mininet's terms: `bw` in Mb/s (None: unlimited), one-way
    `delay_us`, and `max_queue_size` in packets at the sender (None: target default)."""

    bw: float | None = None
    delay_us: int = 0
    max_queue_size: int | None = None

    def __post_init__(self) -> None:
        if self.bw is not None and not self.bw > 0:
            raise FabricError(f"link rate must be > 0 Mb/s, got {self.bw}")
        if self.delay_us < 0:
            raise FabricError(f"link delay must be >= 0, got {self.delay_us} us")
        if self.max_queue_size is not None and self.max_queue_size < 1:
            raise FabricError(f"queue size must be >= 1 packet, got {self.max_queue_size}")


@dataclass(frozen=True)
class Link:
    """A full-duplex link between `a:a_port` and `b:b_port`; `ab` is the a->b direction."""

    a: str
    a_port: int
    b: str
    b_port: int
    ab: LinkParams
    ba: LinkParams

    def params_from(self, node: str) -> LinkParams:
        """The parameters of the direction that leaves `node`."""
        return self.ab if node == self.a else self.ba

    def peer(self, node: str) -> tuple[str, int]:
        return (self.b, self.b_port) if node == self.a else (self.a, self.a_port)

    def port_of(self, node: str) -> int:
        return self.a_port if node == self.a else self.b_port


@dataclass(frozen=True)
class Tenant:
    """A named set of hosts sharing the fabric. Rates in bit/s per switch: `guaranteed_bps`
    (meter CIR: above it, best effort) and `cap_bps` (PIR: above it, dropped); `queue` is
    the priority queue of its data (0..7), `burst_us` the meters' bursts at those rates."""

    name: str
    hosts: tuple[str, ...]
    guaranteed_bps: float
    cap_bps: float
    queue: int = 1
    burst_us: int = 100


def check_tenants(topo: "Topology", tenants: Iterable[Tenant]) -> list[Tenant]:
    """The tenants, or a one-line FabricError: unknown or switch hosts, a host in two
    tenants, duplicate names, bad rates, queues or bursts."""
    tenants = list(tenants)
    owner: dict[str, str] = {}
    names = set()
    for t in tenants:
        if not t.name or t.name in names:
            raise FabricError(f"tenant {t.name!r}: duplicate or empty name")
        names.add(t.name)
        if not t.hosts:
            raise FabricError(f"tenant {t.name!r}: no hosts")
        for h in t.hosts:
            node = topo.nodes.get(h)
            if node is None or node.is_switch:
                raise FabricError(f"tenant {t.name!r}: unknown host {h!r}")
            if h in owner:
                raise FabricError(f"tenants {owner[h]!r} and {t.name!r} overlap: both hold {h}")
            owner[h] = t.name
        if not (math.isfinite(t.cap_bps) and 0 < t.guaranteed_bps <= t.cap_bps):
            raise FabricError(f"tenant {t.name!r}: need 0 < guaranteed <= cap "
                              f"(got {t.guaranteed_bps:g} and {t.cap_bps:g} bit/s)")
        if not 0 <= t.queue <= 7:
            raise FabricError(f"tenant {t.name!r}: queue {t.queue} is not 0..7")
        if t.burst_us <= 0:
            raise FabricError(f"tenant {t.name!r}: burst must be positive")
    return tenants


@dataclass
class Topology:
    """Nodes (in insertion order), links (ports numbered per node as links are added) and
    tenants."""

    name: str = "custom"
    nodes: dict[str, Node] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    _ports: dict[str, dict[int, Link]] = field(default_factory=dict, repr=False, compare=False)
    _switch_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def add_node(self, name: str, kind: NodeKind | str, site: int = 0,
                 pod: int | None = None, rail: int | None = None) -> Node:
        if not NAME_RE.match(name):
            raise FabricError(f"bad node name {name!r}: use 1-6 lower-case letters/digits, "
                              "starting with a letter")
        if name in self.nodes:
            raise FabricError(f"duplicate node name {name!r}")
        try:
            kind = NodeKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in NodeKind)
            raise FabricError(f"node {name!r}: unknown kind {kind!r} (one of {kinds})") from None
        if site < 0:
            raise FabricError(f"node {name!r}: site must be >= 0")
        node = Node(name, kind, site, pod, rail)
        self.nodes[name] = node
        self._ports[name] = {}
        if node.is_switch:
            self._switch_index[name] = len(self._switch_index)
        return node

    def add_link(self, a: str, b: str, params: LinkParams | None = None,
                 params_ba: LinkParams | None = None, a_port: int | None = None,
                 b_port: int | None = None) -> Link:
        """Connect two nodes; ports default to the next free one (hosts: NIC 0, 1, ...;
        switches: 1, 2, ...). `params_ba` defaults to `params` (a symmetric link)."""
        for n in (a, b):
            if n not in self.nodes:
                raise FabricError(f"link {a}-{b}: no node named {n!r}")
        if a == b:
            raise FabricError(f"link {a}-{b}: a node cannot link to itself")
        if not (self.nodes[a].is_switch or self.nodes[b].is_switch):
            raise FabricError(f"link {a}-{b}: hosts must attach to switches, not to each other")
        params = params or LinkParams()
        link = Link(a, self._port(a, a_port), b, self._port(b, b_port), params,
                    params_ba or params)
        self.links.append(link)
        self._ports[a][link.a_port] = link
        self._ports[b][link.b_port] = link
        return link

    def add_tenant(self, name: str, hosts: Iterable[str], guaranteed_bps: float, cap_bps: float,
                   queue: int = 1, burst_us: int = 100) -> Tenant:
        """Add a tenant over hosts already in the topology (checked with every other
        tenant: no host in two)."""
        tenant = Tenant(name, tuple(hosts), float(guaranteed_bps), float(cap_bps), queue, burst_us)
        check_tenants(self, [*self.tenants.values(), tenant])
        self.tenants[name] = tenant
        return tenant

    def _port(self, name: str, port: int | None) -> int:
        used = self._ports[name]
        is_switch = self.nodes[name].is_switch
        lo, hi = (1, MAX_SWITCH_PORT) if is_switch else (0, MAX_HOST_NICS - 1)
        if port is None:
            port = next((p for p in range(lo, hi + 1) if p not in used), hi + 1)
        if not lo <= port <= hi:
            what = "switch ports" if is_switch else "host NICs"
            raise FabricError(f"node {name!r}: port {port} out of range ({what}: {lo}..{hi})")
        if port in used:
            raise FabricError(f"node {name!r}: port {port} is already linked")
        return port

    # --- queries -------------------------------------------------------------------------
    def hosts(self) -> list[Node]:
        return [n for n in self.nodes.values() if not n.is_switch]

    def switches(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_switch]

    def ports(self, name: str) -> dict[int, Link]:
        """Port number -> link, sorted by port."""
        if name not in self._ports:
            raise FabricError(f"no node named {name!r}")
        return dict(sorted(self._ports[name].items()))

    def neighbors(self, name: str) -> Iterator[tuple[int, str, int, Link]]:
        """(local port, peer node, peer port, link) for each port of `name`, by port."""
        for port, link in self.ports(name).items():
            peer, peer_port = link.peer(name)
            yield port, peer, peer_port, link

    def switch_index(self, name: str) -> int:
        """0-based position of a switch among the switches (device ids, gRPC ports)."""
        try:
            return self._switch_index[name]
        except KeyError:
            raise FabricError(f"no switch named {name!r}") from None

    def validate(self) -> None:
        """Whole-graph checks that cannot run link by link."""
        if not self.hosts():
            raise FabricError(f"topology {self.name!r} has no hosts")
        for node in self.nodes.values():
            if not self._ports[node.name]:
                raise FabricError(f"topology {self.name!r}: node {node.name!r} has no links")

    # --- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "name": self.name,
            "nodes": [{**asdict(n), "kind": n.kind.value} for n in self.nodes.values()],
            "links": [asdict(link) for link in self.links],
            **({"tenants": [{**asdict(t), "hosts": list(t.hosts)} for t in self.tenants.values()]}
               if self.tenants else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> "Topology":
        """Build from a parsed document, checking every field's type first: a hand-written
        or damaged file fails with one FabricError, never another exception."""
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise FabricError(f"not a {FORMAT} v{VERSION} document")
        doc = _checked(data, _DOC_FIELDS, "document")
        topo = cls(name=doc["name"])
        for i, n in enumerate(doc["nodes"]):
            topo.add_node(**_checked(n, _NODE_FIELDS, f"node {i}"))
        for i, ln in enumerate(doc["links"]):
            ln = _checked(ln, _LINK_FIELDS, f"link {i}")
            params = [LinkParams(**_checked(ln[d], _PARAM_FIELDS, f"link {i} {d}")) for d in ("ab", "ba")]
            topo.add_link(ln["a"], ln["b"], *params, ln["a_port"], ln["b_port"])
        for i, t in enumerate(doc.get("tenants", [])):
            t = _checked(t, _TENANT_FIELDS, f"tenant {i}")
            if not all(isinstance(h, str) for h in t["hosts"]):
                raise FabricError(f"malformed topology document: tenant {i} 'hosts' must be names")
            topo.add_tenant(**t)
        topo.validate()
        return topo

    @classmethod
    def from_json(cls, text: str) -> "Topology":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, too many digits, nesting
            raise FabricError(f"topology file is not JSON: {str(err)[:200]}") from None
        return cls.from_dict(data)


_OPT_INT = (int, type(None))
# field -> (accepted types, required); bool is never accepted where a number is expected
_DOC_FIELDS = {"format": ((str,), True), "version": ((int,), True), "name": ((str,), True),
               "nodes": ((list,), True), "links": ((list,), True), "tenants": ((list,), False)}
_NODE_FIELDS = {"name": ((str,), True), "kind": ((str,), True), "site": ((int,), False),
                "pod": (_OPT_INT, False), "rail": (_OPT_INT, False)}
_LINK_FIELDS = {"a": ((str,), True), "b": ((str,), True), "a_port": (_OPT_INT, True),
                "b_port": (_OPT_INT, True), "ab": ((dict,), True), "ba": ((dict,), True)}
_TENANT_FIELDS = {"name": ((str,), True), "hosts": ((list,), True),
                  "guaranteed_bps": ((int, float), True), "cap_bps": ((int, float), True),
                  "queue": ((int,), False), "burst_us": ((int,), False)}
_PARAM_FIELDS = {"bw": ((int, float, type(None)), False), "delay_us": ((int,), False),
                 "max_queue_size": (_OPT_INT, False)}


def _checked(obj: Any, fields: dict[str, tuple[tuple[type, ...], bool]], what: str) -> dict[str, Any]:
    """`obj` if it is an object with exactly these fields of these types, else a FabricError."""
    if not isinstance(obj, dict):
        raise FabricError(f"malformed topology document: {what} must be an object")
    for key in obj:
        if key not in fields:
            raise FabricError(f"malformed topology document: {what} has an unknown field {str(key)[:40]!r}")
    for key, (types, required) in fields.items():
        if key not in obj:
            if required:
                raise FabricError(f"malformed topology document: {what} lacks {key!r}")
            continue
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, types) or (
                isinstance(value, float) and not math.isfinite(value)):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise FabricError(f"malformed topology document: {what} {key!r} must be {names}, "
                              f"not {str(value)[:40]!r}")
    return obj
