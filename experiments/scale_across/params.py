"""The scale_across experiment's parameters (one dataclass), its scales, topology and stacks.

Sim mode runs at real rates (400 Gb/s NICs and DCI) and real distances (5 us of fibre per
km); emulate mode on Mininet at the emulator's rates (100 Mb/s), the distance a netem delay
on the DCI links (10 ms one way is 2,000 km). Every distance gets its own fabric: `sites`
leaf-spine sites joined by one border switch each, the border's DCI egress buffer deep (in
bytes), the controller's border role on (near-source notification and ECN on the DCI port
at thresholds scaled to its BDP; `controller.fabric_plan.BorderPolicy`). Hosts run DCQCN
tuned for the site's RTT, with a retransmission timeout far above it, in both modes. The
three schemes differ only in the host stack and the collective's algorithm:

- baseline: what a single-site configuration does when stretched: a fixed window sized
  for the intra-site BDP (`window` packets), a fixed RTO, go-back-N receivers, flat ring;
- adaptive: the same ring, but each QP measures its RTT, sizes its window to the path's
  BDP at line rate and takes its RTO from the smoothed RTT (`RunOptions.adaptive`);
- adaptive_hier: adaptive QPs and `algo="hier"` with a site as the domain (reduce-scatter
  in the site, all-reduce across sites per rail, all-gather in the site).

In sim, one more host per leaf probes the site while the collectives run: a small RDMA
WRITE to the probe host of another leaf of the same site every `probe_interval_us` from a
collective's start to its end, whose completion time (p50/p99) says whether cross-site
traffic delays intra-site traffic (`probe_count` of them on the idle fabric are the
reference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from experiments.results import RunParams, check_choices, check_mode
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions
from topologies.builders import Dci, fibre_delay_us, multi_site
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("baseline", "adaptive", "adaptive_hier")
KINDS = ("allreduce", "alltoall")


@dataclass(frozen=True)
class Params(RunParams):
    """Everything a run depends on; saved next to its results."""

    sites: int = 2
    leaves: int = 2
    ranks_per_leaf: int = 1
    distances_km: tuple[float, ...] = (0, 10, 100, 300, 1000)
    nbytes: int = 1 << 20            # collective buffer per rank
    kinds: tuple[str, ...] = ("allreduce",)
    schemes: tuple[str, ...] = SCHEMES
    nic_gbps: float = 400.0
    dci_gbps: float = 100.0          # a DCI slower than a site's NICs: cross-site data queues at the border
    border_buffer_bytes: int = 64 << 20
    queue_pkts: int = 512            # every other switch queue
    pmtu: int = 4096
    window: int = 32                 # baseline: 128 KiB, the intra-site BDP at 400 Gb/s, ~2.5 us
    max_window: int = 1 << 16        # adaptive window ceiling (packets)
    rto_ms: float = 20.0             # retransmission timeout (an adaptive QP's floor): far above a site's RTT
    dcqcn_rtt_us: float | None = 10.0  # hosts run DCQCN tuned for this (site) RTT; None: no CC
    probe: bool = True               # a probe host per leaf measures intra-site latency (sim)
    probe_bytes: int = 4096
    probe_interval_us: float = 1.0
    probe_count: int = 1000          # WRITEs per site on the idle fabric (the reference p99)
    probe_max_ms: float = 1000.0     # a case's probes run until its collective ends, at most this long
    iters: int = 1
    warmup: int = 0
    seeds: tuple[int, ...] = (1,)
    timeout_s: float = 5.0           # per case: simulated seconds in sim, wall seconds on Mininet
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"
    grpc_base_port: int = 9559

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("scheme", self.schemes, SCHEMES)
        check_choices("collective", self.kinds, KINDS)
        if self.sites < 2:
            raise FabricError(f"scale_across needs at least 2 sites, got {self.sites}")
        if not self.distances_km or any(not d >= 0 for d in self.distances_km):
            raise FabricError(f"DCI distances must be >= 0 km, got {self.distances_km}")
        if not self.seeds:
            raise FabricError("give at least one seed")
        for what, value in (("NIC rate", self.nic_gbps), ("DCI rate", self.dci_gbps)):
            if not value > 0:
                raise FabricError(f"{what} must be > 0 Gb/s, got {value}")
        if not self.rto_ms > 0 or not (self.dcqcn_rtt_us is None or self.dcqcn_rtt_us > 0):
            raise FabricError(f"the RTO ({self.rto_ms} ms) and DCQCN's RTT ({self.dcqcn_rtt_us} us) must be > 0")
        if self.probe and not (self.probe_interval_us > 0 and self.probe_max_ms > 0 and self.probe_count > 0):
            raise FabricError(f"the probes' interval ({self.probe_interval_us} us), longest run ({self.probe_max_ms} ms) "
                              f"and idle count ({self.probe_count}) must be > 0")

    @property
    def ranks_per_site(self) -> int:
        return self.leaves * self.ranks_per_leaf

    @property
    def hosts_per_leaf(self) -> int:
        return self.ranks_per_leaf + (self.probe and self.mode == "sim")

    @property
    def one_way_us(self) -> dict[float, int]:
        """Each distance's DCI delay."""
        return {km: fibre_delay_us(km) for km in self.distances_km}

    @property
    def nranks(self) -> int:
        return self.sites * self.ranks_per_site

    @property
    def ideal_gbs(self) -> float:
        """busbw bound by one NIC's rate (GB/s): the ideal line."""
        return self.nic_gbps / 8

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"sites": self.sites, "ranks": self.nranks, "distances_km": list(self.distances_km),
                "bytes": self.nbytes, "nic_gbps": self.nic_gbps, "dci_gbps": self.dci_gbps,
                "border_buffer_bytes": self.border_buffer_bytes, "pmtu": self.pmtu,
                "baseline_window": self.window, "rto_ms": self.rto_ms, "dcqcn_rtt_us": self.dcqcn_rtt_us,
                "one_way_us": {f"{km:g}": us for km, us in self.one_way_us.items()},
                "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    "quick": {},
    "full": {"sites": 3, "ranks_per_leaf": 2, "nbytes": 4 << 20, "kinds": KINDS},
}
# Mininet: the emulator's rates, 1 KiB packets, delays of 0-20 ms one way (2,000 km = 10 ms).
# A site's RTT is 0.3-0.5 ms idle (ping, one Python switch) but its Python switches and
# agents hold ACKs for tens of ms under an all-to-all (a 20 ms RTO fired 21-23 times per
# 64 KiB all-to-all at 0 km, every resend a duplicate): DCQCN is tuned for 1 ms and the
# RTO is 100 ms, as sim's 10 us and 20 ms sit above its site. Full scale sends 256 KiB per
# rank: a ring step's and an all-to-all peer's 43 KiB take a fixed window three round trips.
EMULATE = {"nic_gbps": 0.1, "dci_gbps": 0.1, "pmtu": 1024, "window": 16, "max_window": 2048,
           "nbytes": 64 << 10, "border_buffer_bytes": 4 << 20, "queue_pkts": 256, "dcqcn_rtt_us": 1000.0,
           "rto_ms": 100.0, "timeout_s": 60.0, "leaves": 1, "ranks_per_leaf": 2}
EMULATE_SCALES = {"quick": {"distances_km": (0, 2000)},
                  "full": {"distances_km": (0, 1000, 2000, 4000), "nbytes": 256 << 10}}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    base = {**SCALES[scale], **(EMULATE | EMULATE_SCALES[scale] if mode == "emulate" else {})}
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(Params(mode=mode, scale_name=scale, **base), **given)


def topology(p: Params, km: float) -> Topology:
    """`sites` leaf-spine sites (one spine, one border each) with DCI links of `km`."""
    return multi_site(p.sites, p.leaves, 1, p.hosts_per_leaf, 1, downlink_bw=p.nic_gbps * 1000,
                      queue=p.queue_pkts,
                      dci=Dci.of(p.dci_gbps * 1000, km=km, buffer_bytes=p.border_buffer_bytes))


def rank_hosts(p: Params, topo: Topology) -> list[str]:
    """The collective's hosts, site by site (a site is the hierarchical domain): the first
    `ranks_per_leaf` hosts of every leaf; the rest of a leaf's hosts are probes."""
    return [name for name, k in _hosts_by_leaf(topo) if k < p.ranks_per_leaf]


def probe_hosts(p: Params, topo: Topology) -> list[tuple[str, str]]:
    """Per site, (prober, target): the probe hosts of its first and last leaf."""
    probes = [name for name, k in _hosts_by_leaf(topo) if k >= p.ranks_per_leaf]
    per_site = len(probes) // p.sites
    return [(probes[s * per_site], probes[(s + 1) * per_site - 1]) for s in range(p.sites) if per_site >= 2]


def _hosts_by_leaf(topo: Topology) -> list[tuple[str, int]]:
    """(host, its position on its leaf) in topology order (site by site, leaf by leaf)."""
    seen: dict[str, int] = {}
    out = []
    for h in topo.hosts():
        leaf = next(peer for _, peer, _, _ in topo.neighbors(h.name))
        out.append((h.name, seen.get(leaf, 0)))
        seen[leaf] = seen.get(leaf, 0) + 1
    return out


def spec_for(p: Params, kind: str, scheme: str) -> CollectiveSpec:
    hier = scheme == "adaptive_hier" and kind in ("allreduce", "allgather")
    return CollectiveSpec(kind, p.nranks, p.nbytes, algo="hier" if hier else "ring",
                          local=p.ranks_per_site)


def stack_for(p: Params, scheme: str) -> RunOptions:
    """The host stack of one scheme: adaptive QPs except in the baseline."""
    return RunOptions(iters=p.iters, warmup=p.warmup, line_rate=p.nic_gbps * 1e9, pmtu=p.pmtu,
                      window=p.window, rto=p.rto_ms / 1000, adaptive=scheme != "baseline", max_window=p.max_window,
                      dcqcn_rtt=None if p.dcqcn_rtt_us is None else p.dcqcn_rtt_us * 1e-6)
