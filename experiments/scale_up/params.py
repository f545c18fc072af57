"""The scale_up experiment's parameters (one dataclass), its scales and its topology.

Sim mode runs at real rates: 400 Gb/s scale-out NICs and scale-up links 18x faster
(NVLink 5's 900 GB/s per direction to one 400G NIC's 50 GB/s). Emulate mode runs on
Mininet at the emulator's rates: 16 accelerators, 4 Mb/s NICs and scale-up 4x that (a
Python switch forwards a few thousand packets a second, shared by every switch on the
machine; the ratio is stated in every figure). The total accelerator count is fixed per
scale; each domain size G gets its own fabric (G rails, rail-optimised), so a scheme's
busbw against G shows what the domains buy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from experiments.results import RunParams, check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.builders import scale_up_fabric
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("flat", "hier")   # flat ring over scale-out; hierarchical over scale-up + rails
KINDS = ("allreduce", "alltoall")


@dataclass(frozen=True)
class Params(RunParams):
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
    rto_s: float = 100e-6            # retransmission timeout: ~10 windows at 400 Gb/s (emulate: 200 ms)
    iters: int = 1
    warmup: int = 0
    seeds: tuple[int, ...] = (1,)
    timeout_s: float = 1.0           # seconds per case (simulated in sim, real in emulate)
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"
    grpc_base_port: int = 36000      # emulate: first switch's P4Runtime port (the next free range)

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

    @property
    def rates(self) -> str:
        """'400 Gb/s NICs, scale-up 7.2 Tb/s (18:1)' at this run's scale."""
        def rate(mbps: float) -> str:
            return next(f"{mbps / d:g} {u}b/s" for d, u in ((1e6, "T"), (1e3, "G"), (1, "M")) if mbps >= d or u == "M")
        return f"{rate(self.nic_mbps)} NICs, scale-up {rate(self.scaleup_mbps)} ({self.scaleup_ratio:g}:1)"

    @property
    def busbw_unit(self) -> tuple[str, float]:
        """How figures and tables show busbw: GB/s at real rates, Mb/s at the emulator's."""
        return ("Mb/s", 8000.0) if self.nic_gbps < 1 else ("GB/s", 1.0)

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"accelerators": self.accelerators, "domain_sizes": list(self.domain_sizes),
                "bytes": self.nbytes, "nic_gbps": self.nic_gbps,
                "scaleup_gbps": self.scaleup_mbps / 1000, "ratio": f"{self.scaleup_ratio:g}:1",
                "pmtu": self.pmtu, "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    ("sim", "quick"): {},
    # 576 = 8 x 72: every domain size divides it, NVL72 included
    ("sim", "full"): {"accelerators": 576, "domain_sizes": (1, 2, 4, 8, 72), "nbytes": 1 << 20},
    # Mininet: 16 accelerators at emulator rates, real seconds per case. The RTO sits above the
    # deepest queue a schedule builds: a 32-packet window is 65 ms at 4 Mb/s, and a 20 ms RTO
    # fired spuriously on the hierarchical all-to-all's domain incast when the CPU was short.
    ("emulate", "quick"): {"accelerators": 16, "nbytes": 32 << 10, "nic_gbps": 0.004,
                           "scaleup_ratio": 4.0, "pmtu": 1024, "window": 32, "rto_s": 0.2, "timeout_s": 120.0},
    ("emulate", "full"): {"accelerators": 16, "domain_sizes": (1, 2, 4, 8, 16), "nbytes": 128 << 10,
                          "nic_gbps": 0.004, "scaleup_ratio": 4.0, "pmtu": 1024, "window": 32,
                          "rto_s": 0.2, "seeds": (1, 2, 3), "timeout_s": 300.0},
}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    check_mode(mode, MODES)
    if (mode, scale) not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(Params(mode=mode, scale_name=scale, **SCALES[mode, scale]), **given)


MAX_HOSTS_PER_LEAF = 64


def topology(p: Params, domain: int) -> Topology:
    """Rail-optimised scale-up domains of `domain` accelerators at this run's rates; each
    rail leaf serves as many domains as fit in 64 ports (the most that divides evenly)."""
    domains = p.accelerators // domain
    per_leaf = max(d for d in range(1, min(domains, MAX_HOSTS_PER_LEAF) + 1) if domains % d == 0)
    return scale_up_fabric(p.accelerators, domain, nic_bw=p.nic_mbps, scaleup_bw=p.scaleup_mbps,
                           spines=p.spines, domains_per_leaf=per_leaf)
