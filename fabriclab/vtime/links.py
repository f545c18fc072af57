"""One direction of a link in virtual time: its impairments, its state and its far end.

A switch's egress direction is serialised and delayed by that switch's TrafficManager
(the same model the real-time switch uses), then handed here; a host's egress direction
has no switch behind it, so `Wire.send` serialises at the link rate and adds the
propagation delay itself (a NIC paces at line rate, so this never builds a queue worth
modelling). Either way `carry` applies the seeded impairments (loss, duplication,
reordering by a random extra delay) and schedules the frame's arrival at the far end.
A link that is down drops what it is given, as a cut fibre does until the controller
routes around it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from fabriclab.errors import FabricError
from fabriclab.vtime.events import EventLoop

Receive = Callable[[int, bytes], None]  # (port, frame) at the far end


@dataclass(frozen=True)
class Impairments:
    """Per-direction faults, each a probability per frame; reordered frames are held back
    by up to `reorder_ns`."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_ns: int = 200_000

    def __post_init__(self) -> None:
        for what in ("loss", "duplicate", "reorder"):
            value = getattr(self, what)
            if not 0.0 <= value <= 1.0:
                raise FabricError(f"{what} probability must be in [0, 1], got {value}")
        if self.reorder_ns < 0:
            raise FabricError(f"reorder delay must be >= 0 ns, got {self.reorder_ns}")

    @property
    def any(self) -> bool:
        return bool(self.loss or self.duplicate or self.reorder)


@dataclass
class WireStats:
    frames: int = 0
    bytes: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    down_drops: int = 0


class Wire:
    """node:port -> peer:peer_port, one direction."""

    def __init__(self, loop: EventLoop, name: str, receive: Receive, peer_port: int,
                 rate_bps: float | None, delay_ns: int, impairments: Impairments,
                 seed: int) -> None:
        if rate_bps is not None and rate_bps <= 0:
            raise FabricError(f"link {name}: rate must be > 0, got {rate_bps} bit/s")
        if delay_ns < 0:
            raise FabricError(f"link {name}: delay must be >= 0, got {delay_ns} ns")
        self.loop, self.name = loop, name
        self.receive, self.peer_port = receive, peer_port
        self.rate_bps, self.delay_ns = rate_bps, delay_ns
        self.impairments = impairments
        self.rng = random.Random(f"{seed}:{name}")  # one stream per direction: adding a link
        self.up = True                               # never shifts another link's draws
        self.stats = WireStats()
        self._free_ns = 0

    def send(self, frame: bytes, now: int) -> None:
        """From a host: serialise behind earlier frames, propagate, then carry."""
        start = now if now > self._free_ns else self._free_ns
        if self.rate_bps:
            start += round(len(frame) * 8e9 / self.rate_bps)
        self._free_ns = start
        self.carry(frame, start + self.delay_ns)

    def carry(self, frame: bytes, arrival: int) -> None:
        """Impair and deliver `frame`, which reaches the far end at `arrival` if unharmed."""
        stats = self.stats
        if not self.up:
            stats.down_drops += 1
            return
        stats.frames += 1
        stats.bytes += len(frame)
        self.loop.packets += 1
        imp = self.impairments
        if not imp.any:
            self.loop.at(arrival, self.receive, self.peer_port, frame)
            return
        rng = self.rng
        if rng.random() < imp.loss:
            stats.lost += 1
            return
        copies = 2 if rng.random() < imp.duplicate else 1
        stats.duplicated += copies - 1
        for _ in range(copies):
            when = arrival
            if rng.random() < imp.reorder:
                stats.reordered += 1
                when += rng.randrange(imp.reorder_ns + 1)
            self.loop.at(when, self.receive, self.peer_port, frame)
