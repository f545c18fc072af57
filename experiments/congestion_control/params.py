"""Parameters of the congestion_control experiment: two workloads (a 7:1 incast with a victim
flow that shares the bottleneck's upstream link; long and short flows into one receiver)
under five congestion-control schemes, in virtual time (100 Gb/s, us RTTs) or on Mininet
(real time: the Python switch forwards a few thousand packets per second, so links run at
Mb/s and RTTs are ms; every time constant is scaled with them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from experiments.results import RunParams, check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.builders import leaf_spine
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("none", "pfc", "dcqcn_pfc", "dcqcn_pfc_ccm", "hpcc")
SCHEME_LABELS = {"none": "none (lossy)", "pfc": "PFC only", "dcqcn_pfc": "DCQCN+PFC, fixed ECN",
                 "dcqcn_pfc_ccm": "DCQCN+PFC, CC manager", "hpcc": "HPCC+PFC"}
WORKLOADS = ("incast", "mix")


@dataclass(frozen=True)
class Params(RunParams):
    mode: str = "sim"
    link_gbps: float = 100.0  # every host link; the leaf-spine uplinks are `uplink_factor` x faster
    uplink_factor: float = 8.0  # so the only bottleneck is the incast receiver's port
    delay_us: int = 1  # per leaf-spine link (one way)
    senders: int = 7  # incast senders, all on leaf 1, into one receiver on leaf 2
    duration_us: int = 300  # time every long flow keeps sending
    warmup_us: int = 150  # metrics start after this (start-up transient left out)
    sample_ns: int = 500  # bottleneck queue sampling period
    pmtu: int = 1024
    mtu: int = 1500  # emulate: the veths' MTU (above pmtu + headers)
    window: int = 64  # QP window, packets (the only control in scheme "none")
    rto_ns: int = 200_000
    burst_bytes: int = 3 * 1124  # what a late sender may send back to back
    queue_bytes: int = 1 << 20  # drop-tail limit of lossy queues
    ecn_kmin: int = 5  # fixed ECN of scheme dcqcn_pfc, packets
    ecn_kmax: int = 200
    ecn_pmax: float = 0.01
    pfc_xoff: int = 100_000  # a backstop well above what CC should leave queued
    pfc_xon: int = 80_000
    base_rtt_ns: int = 4_200  # the path's base RTT (its first ACK's time): HPCC's T, the CC manager's RTT
    cnp_interval_ns: int = 4_000  # DCQCN's NP: at most one CNP per QP per this (NICs' 100G default)
    dcqcn_timer_ns: int = 10_000  # DCQCN's alpha and rate-increase timers (55 us in the paper's 40G NICs)
    dcqcn_rate_ai: float = 1e9  # DCQCN's additive increase (hyper increase: 10x)
    hpcc_min_interval_ns: int = 1  # with the switches' us timestamps: a few us
    hpcc_host_clock: bool = True  # time INT samples by ACK arrival (ns), see docs/congestion.md
    hpcc_max_stage: int = 0  # as the HPCC authors' simulations ran (the paper's 5 is a typo there)
    hpcc_expected_flows: int = 100  # N in W_AI = W_init (1 - eta) / N, the paper's default
    ccm_period_ns: int = 20_000  # how often the CC manager observes (scheme dcqcn_pfc_ccm)
    mix_long: int = 4  # workload mix: long flows (the rest of leaf 1 sends short ones)
    short_sizes: tuple[int, ...] = (1024, 4096, 16384, 65536)
    short_load: float = 0.3  # short flows' offered load, fraction of the bottleneck
    short_tail_us: int = 40  # no short flow starts in the last this of the run
    schemes: tuple[str, ...] = SCHEMES
    workloads: tuple[str, ...] = WORKLOADS
    seeds: tuple[int, ...] = (1,)
    grpc_base_port: int = 9960  # emulate: the switches' P4Runtime ports from here
    timeout_s: float = 120.0  # emulate: one case, start to results

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("scheme(s)", self.schemes, SCHEMES)
        check_choices("workload(s)", self.workloads, WORKLOADS)
        if not 1 <= self.senders <= 15 or self.duration_us <= self.warmup_us or self.link_gbps <= 0:
            raise FabricError("need 1..15 senders, duration > warmup and a positive link rate")
        if not 1 <= self.mix_long <= self.senders or not 0 < self.short_load < 1 or not self.short_sizes:
            raise FabricError("mix: need 1..senders long flows, a short load in (0, 1) and short sizes")
        if self.base_rtt_ns <= 0 or self.hpcc_max_stage < 0 or self.hpcc_expected_flows < 1:
            raise FabricError("HPCC: need a positive base RTT, maxStage >= 0 and N >= 1 expected flows")

    def scale(self) -> dict[str, Any]:
        return {"senders": self.senders, "link_gbps": self.link_gbps, "duration_us": self.duration_us,
                "workloads": list(self.workloads), "mode": self.mode}

    @property
    def target(self) -> str:
        return "builtin"


# Sim: one spine and unimpaired links, so the seed (the QPs' source ports) picks no path and
# only moves the mix's short-flow arrivals; the full scale runs longer and over more seeds.
# Emulate: 10 Mb/s host links, 4 KB RoCE MTU in jumbo frames (the switch's packet rate is
# the limit), ms timers; the same shape of experiment at 1/10000 of the rate. HPCC's T is
# Mininet's RTT through three Python switches (~8 ms); DCQCN's timers are 5 such RTTs, as
# the paper's 55 us are at a 10 us RTT (faster ones let the rate recover between CNPs).
SIM_SCALES = {"quick": {}, "full": {"duration_us": 1000, "warmup_us": 300, "seeds": (1, 2)}}
EMULATE = dict(mode="emulate", link_gbps=0.01, delay_us=100, duration_us=8_000_000, warmup_us=3_000_000,
               sample_ns=20_000_000, pmtu=4096, mtu=9000, window=16, rto_ns=300_000_000,
               burst_bytes=3 * 4196, queue_bytes=512 << 10, ecn_kmin=3, ecn_kmax=20, pfc_xoff=48_000,
               pfc_xon=32_000, base_rtt_ns=8_000_000, cnp_interval_ns=1_000_000, dcqcn_timer_ns=40_000_000,
               dcqcn_rate_ai=1e5, hpcc_min_interval_ns=1_000_000, ccm_period_ns=500_000_000,
               short_tail_us=1_500_000)
EMULATE_SCALES = {"quick": {}, "full": {"duration_us": 20_000_000, "warmup_us": 5_000_000, "seeds": (1, 2)}}


def params_for(scale: str, mode: str = "sim", target: str | None = None, **overrides: Any) -> Params:
    """The scale's parameters in `mode` with `overrides` (None values are left out, as the
    CLI passes them)."""
    check_mode(mode, MODES)
    scales = SIM_SCALES if mode == "sim" else EMULATE_SCALES
    if scale not in scales:
        raise FabricError(f"unknown scale {scale!r} (one of: {', '.join(scales)})")
    if target not in (None, "builtin"):
        raise FabricError("congestion_control runs the built-in switch (PFC and INT to the host are its own)")
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(Params.__dataclass_fields__))
    if unknown:
        raise FabricError(f"unknown parameter(s) {', '.join(unknown)}")
    base = EMULATE if mode == "emulate" else {"mode": "sim"}
    return replace(Params(), **{**base, **scales[scale], **given})


def topology(p: Params) -> Topology:
    """Leaf 1: the senders and the victim's source; leaf 2: the incast receiver and the
    victim's receiver; one spine, so the victim shares every upstream link with the incast."""
    mbps = p.link_gbps * 1000
    return leaf_spine(2, 1, p.senders + 1, downlink_bw=mbps, uplink_bw=mbps * p.uplink_factor,
                      delay_us=p.delay_us)
