"""Earliest-departure-time pacing: a host never puts bytes on its link faster than a rate.

Times are integer nanoseconds. Each packet of L bytes pushes the next departure L*8/rate
later; the fraction of a nanosecond left over is carried to the next packet, so a long run
keeps the exact rate (a 64-byte ACK at 800 Gb/s lasts 0.64 ns). A late driver may catch up
by at most `burst` bytes (what a NIC's transmit FIFO would absorb), so a stalled event loop
does not turn into a line-rate-breaking burst.
"""

from __future__ import annotations

import math

from fabriclab.errors import FabricError
from fabriclab.units import TIME_UNITS

NS_PER_S = TIME_UNITS["s"]
EARLIEST = -(1 << 62)  # "no departure yet": before any clock a driver uses


class Pacer:
    def __init__(self, rate: float, burst: int = 3000) -> None:
        if rate <= 0:
            raise FabricError(f"pacing rate must be positive, not {rate}")
        self.rate = rate  # bit/s
        self.burst = burst  # bytes
        self.next_ns = EARLIEST  # earliest next departure
        self._carry = 0.0  # fraction of a nanosecond owed by the packets so far, in [0, 1)
        self._catchup = (0.0, 0, 0)  # (rate, burst, ns of burst bytes at that rate): once per rate

    def ready(self, now: int) -> bool:
        return now >= self.next_ns

    def sent(self, nbytes: int, now: int, rate: float | None = None) -> None:
        """Account a departure of `nbytes` at `now` (ns), at `rate` bit/s (default: the pacer's own)."""
        r = rate or self.rate
        at, burst, ns = self._catchup
        if at != r or burst != self.burst:
            ns = math.ceil(self.burst * 8 * NS_PER_S / r)
            self._catchup = (r, self.burst, ns)
        floor = now - ns
        if self.next_ns < floor:  # idle or late: at most `burst` bytes of catch-up
            self.next_ns, self._carry = floor, 0.0
        exact = nbytes * 8 * NS_PER_S / r + self._carry
        whole = int(exact)  # floor: exact is never negative
        self._carry = exact - whole
        self.next_ns += whole
