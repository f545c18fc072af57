"""The innet_allreduce experiment's parameters (one dataclass), its scales and its topology.

Both modes run a 2-leaf, 2-spine fabric (the ranks split evenly over the leaves, so the
job's tree is leaf -> spine -> leaf), float32 buffers, in-network aggregation with a 64-slot
pool against the RoCE ring at the same 1024-byte MTU. Sim runs 100 Gb/s hosts with windows
and timers sized to that rate's round trip (a few us); the loss sweep (sim) drops that
share of packets at every switch egress. Emulate mode (Mininet) runs at the Python
switch's rates (`EMULATE`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from experiments.results import RunParams, check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.builders import leaf_spine
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("ring", "innet")


@dataclass(frozen=True)
class Params(RunParams):
    """Everything a run depends on; saved next to its results."""

    ranks: tuple[int, ...] = (2, 4, 8)           # the ranks sweep, at `nbytes`, no loss
    nbytes: int = 1 << 20                        # per rank
    sizes: tuple[int, ...] = (256 << 10, 1 << 20)    # the size sweep, at `loss_ranks`
    losses: tuple[float, ...] = (0.0, 0.001, 0.01)   # the loss sweep, at `loss_ranks`, `nbytes`
    loss_ranks: int = 8
    schemes: tuple[str, ...] = SCHEMES
    host_mbps: float = 100_000.0
    uplink_delay_us: int = 2
    pool_size: int = 64
    window: int = 64                 # outstanding chunks per rank (in-network): a round trip's worth
    rto_us: int = 20                 # per-chunk retransmission timer (in-network): ~4 round trips
    ring_window: int = 128           # outstanding packets per QP (ring)
    ring_rto_us: int = 100
    pmtu: int = 1024
    seeds: tuple[int, ...] = (1,)
    timeout_s: float = 2.0           # seconds per case (simulated in sim mode)
    grpc_base_port: int = 19659      # emulate: the switches' P4Runtime ports
    mode: str = "sim"
    scale_name: str = "quick"
    target: str = "builtin"

    def __post_init__(self) -> None:
        check_mode(self.mode, MODES)
        check_choices("scheme", self.schemes, SCHEMES)
        if not self.seeds:
            raise FabricError("give at least one seed")
        if any(n < 2 or n > 255 for n in (*self.ranks, self.loss_ranks)):
            raise FabricError("rank counts must be 2..255")
        if any(not 0 <= p < 1 for p in self.losses):
            raise FabricError("loss rates must be in [0, 1)")

    def cases(self) -> list[tuple[int, int, float]]:
        """(ranks, bytes, loss) of every sweep point, each once, in sweep order."""
        points = [(n, self.nbytes, 0.0) for n in self.ranks]
        points += [(self.loss_ranks, b, 0.0) for b in self.sizes]
        points += [(self.loss_ranks, self.nbytes, p) for p in self.losses]
        return list(dict.fromkeys(points))

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"ranks": list(self.ranks), "bytes": self.nbytes, "sizes": list(self.sizes),
                "losses": list(self.losses), "host_gbps": self.host_mbps / 1000,
                "topology": "leaf-spine 2x2", "pool_size": self.pool_size, "pmtu": self.pmtu,
                "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    "quick": {},
    "full": {"ranks": (2, 4, 8, 16, 32, 64), "sizes": (256 << 10, 1 << 20, 4 << 20),
             "seeds": (1, 2)},
}
# Mininet at the emulator's rates: 5 Mb/s hosts, so the links, not the switches' CPU, are the
# limit on a slow or busy 2-core machine (an aggregation packet costs the built-in switch
# 14-27 us; at 20 Mb/s one such machine showed 1.40x at 8 ranks, at 5 Mb/s the expected 1.75x,
# 1.83x beside a busy loop on each core), a long chunk timer; Mininet links here carry no
# loss model, so the loss sweep is sim only
EMULATE = {"host_mbps": 5.0, "uplink_delay_us": 0, "nbytes": 256 << 10,
           "sizes": (64 << 10, 256 << 10), "losses": (0.0,), "window": 16, "rto_us": 200_000,
           "ring_window": 64, "ring_rto_us": 20_000, "timeout_s": 120.0}
EMULATE_SCALES = {"quick": {"ranks": (2, 4, 8)},
                  "full": {"ranks": (2, 4, 8), "sizes": (64 << 10, 256 << 10, 1 << 20), "seeds": (1, 2, 3)}}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    given = {k: v for k, v in overrides.items() if v is not None}
    base = (SCALES[scale] if mode == "sim" else {**SCALES[scale], **EMULATE, **EMULATE_SCALES[scale]})
    return replace(Params(mode=mode, scale_name=scale, **base), **given)


def topology(p: Params, ranks: int) -> Topology:
    """2 leaves, 2 spines, ranks split evenly (an odd rank count leaves one host idle).
    Non-blocking, and every uplink carries at least one host's rate: a job's tree sends
    each leaf's partials up one spine at the hosts' rate."""
    per_leaf = -(-ranks // 2)
    return leaf_spine(2, 2, per_leaf, downlink_bw=p.host_mbps,
                      uplink_bw=p.host_mbps * max(per_leaf / 2, 1), delay_us=p.uplink_delay_us)


def rate_unit(p: Params) -> tuple[str, float]:
    """The unit busbw is shown in (the hosts' scale: Gb/s in sim, Mb/s on Mininet) and the
    factor from nccl-tests' GB/s to it."""
    return ("Gb/s", 8.0) if p.host_mbps >= 1000 else ("Mb/s", 8000.0)


def host_rate(p: Params) -> str:
    """The hosts' link rate in the unit busbw is shown in: "100 Gb/s", "20 Mb/s"."""
    unit, _ = rate_unit(p)
    return f"{p.host_mbps / 1000 if unit == 'Gb/s' else p.host_mbps:g} {unit}"


def expected_ratio(ranks: int) -> float:
    """In-network over ring busbw if both run at line rate: 2(n-1)/n."""
    return 2 * (ranks - 1) / ranks
