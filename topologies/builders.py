"""Builders for the fabrics AI clusters use: leaf-spine, fat-tree, rail-optimized and
multi-site, each with an optional scale-up domain, and `scale_up_fabric`: scale-up domains
of accelerators joined by a rail-optimised (or plain) leaf-spine, on one or more sites.

Names are short and global (h1.., l1.., s1.., b1.., u1.., fat-tree e1../a1../c1..) so they
work as Mininet node names; the site, pod and rail live in the node, not in the name.
Rates are Mb/s, delays microseconds: a Python software switch forwards tens of Mb/s, so
defaults are scaled down and every figure states the scale it ran at.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import count

from fabriclab.errors import FabricError
from topologies.graph import LinkParams, NodeKind, Topology


@dataclass(frozen=True)
class ScaleUp:
    """A scale-up domain option: every `size` consecutive hosts also attach (one extra NIC
    each) to one high-rate `scaleup` switch, NVL72-style."""

    size: int
    bw: float = 1000.0

    def __post_init__(self) -> None:
        _positive("scale-up domain size", self.size, minimum=2)
        _positive("scale-up rate", self.bw)


FIBRE_NS_PER_KM = 5_000  # light in glass (~2/3 c): 5 us per km, one way
DCI_FRAME_BYTES = 1500  # a border buffer given in bytes holds this many bytes per queued frame


def fibre_delay_us(km: float) -> int:
    """One-way propagation delay of `km` of fibre, in whole microseconds."""
    if not km >= 0:
        raise FabricError(f"DCI distance must be >= 0 km, got {km:g}")
    return round(km * FIBRE_NS_PER_KM / 1000)


@dataclass(frozen=True)
class Dci:
    """The links between sites: rate (Mb/s), one-way delay, and the border switches' DCI
    egress buffer in bytes (deep: it must absorb a long path's BDP; None: the fabric's
    queue). `Dci.of(km=...)` sets the delay from the fibre length."""

    bw: float = 100.0
    delay_us: int = 10_000
    buffer_bytes: int | None = None

    def __post_init__(self) -> None:
        _positive("DCI rate", self.bw, minimum=1e-3)
        if self.delay_us < 0:
            raise FabricError(f"DCI delay must be >= 0, got {self.delay_us} us")
        if self.buffer_bytes is not None and self.buffer_bytes < DCI_FRAME_BYTES:
            raise FabricError(f"border buffer must be >= {DCI_FRAME_BYTES} bytes, got {self.buffer_bytes}")

    @classmethod
    def of(cls, bw: float = 100.0, km: float | None = None, delay_us: int = 10_000,
           buffer_bytes: int | None = None) -> Dci:
        return cls(bw, delay_us if km is None else fibre_delay_us(km), buffer_bytes)

    def link(self, queue: int | None) -> LinkParams:
        """The DCI direction leaving a border: the buffer in frames, else the fabric's queue."""
        frames = -(-self.buffer_bytes // DCI_FRAME_BYTES) if self.buffer_bytes else queue
        return LinkParams(self.bw, self.delay_us, frames)


class ScaleUpWarning(UserWarning):
    """A buildable but unusual scale-up configuration (the CLI prints it and goes on)."""


def _positive(what: str, value: float, minimum: float = 1) -> None:
    if value < minimum:
        raise FabricError(f"{what} must be >= {minimum}, got {value}")


def _uplink_rate(downlink_bw: float, hosts_per_leaf: int, spines: int,
                 uplink_bw: float | None, oversubscription: float | None) -> float:
    """Uplink rate from an explicit value or an oversubscription ratio (down:up capacity)."""
    if uplink_bw is not None and oversubscription is not None:
        raise FabricError("give either an uplink rate or an oversubscription ratio, not both")
    if uplink_bw is not None:
        _positive("uplink rate", uplink_bw, minimum=1e-3)
        return uplink_bw
    ratio = 1.0 if oversubscription is None else oversubscription
    if not ratio > 0:
        raise FabricError(f"oversubscription must be > 0, got {ratio}")
    return hosts_per_leaf * downlink_bw / (spines * ratio)


class _Names:
    """Global per-prefix counters: h1, h2, ... across pods and sites."""

    def __init__(self) -> None:
        self._counters: dict[str, count] = {}

    def __call__(self, prefix: str) -> str:
        return f"{prefix}{next(self._counters.setdefault(prefix, count(1)))}"


def _warn_if_slow(scaleup_bw: float, nic_bw: float | None) -> None:
    if nic_bw is not None and scaleup_bw < nic_bw:
        warnings.warn(f"scale-up rate {scaleup_bw:g} Mb/s is below the NIC rate {nic_bw:g} "
                      "Mb/s: unusual (NVLink-class links are 10-20x a NIC), so traffic kept "
                      "inside a domain runs slower than over the network", ScaleUpWarning,
                      stacklevel=3)


def _attach_scaleup(topo: Topology, names: _Names, hosts: list[str], scaleup: ScaleUp | None,
                    site: int, queue: int | None) -> None:
    if scaleup is None:
        return
    if len(hosts) % scaleup.size:
        raise FabricError(f"{len(hosts)} hosts do not split into scale-up domains of "
                          f"{scaleup.size}")
    _warn_if_slow(scaleup.bw, next(iter(topo.ports(hosts[0]).values())).params_from(hosts[0]).bw)
    params = LinkParams(scaleup.bw, 0, queue)
    for start in range(0, len(hosts), scaleup.size):
        sw = topo.add_node(names("u"), NodeKind.SCALEUP, site=site,
                           pod=start // scaleup.size).name
        for h in hosts[start:start + scaleup.size]:
            topo.add_link(h, sw, params)


def _add_leaf_spine(topo: Topology, names: _Names, site: int, leaves: int, spines: int,
                    hosts_per_leaf: int, downlink_bw: float, uplink_bw: float | None,
                    oversubscription: float | None, delay_us: int, queue: int | None,
                    scaleup: ScaleUp | None) -> list[str]:
    """Add one leaf-spine site; returns its spine names (borders attach to them)."""
    _positive("leaves", leaves)
    _positive("spines", spines)
    _positive("hosts per leaf", hosts_per_leaf)
    _positive("downlink rate", downlink_bw, minimum=1e-3)
    up = LinkParams(_uplink_rate(downlink_bw, hosts_per_leaf, spines, uplink_bw,
                                 oversubscription), delay_us, queue)
    down = LinkParams(downlink_bw, 0, queue)
    spine_names = [topo.add_node(names("s"), NodeKind.SPINE, site=site).name
                   for _ in range(spines)]
    hosts: list[str] = []
    for pod in range(leaves):
        leaf = topo.add_node(names("l"), NodeKind.LEAF, site=site, pod=pod).name
        for _ in range(hosts_per_leaf):
            h = topo.add_node(names("h"), NodeKind.HOST, site=site, pod=pod).name
            topo.add_link(h, leaf, down)
            hosts.append(h)
        for s in spine_names:
            topo.add_link(leaf, s, up)
    _attach_scaleup(topo, names, hosts, scaleup, site, queue)
    return spine_names


def leaf_spine(leaves: int = 2, spines: int = 2, hosts_per_leaf: int = 2,
               downlink_bw: float = 100.0, uplink_bw: float | None = None,
               oversubscription: float | None = None, delay_us: int = 0,
               queue: int | None = None, scaleup: ScaleUp | None = None) -> Topology:
    """A two-tier Clos: every leaf links to every spine. The uplink rate is explicit or
    follows from `oversubscription` (1.0 = non-blocking); `delay_us` applies to uplinks."""
    topo = Topology(name=f"leaf-spine-{leaves}x{spines}x{hosts_per_leaf}")
    _add_leaf_spine(topo, _Names(), 0, leaves, spines, hosts_per_leaf, downlink_bw, uplink_bw,
                    oversubscription, delay_us, queue, scaleup)
    topo.validate()
    return topo


def multi_site(sites: int = 2, leaves: int = 2, spines: int = 2, hosts_per_leaf: int = 2,
               borders: int = 1, downlink_bw: float = 100.0, uplink_bw: float | None = None,
               oversubscription: float | None = None, dci_bw: float = 100.0,
               dci_delay_us: int = 10_000, queue: int | None = None,
               scaleup: ScaleUp | None = None, dci: Dci | None = None) -> Topology:
    """Leaf-spine sites joined by border (DCI) switches: each border links to all spines of
    its site, and border i of every site links to border i of every other site over a DCI
    link with its own rate and one-way delay (default 10 ms). `dci` (rate, distance or
    delay, border buffer in bytes) replaces dci_bw and dci_delay_us."""
    dci = dci or Dci(dci_bw, dci_delay_us)
    _check_sites(sites, borders, dci.bw, dci.delay_us, minimum=2)
    topo = Topology(name=f"multi-site-{sites}x{leaves}x{spines}x{hosts_per_leaf}")
    names = _Names()
    spine_link = LinkParams(_uplink_rate(downlink_bw, hosts_per_leaf, spines, uplink_bw,
                                         oversubscription), 0, queue)
    site_borders = []
    for site in range(sites):
        spine_names = _add_leaf_spine(topo, names, site, leaves, spines, hosts_per_leaf,
                                      downlink_bw, uplink_bw, oversubscription, 0, queue,
                                      scaleup)
        site_borders.append(_add_borders(topo, names, site, spine_names, borders, spine_link))
    _join_borders(topo, site_borders, dci.link(queue))
    topo.validate()
    return topo


def _check_sites(sites: int, borders: int, dci_bw: float, dci_delay_us: int, minimum: int) -> None:
    _positive("sites", sites, minimum=minimum)
    _positive("borders per site", borders)
    _positive("DCI rate", dci_bw, minimum=1e-3)
    if dci_delay_us < 0:
        raise FabricError(f"DCI delay must be >= 0, got {dci_delay_us} us")


def _add_borders(topo: Topology, names: _Names, site: int, spine_names: list[str],
                 borders: int, spine_link: LinkParams) -> list[str]:
    """A site's border switches, each linked to every spine of the site."""
    border_names = [topo.add_node(names("b"), NodeKind.BORDER, site=site).name
                    for _ in range(borders)]
    for b in border_names:
        for s in spine_names:
            topo.add_link(s, b, spine_link)
    return border_names


def _join_borders(topo: Topology, site_borders: list[list[str]], dci: LinkParams) -> None:
    """Border i of every site links to border i of every other site over a DCI link."""
    for i in range(len(site_borders)):
        for j in range(i + 1, len(site_borders)):
            for bi, bj in zip(site_borders[i], site_borders[j]):
                topo.add_link(bi, bj, dci)


def fat_tree(k: int = 4, bw: float = 100.0, queue: int | None = None,
             scaleup: ScaleUp | None = None) -> Topology:
    """The k-ary fat-tree (Al-Fares et al.): k pods of k/2 edge and k/2 aggregation switches,
    (k/2)^2 core switches, k/2 hosts per edge switch, every link at `bw`."""
    if k < 2 or k % 2:
        raise FabricError(f"fat-tree k must be an even number >= 2, got {k}")
    _positive("link rate", bw, minimum=1e-3)
    half = k // 2
    topo = Topology(name=f"fat-tree-k{k}")
    names = _Names()
    params = LinkParams(bw, 0, queue)
    cores = [topo.add_node(names("c"), NodeKind.CORE).name for _ in range(half * half)]
    hosts: list[str] = []
    for pod in range(k):
        aggs = [topo.add_node(names("a"), NodeKind.AGG, pod=pod).name for _ in range(half)]
        for _ in range(half):
            edge = topo.add_node(names("e"), NodeKind.LEAF, pod=pod).name
            for _ in range(half):
                h = topo.add_node(names("h"), NodeKind.HOST, pod=pod).name
                topo.add_link(h, edge, params)
                hosts.append(h)
            for agg in aggs:
                topo.add_link(edge, agg, params)
        for i, agg in enumerate(aggs):  # aggregation switch i reaches core group i
            for core in cores[i * half:(i + 1) * half]:
                topo.add_link(agg, core, params)
    _attach_scaleup(topo, names, hosts, scaleup, 0, queue)
    topo.validate()
    return topo


def rail_optimized(hosts: int = 4, rails: int = 2, hosts_per_rail_switch: int | None = None,
                   spines: int = 2, downlink_bw: float = 100.0, uplink_bw: float | None = None,
                   queue: int | None = None, scaleup: ScaleUp | None = None) -> Topology:
    """Hosts with `rails` NICs; NIC r of every host attaches to a rail-r leaf switch (one rail
    per NIC index), and all rail switches link to every spine. With `hosts_per_rail_switch`
    smaller than `hosts`, each rail has several switches (host groups)."""
    _positive("hosts", hosts)
    _positive("rails", rails)
    _positive("spines", spines)
    per_switch = hosts if hosts_per_rail_switch is None else hosts_per_rail_switch
    _positive("hosts per rail switch", per_switch)
    if hosts % per_switch:
        raise FabricError(f"{hosts} hosts do not split into rail groups of {per_switch}")
    topo = Topology(name=f"rail-{hosts}x{rails}")
    names = _Names()
    up = LinkParams(_uplink_rate(downlink_bw, per_switch, spines, uplink_bw, None), 0, queue)
    down = LinkParams(downlink_bw, 0, queue)
    spine_names = [topo.add_node(names("s"), NodeKind.SPINE).name for _ in range(spines)]
    host_names = [topo.add_node(names("h"), NodeKind.HOST, pod=i // per_switch).name
                  for i in range(hosts)]
    for group in range(hosts // per_switch):
        for rail in range(rails):
            leaf = topo.add_node(names("r"), NodeKind.LEAF, pod=group, rail=rail).name
            for h in host_names[group * per_switch:(group + 1) * per_switch]:
                topo.add_link(h, leaf, down, a_port=rail)
            for s in spine_names:
                topo.add_link(leaf, s, up)
    _attach_scaleup(topo, names, host_names, scaleup, 0, queue)
    topo.validate()
    return topo


def scale_up_fabric(accelerators: int = 16, domain: int = 8, rails: int | None = None,
                    layout: str = "rail", nic_bw: float = 100.0, scaleup_bw: float = 1800.0,
                    spines: int = 2, domains_per_leaf: int | None = None, sites: int = 1,
                    borders: int = 1, dci_bw: float = 100.0, dci_delay_us: int = 10_000,
                    queue: int | None = None, dci: Dci | None = None) -> Topology:
    """`accelerators` hosts in scale-up domains of `domain` (one `scaleup` switch each, every
    accelerator on it at `scaleup_bw`). The default ratio is 18:1, NVLink 5 to one 400G NIC
    (900 GB/s to 50 GB/s per direction). Every accelerator's NIC 0 is its scale-out NIC at
    `nic_bw`, NIC 1 its scale-up NIC.

    Scale-out `layout`: "rail" (rail-optimised: accelerator i of every domain on a rail-i
    leaf; `rails` must equal `domain`) or "leaf" (a plain leaf per group of whole domains, a
    rack's top-of-rack switch). A leaf serves `domains_per_leaf` domains (default: all of a
    site's); leaves link to every spine of their site, non-blocking. With `sites` > 1 the
    accelerators split evenly over sites joined by border switches (as `multi_site`).
    A domain of 1 has no scale-up switch (the flat baseline)."""
    _positive("accelerators", accelerators)
    _positive("scale-up domain size", domain)
    _positive("spines", spines)
    _positive("NIC rate", nic_bw, minimum=1e-3)
    _positive("scale-up rate", scaleup_bw, minimum=1e-3)
    if dci is not None and sites < 2:
        raise FabricError("DCI parameters need at least 2 sites")
    dci = dci or Dci(dci_bw, dci_delay_us)
    _check_sites(sites, borders, dci.bw, dci.delay_us, minimum=1)
    if layout not in ("rail", "leaf"):
        raise FabricError(f"unknown scale-out layout {layout!r} (rail or leaf)")
    if accelerators % domain:
        raise FabricError(f"{accelerators} accelerators do not split into scale-up domains "
                          f"of {domain}")
    if (accelerators // domain) % sites:
        raise FabricError(f"{accelerators // domain} scale-up domains do not split over "
                          f"{sites} sites")
    if layout == "rail" and rails is not None and rails != domain:
        raise FabricError(f"{rails} rails do not match scale-up domains of {domain}: "
                          "rail-optimised puts accelerator i of every domain on rail i")
    if layout == "leaf" and rails is not None:
        raise FabricError("rails apply to the rail layout only")
    per_site = accelerators // domain // sites
    per_leaf = per_site if domains_per_leaf is None else domains_per_leaf
    _positive("domains per leaf", per_leaf)
    if per_site % per_leaf:
        raise FabricError(f"{per_site} domains per site do not split into leaves of {per_leaf}")
    if domain > 1:
        _warn_if_slow(scaleup_bw, nic_bw)
    topo = Topology(name=f"scale-up-{accelerators}x{domain}-{layout}"
                    + (f"-{sites}sites" if sites > 1 else ""))
    names = _Names()
    site_borders = []
    hosts_per_leaf = per_leaf if layout == "rail" else per_leaf * domain
    up = LinkParams(hosts_per_leaf * nic_bw / spines, 0, queue)
    down = LinkParams(nic_bw, 0, queue)
    for site in range(sites):
        spine_names = [topo.add_node(names("s"), NodeKind.SPINE, site=site).name
                       for _ in range(spines)]
        hosts = [[topo.add_node(names("h"), NodeKind.HOST, site=site, pod=d, rail=i).name
                  for i in range(domain)] for d in range(per_site)]
        groups = range(0, per_site, per_leaf)
        if layout == "rail":
            leaves = [(g, i, [hosts[d][i] for d in range(g, g + per_leaf)])
                      for g in groups for i in range(domain)]
        else:
            leaves = [(g, None, [h for d in range(g, g + per_leaf) for h in hosts[d]])
                      for g in groups]
        for g, rail, members in leaves:
            leaf = topo.add_node(names("r" if layout == "rail" else "l"), NodeKind.LEAF,
                                 site=site, pod=g // per_leaf, rail=rail).name
            for h in members:
                topo.add_link(h, leaf, down)
            for sp in spine_names:
                topo.add_link(leaf, sp, up)
        if domain > 1:
            for d in range(per_site):
                sw = topo.add_node(names("u"), NodeKind.SCALEUP, site=site, pod=d).name
                for h in hosts[d]:
                    topo.add_link(h, sw, LinkParams(scaleup_bw, 0, queue))
        if sites > 1:
            site_borders.append(_add_borders(topo, names, site, spine_names, borders,
                                             LinkParams(per_site * domain * nic_bw / spines,
                                                        0, queue)))
    _join_borders(topo, site_borders, dci.link(queue))
    topo.validate()
    return topo
