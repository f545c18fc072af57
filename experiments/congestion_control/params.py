"""Parameters of the congestion_control experiment: a 7:1 incast and a victim flow that
shares the bottleneck's upstream link, under five congestion-control schemes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from fabriclab.errors import FabricError
from topologies.builders import leaf_spine
from topologies.graph import Topology

SCHEMES = ("none", "pfc", "dcqcn_pfc", "dcqcn_pfc_ccm", "hpcc")
SCHEME_LABELS = {"none": "none (lossy)", "pfc": "PFC only", "dcqcn_pfc": "DCQCN+PFC, fixed ECN",
                 "dcqcn_pfc_ccm": "DCQCN+PFC, CC manager", "hpcc": "HPCC+PFC"}


@dataclass(frozen=True)
class Params:
    mode: str = "sim"
    link_gbps: float = 100.0  # every host link; the leaf-spine uplinks are `uplink_factor` x faster
    uplink_factor: float = 8.0  # so the only bottleneck is the incast receiver's port
    delay_us: int = 1  # per leaf-spine link (one way)
    senders: int = 7  # incast senders, all on leaf 1, into one receiver on leaf 2
    duration_us: int = 300  # simulated time every flow keeps sending
    warmup_us: int = 150  # metrics start after this (start-up transient left out)
    sample_ns: int = 500  # bottleneck queue sampling period
    pmtu: int = 1024
    window: int = 64  # QP window, packets (the only control in scheme "none")
    queue_bytes: int = 1 << 20  # drop-tail limit of lossy queues
    ecn_kmin: int = 5  # fixed ECN of scheme dcqcn_pfc, packets
    ecn_kmax: int = 200
    ecn_pmax: float = 0.01
    pfc_xoff: int = 100_000  # a backstop well above what CC should leave queued
    pfc_xon: int = 80_000
    base_rtt_ns: int = 6_000  # HPCC's T
    cnp_interval_ns: int = 4_000  # DCQCN's NP: at most one CNP per QP per this (NICs' 100G default)
    dcqcn_timer_ns: int = 10_000  # DCQCN's alpha and rate-increase timers (55 us in the paper's 40G NICs)
    dcqcn_rate_ai: float = 1e9  # DCQCN's additive increase (hyper increase: 10x)
    hpcc_min_interval_ns: int = 1  # with the switches' us timestamps: a few us
    hpcc_host_clock: bool = True  # time INT samples by ACK arrival (ns), see docs/congestion.md
    schemes: tuple[str, ...] = SCHEMES
    seeds: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        unknown = [s for s in self.schemes if s not in SCHEMES]
        if unknown:
            raise FabricError(f"unknown scheme(s) {', '.join(unknown)} (one of: {', '.join(SCHEMES)})")
        if self.mode != "sim":
            raise FabricError("congestion_control runs in sim mode only (emulate mode is not built yet)")
        if not 1 <= self.senders <= 15 or self.duration_us <= self.warmup_us or self.link_gbps <= 0:
            raise FabricError("need 1..15 senders, duration > warmup and a positive link rate")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scale(self) -> dict[str, Any]:
        return {"senders": self.senders, "link_gbps": self.link_gbps, "duration_us": self.duration_us}


# One spine and unimpaired links: the seed (the QPs' source ports) picks no path, so a run
# is deterministic and other seeds repeat it; the full scale runs longer instead.
SCALES = {"quick": {}, "full": {"duration_us": 1000, "warmup_us": 300}}


def params_for(scale: str, mode: str = "sim", target: str | None = None, **overrides: Any) -> Params:
    """The scale's parameters with `overrides` (None values are left out, as the CLI passes
    them)."""
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (one of: {', '.join(SCALES)})")
    if target not in (None, "builtin"):
        raise FabricError("congestion_control runs the built-in switch in virtual time")
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(Params.__dataclass_fields__))
    if unknown:
        raise FabricError(f"unknown parameter(s) {', '.join(unknown)}")
    return replace(Params(mode=mode), **{**SCALES[scale], **given})


def topology(p: Params) -> Topology:
    """Leaf 1: the senders and the victim's source; leaf 2: the incast receiver and the
    victim's receiver; one spine, so the victim shares every upstream link with the incast."""
    mbps = p.link_gbps * 1000
    return leaf_spine(2, 1, p.senders + 1, downlink_bw=mbps, uplink_bw=mbps * p.uplink_factor,
                      delay_us=p.delay_us)
