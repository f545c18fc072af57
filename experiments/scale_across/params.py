"""The scale_across experiment's parameters (one dataclass), its scales, topology and stacks.

Sim mode runs at real rates (400 Gb/s NICs and DCI) and real distances (5 us of fibre per
km). Every distance gets its own fabric: `sites` leaf-spine sites joined by one border
switch each, the border's DCI egress buffer deep (in bytes). The three schemes differ only
in the host stack and the collective's algorithm:

- baseline: what a single-site configuration does when stretched: a fixed window sized
  for the intra-site BDP (`window` packets), a fixed RTO, go-back-N receivers, flat ring;
- adaptive: the same ring, but each QP measures its RTT, sizes its window to the path's
  BDP at line rate and takes its RTO from the smoothed RTT (`QpConfig.adaptive`);
- adaptive_hier: adaptive QPs and `algo="hier"` with a site as the domain (reduce-scatter
  in the site, all-reduce across sites per rail, all-gather in the site).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, replace
from typing import Any

from experiments.results import check_choices, check_mode
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import NicConfig
from fabriclab.roce.runs import RunOptions
from topologies.builders import Dci, multi_site
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("baseline", "adaptive", "adaptive_hier")
KINDS = ("allreduce", "alltoall")


@dataclass(frozen=True)
class Params:
    """Everything a run depends on; saved next to its results."""

    sites: int = 2
    leaves: int = 1
    hosts_per_leaf: int = 2
    distances_km: tuple[float, ...] = (0, 10, 100, 300, 1000)
    nbytes: int = 1 << 20            # collective buffer per rank
    kinds: tuple[str, ...] = ("allreduce",)
    schemes: tuple[str, ...] = SCHEMES
    nic_gbps: float = 400.0
    dci_gbps: float = 400.0
    border_buffer_bytes: int = 64 << 20
    queue_pkts: int = 512            # every other switch queue
    pmtu: int = 4096
    window: int = 32                 # baseline: 128 KiB, the intra-site BDP at 400 Gb/s, ~2.5 us
    max_window: int = 1 << 16        # adaptive window ceiling (packets)
    iters: int = 1
    warmup: int = 0
    seeds: tuple[int, ...] = (1,)
    timeout_s: float = 5.0           # simulated seconds per case
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"

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

    @property
    def ranks_per_site(self) -> int:
        return self.leaves * self.hosts_per_leaf

    @property
    def nranks(self) -> int:
        return self.sites * self.ranks_per_site

    @property
    def ideal_gbs(self) -> float:
        """busbw bound by one NIC's rate (GB/s): the ideal line."""
        return self.nic_gbps / 8

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"sites": self.sites, "ranks": self.nranks, "distances_km": list(self.distances_km),
                "bytes": self.nbytes, "nic_gbps": self.nic_gbps, "dci_gbps": self.dci_gbps,
                "border_buffer_bytes": self.border_buffer_bytes, "pmtu": self.pmtu,
                "baseline_window": self.window, "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    "quick": {},
    "full": {"sites": 3, "leaves": 2, "nbytes": 4 << 20, "kinds": KINDS},
}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    if mode == "emulate":
        raise FabricError("scale_across runs in virtual time only so far: use --mode sim")
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(Params(mode=mode, scale_name=scale, **SCALES[scale]), **given)


def topology(p: Params, km: float) -> Topology:
    """`sites` leaf-spine sites (one spine, one border each) with DCI links of `km`."""
    return multi_site(p.sites, p.leaves, 1, p.hosts_per_leaf, 1, downlink_bw=p.nic_gbps * 1000,
                      queue=p.queue_pkts,
                      dci=Dci.of(p.dci_gbps * 1000, km=km, buffer_bytes=p.border_buffer_bytes))


def spec_for(p: Params, kind: str, scheme: str) -> CollectiveSpec:
    hier = scheme == "adaptive_hier" and kind in ("allreduce", "allgather")
    return CollectiveSpec(kind, p.nranks, p.nbytes, algo="hier" if hier else "ring",
                          local=p.ranks_per_site)


@dataclass(frozen=True)
class Stack:
    """The host stack of one scheme: `RunOptions` plus the distance-adaptive QP attributes."""

    base: RunOptions
    adaptive: bool
    max_window: int

    @property
    def iters(self) -> int:
        return self.base.iters

    @property
    def warmup(self) -> int:
        return self.base.warmup

    def nic_config(self, ip: str, port: int = ROCE_PORT) -> NicConfig:
        cfg = self.base.nic_config(ip, port)
        if not self.adaptive:
            return cfg
        qp = dataclasses.replace(cfg.qp, adaptive=True, bdp_rate=self.base.line_rate,
                                 max_window=self.max_window)
        return dataclasses.replace(cfg, qp=qp)


def stack_for(p: Params, scheme: str) -> Stack:
    base = RunOptions(iters=p.iters, warmup=p.warmup, line_rate=p.nic_gbps * 1e9, pmtu=p.pmtu,
                      window=p.window)
    return Stack(base, scheme != "baseline", p.max_window)
