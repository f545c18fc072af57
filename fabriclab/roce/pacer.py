"""Earliest-departure-time pacing: a host never puts bytes on its link faster than a rate.

Each packet of L bytes pushes the next departure L*8/rate seconds later. A late driver may
catch up by at most `burst` bytes (what a NIC's transmit FIFO would absorb), so a stalled
event loop does not turn into a line-rate-breaking burst.
"""

from __future__ import annotations

from fabriclab.errors import FabricError


class Pacer:
    def __init__(self, rate: float, burst: int = 3000) -> None:
        if rate <= 0:
            raise FabricError(f"pacing rate must be positive, not {rate}")
        self.rate = rate
        self.burst = burst
        self.next_time = float("-inf")

    def ready(self, now: float) -> bool:
        return now >= self.next_time

    def sent(self, nbytes: int, now: float, rate: float | None = None) -> None:
        """Account a departure of `nbytes` at `now`, at `rate` (default: the pacer's own)."""
        r = rate or self.rate
        self.next_time = max(self.next_time, now - self.burst * 8 / r) + nbytes * 8 / r
