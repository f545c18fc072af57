"""The adaptive-routing experiment's parameters (one dataclass), its two scales and the
leaf-spine it runs on.

The scale is stated honestly: a Python software switch forwards a few thousand packets per
second, so emulated links run at 10 Mb/s with jumbo frames, not at 400 Gb/s. What survives
the scaling is the shape: how many flows share an uplink, and whether reordering costs
retransmissions. The dataclass defaults are the older 5 Mb/s set-up, which the sim scales
build on; the emulate scales below say their own rate and time constants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from experiments.results import RunParams, split_pair
from fabriclab.errors import FabricError
from topologies.graph import LinkParams, NodeKind, Topology

MODES = ("emulate", "sim")
ROUTING_MODES = ("ecmp", "flowlet", "adaptive")
RECEIVERS = ("gbn", "ooo")
WORKLOADS = ("permutation", "allreduce")
SCHEMES = tuple(f"{r}+{rx}" for r in ROUTING_MODES for rx in RECEIVERS)


def split_scheme(scheme: str) -> tuple[str, str]:
    """'adaptive+ooo' -> ('adaptive', 'ooo')."""
    return split_pair(scheme, ("ROUTING", ROUTING_MODES), ("RECEIVER", RECEIVERS))


@dataclass(frozen=True)
class Params(RunParams):
    """Everything a run depends on; saved next to its results."""

    leaves: int = 2
    spines: int = 4
    hosts_per_leaf: int = 4
    link_mbps: float = 5.0           # every link, both directions (no oversubscription)
    uplink_delay_us: int = 100       # one-way, leaf <-> spine (modelled in the switch)
    queue_pkts: int = 100            # egress queue per port
    mtu: int = 9000                  # veth MTU: jumbo frames keep the packet rate low
    pmtu: int = 4096                 # RoCE path MTU
    window: int = 24                 # outstanding packets per QP: the queues never overflow
    rto_s: float = 1.0
    flow_bytes: int = 256 << 10      # per flow of the permutation
    allreduce_bytes: int = 256 << 10
    allreduce_iters: int = 1
    flowlet_gap_us: int = 5_000
    load_max_age_us: int = 20_000
    schemes: tuple[str, ...] = SCHEMES   # routing mode + receiver
    workloads: tuple[str, ...] = WORKLOADS
    seeds: tuple[int, ...] = (1, 2, 3)
    target: str = "builtin"
    grpc_base_port: int = 19559
    timeout_s: float = 60.0          # per workload run
    mode: str = "emulate"            # "emulate" (Mininet, real time) or "sim" (virtual time)
    scale_name: str = "quick"
    queue_bytes: int | None = None   # sim: every switch queue's byte limit

    def __post_init__(self) -> None:
        if not self.schemes:
            raise FabricError("give at least one scheme")
        for scheme in self.schemes:
            split_scheme(scheme)
        bad = [w for w in self.workloads if w not in WORKLOADS]
        if bad or not self.workloads:
            raise FabricError(f"unknown or missing workload {', '.join(bad) or '(none)'} "
                              f"(choose from {', '.join(WORKLOADS)})")
        if not self.seeds:
            raise FabricError("give at least one seed")
        if self.leaves < 2 or self.spines < 1 or self.hosts_per_leaf < 1:
            raise FabricError("the experiment needs >= 2 leaves, >= 1 spine and >= 1 host per leaf")
        if self.target not in ("builtin", "bmv2"):
            raise FabricError(f"unknown target {self.target!r} (builtin or bmv2)")
        if self.mode not in MODES:
            raise FabricError(f"unknown mode {self.mode!r} (one of {', '.join(MODES)})")

    @property
    def hosts(self) -> int:
        return self.leaves * self.hosts_per_leaf

    def scale(self) -> dict[str, object]:
        """The emulator's scale, as stated in every figure and JSON."""
        return {"link_rate_mbps": self.link_mbps, "uplink_delay_us": self.uplink_delay_us,
                "host_link_delay_us": 0, "queue_pkts": self.queue_pkts, "mtu": self.mtu,
                "roce_pmtu": self.pmtu, "qp_window_pkts": self.window,
                "mode": self.mode, "scale": self.scale_name, "queue_bytes": self.queue_bytes,
                "topology": f"{self.leaves} leaves x {self.spines} spines x "
                            f"{self.hosts_per_leaf} hosts/leaf, 1:1"}


# Emulate: 10 Mb/s links (the fabric carries 164 Mb/s of jumbo frames, bench/fabric_capacity.py),
# so 2x the bytes of the 5 Mb/s set-up in about the same time, and the flowlet gap and load
# age halved with the packet time (4 KiB takes 3.4 ms on a link). 20 Mb/s gave the same figure
# on a quiet machine but lost up to 30 points beside other work (docs/speed.md); 10 Mb/s held.
# The 24-packet window still covers the bandwidth-delay product (a 4-hop store-and-forward
# RTT of about 14 ms is about 4 packets at 10 Mb/s), and 4 flows' windows on one uplink
# (96 packets) still fit its 100-packet queue.
_EMULATE = Params(link_mbps=10.0, flow_bytes=512 << 10, allreduce_bytes=512 << 10,
                  flowlet_gap_us=2_500, load_max_age_us=10_000)
SCALES: dict[str, Params] = {
    "quick": _EMULATE,
    "full": replace(_EMULATE, flow_bytes=2 << 20, allreduce_bytes=2 << 20, allreduce_iters=2,
                    seeds=tuple(range(1, 13)), timeout_s=180.0),
}

# Virtual time runs at real rates: 100 Gb/s links, 1 us uplinks, byte-limited queues. The
# flowlet gap and load age are about one and a few 4 KiB packet times (the switch clock
# counts microseconds); timeouts are simulated seconds.
# The window covers the bandwidth-delay product at 100 Gb/s (as 24 packets do at the emulated 10 Mb/s).
_SIM = Params(mode="sim", link_mbps=100_000.0, uplink_delay_us=1, queue_pkts=100_000,
              queue_bytes=2 << 20, window=64, rto_s=0.001, flowlet_gap_us=1, load_max_age_us=2,
              flow_bytes=512 << 10, seeds=(1, 2, 3, 4), timeout_s=1.0)
SIM_SCALES: dict[str, Params] = {
    "quick": _SIM,
    "full": replace(_SIM, leaves=8, spines=8, hosts_per_leaf=8, flow_bytes=1 << 20),
}


def params_for(scale: str, mode: str = "emulate", **overrides: object) -> Params:
    """The named scale of `mode` with `overrides` (None values are ignored)."""
    if mode not in MODES:
        raise FabricError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
    scales = SIM_SCALES if mode == "sim" else SCALES
    if scale not in scales:
        raise FabricError(f"unknown scale {scale!r} (one of {', '.join(scales)})")
    return replace(scales[scale], scale_name=scale,
                   **{k: v for k, v in overrides.items() if v is not None})


def topology(p: Params) -> Topology:
    """A non-blocking leaf-spine. Node names start with 'a' so a run never clashes with
    another topology's interfaces (`flv<node>-<port>`) on the same machine."""
    topo = Topology(name=f"adaptive-routing-{p.leaves}x{p.spines}x{p.hosts_per_leaf}")
    link = LinkParams(p.link_mbps, 0, p.queue_pkts)
    up = LinkParams(p.link_mbps * p.hosts_per_leaf / p.spines, p.uplink_delay_us, p.queue_pkts)
    spines = [topo.add_node(f"as{i + 1}", NodeKind.SPINE).name for i in range(p.spines)]
    for leaf in range(p.leaves):
        name = topo.add_node(f"al{leaf + 1}", NodeKind.LEAF, pod=leaf).name
        for h in range(p.hosts_per_leaf):
            host = topo.add_node(f"ah{leaf * p.hosts_per_leaf + h + 1}", NodeKind.HOST, pod=leaf)
            topo.add_link(host.name, name, link)
        for s in spines:
            topo.add_link(name, s, up)
    topo.validate()
    return topo
