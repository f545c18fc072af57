"""The scale_up experiment's parameters (one dataclass), its scales and its topology.

Sim mode runs at real rates: 400 Gb/s scale-out NICs and scale-up links 18x faster
(NVLink 5's 900 GB/s per direction to one 400G NIC's 50 GB/s). The total accelerator count
is fixed per scale; each domain size G gets its own fabric (G rails, rail-optimised), so a
scheme's busbw against G shows what the domains buy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from experiments.results import check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.builders import scale_up_fabric
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("flat", "hier")   # flat ring over scale-out; hierarchical over scale-up + rails
KINDS = ("allreduce", "alltoall")


@dataclass(frozen=True)
class Params:
    """Everything a run depends on; saved next to its results."""

    accelerators: int = 64
    domain_sizes: tuple[int, ...] = (1, 2, 4, 8)
    nbytes: int = 256 << 10          # collective buffer per rank
    kinds: tuple[str, ...] = KINDS
    schemes: tuple[str, ...] = SCHEMES
    nic_gbps: float = 400.0
    scaleup_ratio: float = 18.0      # scale-up rate per accelerator : NIC rate
    spines: int = 2
    pmtu: int = 4096
    window: int = 64                 # outstanding packets per QP
    iters: int = 1
    warmup: int = 0
    seeds: tuple[int, ...] = (1,)
    timeout_s: float = 1.0           # simulated seconds per case
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("scheme", self.schemes, SCHEMES)
        check_choices("collective", self.kinds, KINDS)
        if not self.seeds:
            raise FabricError("give at least one seed")
        for g in self.domain_sizes:
            if g < 1 or self.accelerators % g:
                raise FabricError(f"domain size {g} does not divide {self.accelerators} accelerators")
        if not self.scaleup_ratio > 0:
            raise FabricError(f"scale-up ratio must be > 0, got {self.scaleup_ratio}")

    @property
    def nic_mbps(self) -> float:
        return self.nic_gbps * 1000

    @property
    def scaleup_mbps(self) -> float:
        return self.nic_mbps * self.scaleup_ratio

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"accelerators": self.accelerators, "domain_sizes": list(self.domain_sizes),
                "bytes": self.nbytes, "nic_gbps": self.nic_gbps,
                "scaleup_gbps": self.scaleup_mbps / 1000, "ratio": f"{self.scaleup_ratio:g}:1",
                "pmtu": self.pmtu, "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    "quick": {},
    # 576 = 8 x 72: every domain size divides it, NVL72 included
    "full": {"accelerators": 576, "domain_sizes": (1, 2, 4, 8, 72), "nbytes": 1 << 20},
}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    if mode == "emulate":
        raise FabricError("scale_up runs in virtual time only so far: use --mode sim")
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(Params(mode=mode, scale_name=scale, **SCALES[scale]), **given)


MAX_HOSTS_PER_LEAF = 64


def topology(p: Params, domain: int) -> Topology:
    """Rail-optimised scale-up domains of `domain` accelerators at this run's rates; each
    rail leaf serves as many domains as fit in 64 ports (the most that divides evenly)."""
    domains = p.accelerators // domain
    per_leaf = max(d for d in range(1, min(domains, MAX_HOSTS_PER_LEAF) + 1) if domains % d == 0)
    return scale_up_fabric(p.accelerators, domain, nic_bw=p.nic_mbps, scaleup_bw=p.scaleup_mbps,
                           spines=p.spines, domains_per_leaf=per_leaf)
