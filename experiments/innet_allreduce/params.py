"""The innet_allreduce experiment's parameters (one dataclass), its scales and its topology.

Both modes run a 2-leaf, 2-spine fabric with 1 Gb/s host links (the ranks split evenly over
the leaves, so the job's tree is leaf -> spine -> leaf), float32 buffers, in-network
aggregation with a 64-slot pool against the RoCE ring at the same 1024-byte MTU. The loss
sweep (sim) drops that share of packets at every switch egress. Emulate mode (Mininet) runs
at the Python switch's rates (`EMULATE`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from experiments.results import check_choices, check_mode
from fabriclab.errors import FabricError
from topologies.builders import leaf_spine
from topologies.graph import Topology

MODES = ("emulate", "sim")
SCHEMES = ("ring", "innet")


@dataclass(frozen=True)
class Params:
    """Everything a run depends on; saved next to its results."""

    ranks: tuple[int, ...] = (2, 4, 8)           # the ranks sweep, at `nbytes`, no loss
    nbytes: int = 128 << 10                      # per rank
    sizes: tuple[int, ...] = (32 << 10, 128 << 10)   # the size sweep, at `loss_ranks`
    losses: tuple[float, ...] = (0.0, 0.001, 0.01)   # the loss sweep, at `loss_ranks`, `nbytes`
    loss_ranks: int = 8
    schemes: tuple[str, ...] = SCHEMES
    host_mbps: float = 1000.0
    uplink_delay_us: int = 2
    pool_size: int = 64
    window: int = 16                 # outstanding chunks per rank (in-network)
    rto_us: int = 400                # per-chunk retransmission timer (in-network)
    ring_window: int = 64            # outstanding packets per QP (ring)
    ring_rto_us: int = 500
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scale(self) -> dict[str, Any]:
        """What the figure's numbers are at, stated in the run JSON."""
        return {"ranks": list(self.ranks), "bytes": self.nbytes, "sizes": list(self.sizes),
                "losses": list(self.losses), "host_gbps": self.host_mbps / 1000,
                "topology": "leaf-spine 2x2", "pool_size": self.pool_size, "pmtu": self.pmtu,
                "clock": "virtual" if self.mode == "sim" else "real"}


SCALES = {
    "quick": {},
    "full": {"ranks": (2, 4, 8, 16, 32, 64), "sizes": (32 << 10, 128 << 10, 512 << 10),
             "seeds": (1, 2)},
}
# Mininet at the emulator's rates: the Python switch sums ~500 aggregation packets/s, so
# small buffers, 20 Mb/s hosts, few chunks in flight and a long chunk timer; Mininet links
# here carry no loss model, so the loss sweep is sim only
EMULATE = {"host_mbps": 20.0, "uplink_delay_us": 0, "nbytes": 16 << 10, "sizes": (4 << 10, 16 << 10),
           "losses": (0.0,), "window": 4, "rto_us": 200_000, "ring_rto_us": 20_000,
           "timeout_s": 120.0}
EMULATE_SCALES = {"quick": {"ranks": (2, 4), "loss_ranks": 4},
                  "full": {"ranks": (2, 4, 8), "sizes": (4 << 10, 16 << 10, 64 << 10)}}


def params_for(scale: str, mode: str = "sim", **overrides: Any) -> Params:
    if scale not in SCALES:
        raise FabricError(f"unknown scale {scale!r} (quick or full)")
    given = {k: v for k, v in overrides.items() if v is not None}
    base = (SCALES[scale] if mode == "sim" else {**SCALES[scale], **EMULATE, **EMULATE_SCALES[scale]})
    return replace(Params(mode=mode, scale_name=scale, **base), **given)


def topology(p: Params, ranks: int) -> Topology:
    """2 leaves, 2 spines, ranks split evenly (an odd rank count leaves one host idle)."""
    return leaf_spine(2, 2, -(-ranks // 2), downlink_bw=p.host_mbps, delay_us=p.uplink_delay_us)


def expected_ratio(ranks: int) -> float:
    """In-network over ring busbw if both run at line rate: 2(n-1)/n."""
    return 2 * (ranks - 1) / ranks
