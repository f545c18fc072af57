"""The resiliency experiment's parameters, its scales and the leaf-spine it runs on.

Virtual time runs at real rates (100 Gb/s, 1 us links). What a failure costs depends on two
times the figure states: how long the controller takes from a port event to new routes
(`control_delay_us`: detection, the stream, route computation, the writes) and the RoCE
retransmission timeout (`rto_us`): a sender whose whole window vanished into a dead link
hears nothing until its timer fires.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from experiments.results import RunParams, check_choices, check_mode, split_pair
from fabriclab.errors import FabricError
from topologies.graph import LinkParams, NodeKind, Topology

MODES = ("emulate", "sim")
REROUTES = ("controller", "fast")  # controller-only reroute; data-plane fast reroute (+ controller)
ROUTINGS = ("ecmp", "adaptive")
SCHEMES = tuple(f"{r}+{m}" for m in ROUTINGS for r in REROUTES)
COLLECTIVES = ("allreduce", "alltoall")


def split_scheme(scheme: str) -> tuple[str, str]:
    """'fast+adaptive' -> ('fast', 'adaptive')."""
    return split_pair(scheme, ("REROUTE", REROUTES), ("ROUTING", ROUTINGS))


@dataclass(frozen=True)
class Params(RunParams):
    """Everything a run depends on; saved next to its results."""

    leaves: int = 2
    spines: int = 4
    hosts_per_leaf: int = 2
    link_gbps: float = 100.0
    link_delay_us: int = 1
    queue_bytes: int = 2 << 20
    pmtu: int = 4096
    window: int = 64
    rto_us: int = 200
    receiver: str = "auto"           # RoCE receiver; auto: go-back-N under ECMP (one path
    #                                  per flow), out-of-order under adaptive (it sprays)
    control_delay_us: int = 100      # port event -> routes recomputed and written
    detect_us: int = 1               # carrier loss -> the switch's own port signal
    flowlet_gap_us: int = 1
    load_max_age_us: int = 2
    allreduce_bytes: int = 2 << 20
    alltoall_bytes: int = 4 << 20
    collectives: tuple[str, ...] = COLLECTIVES
    schemes: tuple[str, ...] = SCHEMES
    failures: tuple[int, ...] = (1, 2, 4)   # links failing during one collective
    fail_window: tuple[float, float] = (0.1, 0.6)  # failure times, as fractions of the healthy run
    bin_us: int = 10                 # goodput sampling period
    seeds: tuple[int, ...] = (1, 2)
    timeout_s: float = 1.0           # simulated, per collective
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"
    grpc_base_port: int = 27659      # emulate: the first switch's P4Runtime port (or above)

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("collective", self.collectives, COLLECTIVES)
        for scheme in self.schemes:
            split_scheme(scheme)
        if not self.schemes or not self.seeds or not self.failures:
            raise FabricError("give at least one scheme, seed and failure count")
        if self.leaves < 2 or self.spines < 2 or self.hosts_per_leaf < 1:
            raise FabricError("the experiment needs >= 2 leaves, >= 2 spines, >= 1 host per leaf")
        most = self.leaves * (self.spines - 1)  # one spine that keeps every link joins all
        bad = [n for n in self.failures if not 0 < n <= most]
        if bad:
            raise FabricError(f"failures {bad}: 1..{most} links can fail on this leaf-spine "
                              "without cutting two leaves apart")
        lo, hi = self.fail_window
        if not 0 <= lo < hi <= 1:
            raise FabricError(f"fail_window {self.fail_window}: expected 0 <= start < end <= 1")
        check_choices("receiver", (self.receiver,), ("auto", "gbn", "ooo"))
        for name in ("rto_us", "control_delay_us", "bin_us"):
            if getattr(self, name) <= 0:
                raise FabricError(f"{name} must be > 0")

    @property
    def hosts(self) -> int:
        return self.leaves * self.hosts_per_leaf

    def receiver_for(self, routing: str) -> str:
        if self.receiver != "auto":
            return self.receiver
        return "ooo" if routing == "adaptive" else "gbn"

    def nbytes(self, collective: str) -> int:
        return self.allreduce_bytes if collective == "allreduce" else self.alltoall_bytes

    def scale(self) -> dict[str, object]:
        """The scale, as stated in every figure and JSON."""
        return {"link_rate_gbps": self.link_gbps, "link_delay_us": self.link_delay_us,
                "queue_bytes": self.queue_bytes, "roce_pmtu": self.pmtu,
                "qp_window_pkts": self.window, "rto_us": self.rto_us, "receiver": self.receiver,
                "control_delay_us": self.control_delay_us, "detect_us": self.detect_us,
                "mode": self.mode, "scale": self.scale_name,
                "topology": f"{self.leaves} leaves x {self.spines} spines x "
                            f"{self.hosts_per_leaf} hosts/leaf"}


SCALES: dict[str, Params] = {
    "quick": Params(),
    "full": Params(spines=4, hosts_per_leaf=4, allreduce_bytes=8 << 20, alltoall_bytes=16 << 20,
                   seeds=tuple(range(1, 7))),
}


# Real time on Mininet: a Python software switch forwards a few thousand packets per second,
# so 20 Mb/s links on a 2x2 leaf-spine (one spine must stay whole: one failure per run), the
# RoCE timeout scaled up with them, goodput sampled every 100 ms. The controller's delay is
# not a parameter here: it is what the port event, the stream and the writes take.
_EMULATE = Params(mode="emulate", spines=2, link_gbps=0.02, link_delay_us=0, pmtu=1024,
                  window=64, rto_us=200_000, control_delay_us=1, detect_us=1,
                  flowlet_gap_us=20_000, load_max_age_us=20_000, allreduce_bytes=2 << 20,
                  alltoall_bytes=2 << 20, collectives=("allreduce",), failures=(1,),
                  schemes=("controller+ecmp", "fast+ecmp"), bin_us=100_000, seeds=(1,),
                  timeout_s=300.0)
EMULATE_SCALES: dict[str, Params] = {
    "quick": _EMULATE,
    "full": replace(_EMULATE, collectives=COLLECTIVES, schemes=SCHEMES, seeds=(1, 2, 3)),
}


def params_for(scale: str, mode: str = "sim", **overrides: object) -> Params:
    """The named scale of `mode` with `overrides` (None values are ignored)."""
    check_mode(mode, MODES)
    scales = EMULATE_SCALES if mode == "emulate" else SCALES
    if scale not in scales:
        raise FabricError(f"unknown scale {scale!r} (one of {', '.join(scales)})")
    return replace(scales[scale], scale_name=scale, mode=mode,
                   **{k: v for k, v in overrides.items() if v is not None})


def topology(p: Params) -> Topology:
    """A non-blocking leaf-spine; node names start with 'r' (no clash with other runs)."""
    topo = Topology(name=f"resiliency-{p.leaves}x{p.spines}x{p.hosts_per_leaf}")
    mbps = p.link_gbps * 1000
    host = LinkParams(mbps, p.link_delay_us)
    up = LinkParams(mbps * p.hosts_per_leaf / p.spines, p.link_delay_us)
    spines = [topo.add_node(f"rs{i + 1}", NodeKind.SPINE).name for i in range(p.spines)]
    for leaf in range(p.leaves):
        name = topo.add_node(f"rl{leaf + 1}", NodeKind.LEAF, pod=leaf).name
        for h in range(p.hosts_per_leaf):
            topo.add_link(topo.add_node(f"rh{leaf * p.hosts_per_leaf + h + 1}", NodeKind.HOST,
                                        pod=leaf).name, name, host)
        for s in spines:
            topo.add_link(name, s, up)
    topo.validate()
    return topo
