"""Parameters of the isolation experiment: tenant A's ring all-reduce (the victim) next to
tenant B's all-to-all (the noise) on one leaf-spine, under four cases.

Tenant A holds the first half of every leaf's hosts, tenant B the second half; A's ring
visits its hosts alternately on the two leaves, so every hop of it crosses the spine
layer, where B's cross-leaf traffic is. The leaf-spine links carry exactly what A alone
sends (`uplink_factor` = A's hosts per leaf / spines), so any of B's traffic there is
contention and A alone runs at line rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from experiments.results import RunParams, check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.graph import LinkParams, NodeKind, Topology

MODES = ("emulate", "sim")
CASES = ("alone", "shared", "meters", "meters_cc")
CASE_LABELS = {"alone": "A alone", "shared": "A+B, no isolation", "meters": "A+B, tenant meters",
               "meters_cc": "A+B, meters + DCQCN/CC manager"}


@dataclass(frozen=True)
class Params(RunParams):
    """Everything a run depends on; saved next to its results."""

    mode: str = "sim"
    link_mbps: float = 100_000.0     # every host link
    hosts_per_leaf: int = 4          # the first half tenant A's, the rest tenant B's
    spines: int = 1
    delay_us: int = 1                # one way, leaf <-> spine
    queue_bytes: int | None = 1 << 20  # sim: every switch queue's byte limit
    queue_pkts: int = 64             # emulate: every switch queue, packets
    pmtu: int = 4096
    window: int = 64                 # packets per QP
    rto_us: int = 200
    allreduce_bytes: int = 1 << 20   # tenant A's buffer
    iters: int = 8                   # timed all-reduce iterations (after one warm-up)
    noise_message: int = 256 << 10   # bytes per RDMA WRITE of tenant B
    b_guaranteed_frac: float = 1.0   # B's meter CIR, x one host link (per switch)
    b_cap_frac: float = 2.0          # B's meter PIR (above it B is dropped)
    cc_period_us: int = 20           # the CC manager's observation period
    routing: str = "ecmp"            # fabric.p4's routing mode (ecmp, flowlet, adaptive)
    cases: tuple[str, ...] = CASES
    seeds: tuple[int, ...] = (1, 2)
    timeout_s: float = 0.2           # simulated (sim) or real (emulate) seconds per case
    noise_s: float = 8.0             # emulate: how long tenant B's hosts send (covers A's run)
    target: str = "builtin"
    grpc_base_port: int = 19659
    mtu: int = 9000                  # emulate: veth MTU
    scale_name: str = "quick"

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("case", self.cases, CASES)
        if not self.seeds:
            raise FabricError("give at least one seed")
        if self.hosts_per_leaf < 2 or self.hosts_per_leaf % 2 or self.spines < 1:
            raise FabricError("isolation needs an even number (>= 2) of hosts per leaf and >= 1 spine")
        if not 0 < self.b_guaranteed_frac <= self.b_cap_frac:
            raise FabricError("need 0 < B's guarantee <= B's cap")
        check_choices("routing mode", (self.routing,), ("ecmp", "flowlet", "adaptive"))
        if self.target not in ("builtin", "bmv2"):
            raise FabricError(f"unknown target {self.target!r} (builtin or bmv2)")
        if self.mode == "sim" and self.target != "builtin":
            raise FabricError("--mode sim runs the built-in switch")

    @property
    def per_tenant(self) -> int:
        """Hosts of each tenant per leaf."""
        return self.hosts_per_leaf // 2

    @property
    def uplink_mbps(self) -> float:
        return self.link_mbps * self.per_tenant / self.spines

    def tenant_hosts(self) -> tuple[list[str], list[str]]:
        """(A's hosts in ring order, B's hosts): A alternates between the two leaves."""
        n = self.hosts_per_leaf
        a1 = [f"ih{i + 1}" for i in range(self.per_tenant)]
        a2 = [f"ih{n + i + 1}" for i in range(self.per_tenant)]
        ring = [h for pair in zip(a1, a2) for h in pair]
        b = [f"ih{leaf * n + i + 1}" for leaf in range(2) for i in range(self.per_tenant, n)]
        return ring, b

    def tenant_rates(self) -> dict[str, tuple[float, float]]:
        """Tenant -> (guaranteed, cap) in bit/s per switch. A's covers everything its hosts
        can send and receive through one switch; B's is `b_*_frac` host links."""
        a = 2 * self.hosts_per_leaf * self.link_mbps * 1e6
        link = self.link_mbps * 1e6
        return {"A": (a, a), "B": (self.b_guaranteed_frac * link, self.b_cap_frac * link)}

    def scale(self) -> dict[str, Any]:
        return {"mode": self.mode, "scale": self.scale_name, "link_rate_mbps": self.link_mbps,
                "uplink_rate_mbps": self.uplink_mbps, "uplink_delay_us": self.delay_us,
                "queue_bytes": self.queue_bytes if self.mode == "sim" else None,
                "queue_pkts": self.queue_pkts if self.mode == "emulate" else None,
                "roce_pmtu": self.pmtu, "qp_window_pkts": self.window,
                "allreduce_bytes": self.allreduce_bytes, "iters": self.iters, "routing": self.routing,
                "topology": f"2 leaves x {self.spines} spine(s) x {self.hosts_per_leaf} hosts/leaf "
                            f"(A {self.per_tenant}+{self.per_tenant}, B {self.per_tenant}+{self.per_tenant})"}


def topology(p: Params) -> Topology:
    """The leaf-spine (leaves il1, il2; spines is1..; hosts ih1.. leaf by leaf) with both
    tenants declared: the controller installs them in the metered cases. Names start with
    'i' so an emulated run's interfaces (`flv<node>-<port>`) never clash with another
    topology's on the same machine."""
    topo = Topology(name=f"isolation-2x{p.spines}x{p.hosts_per_leaf}")
    queue = None if p.mode == "sim" else p.queue_pkts
    host = LinkParams(p.link_mbps, 0, queue)
    up = LinkParams(p.uplink_mbps, p.delay_us, queue)
    spines = [topo.add_node(f"is{i + 1}", NodeKind.SPINE).name for i in range(p.spines)]
    for leaf in range(2):
        name = topo.add_node(f"il{leaf + 1}", NodeKind.LEAF, pod=leaf).name
        for h in range(p.hosts_per_leaf):
            topo.add_link(topo.add_node(f"ih{leaf * p.hosts_per_leaf + h + 1}", NodeKind.HOST, pod=leaf).name,
                          name, host)
        for s in spines:
            topo.add_link(name, s, up)
    a, b = p.tenant_hosts()
    rates = p.tenant_rates()
    # meter buckets hold a few of the largest frames whatever the rate (jumbo at a few Mb/s)
    burst_us = max(10, math.ceil(4 * (p.pmtu + 100) * 8 / p.link_mbps))
    topo.add_tenant("A", a, *rates["A"], queue=2, burst_us=burst_us)
    topo.add_tenant("B", b, *rates["B"], queue=1, burst_us=burst_us)
    topo.validate()
    return topo


# Sim: 100 Gb/s hosts; A alone finishes a 1 MiB iteration in ~150 us. Quick: one spine, so no
# path is left to chance and one seed says it all (another would repeat it byte for byte).
# Full: two spines (per-flow ECMP draws paths from the seed), a bigger buffer, three seeds.
SIM_SCALES: dict[str, dict[str, Any]] = {
    "quick": {"seeds": (1,), "allreduce_bytes": 512 << 10, "iters": 4},
    "full": {"spines": 2, "allreduce_bytes": 1 << 20, "iters": 6, "seeds": (1, 2, 3), "timeout_s": 1.0},
}
# Emulate: the Python switch forwards a few thousand packets/s, so links run at a few Mb/s
# with jumbo frames; a small buffer, few iterations.
EMULATE_SCALES: dict[str, dict[str, Any]] = {
    "quick": {"link_mbps": 4.0, "queue_bytes": None, "pmtu": 4096, "window": 16, "rto_us": 400_000,
              "allreduce_bytes": 128 << 10, "iters": 3, "noise_message": 64 << 10, "seeds": (1,),
              "timeout_s": 90.0, "noise_s": 10.0, "cc_period_us": 200_000},
    "full": {"link_mbps": 4.0, "queue_bytes": None, "pmtu": 4096, "window": 16, "rto_us": 400_000,
             "allreduce_bytes": 256 << 10, "iters": 5, "noise_message": 64 << 10, "seeds": (1, 2, 3),
             "timeout_s": 180.0, "noise_s": 25.0, "cc_period_us": 200_000},
}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    """The named scale of `mode` with `overrides` (None values are ignored)."""
    check_mode(mode, MODES)
    scales = SIM_SCALES if mode == "sim" else EMULATE_SCALES
    if scale not in scales:
        raise FabricError(f"unknown scale {scale!r} (one of {', '.join(scales)})")
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(Params.__dataclass_fields__))
    if unknown:
        raise FabricError(f"unknown parameter(s) {', '.join(unknown)}")
    return replace(Params(mode=mode, scale_name=scale), **{**scales[scale], **given})
