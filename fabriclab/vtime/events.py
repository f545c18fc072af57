"""The virtual clock and its event heap: integer nanoseconds, deterministic order.

Events at the same instant run in the order they were scheduled (a sequence number breaks
ties), so a run depends only on its inputs and seed, never on the machine or the heap's
internals. Handlers are plain callables with their arguments stored next to them (no
lambdas on the hot path: a tuple is cheaper than a closure).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Any, Callable

Progress = Callable[["ProgressReport"], None]


@dataclass(frozen=True)
class ProgressReport:
    """What a long simulation says about itself now and then."""

    sim_ns: int
    events: int
    packets: int
    events_per_s: float

    def __str__(self) -> str:
        return (f"simulated {self.sim_ns / 1e6:.3f} ms, {self.packets} packets, "
                f"{self.events} events ({self.events_per_s:,.0f} events/s)")


class EventLoop:
    """One clock (`now`, ns) and one heap of (time, seq, handler, args)."""

    def __init__(self) -> None:
        self.now = 0
        self.events = 0
        self.packets = 0  # frames that crossed a link: the drivers count them here
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._seq = 0

    def at(self, when: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` at virtual time `when` (never earlier than now)."""
        self._seq += 1
        heapq.heappush(self._heap, (when if when > self.now else self.now, self._seq, fn, args))

    def run(self, until: int | None = None, stop: Callable[[], bool] | None = None,
            progress: Progress | None = None, every_s: float = 5.0) -> int:
        """Process events until `until` (ns), none are left, or `stop()` holds (checked
        after every event). Returns the time reached."""
        heap, pop = self._heap, heapq.heappop
        started = last = time.monotonic()
        count = 0
        while heap:
            when = heap[0][0]
            if until is not None and when > until:
                self.now = until
                break
            _, _, fn, args = pop(heap)
            self.now = when
            fn(*args)
            count += 1
            if stop is not None and stop():
                break
            if progress is not None and not count & 0xFFF:
                wall = time.monotonic()
                if wall - last >= every_s:
                    last = wall
                    progress(ProgressReport(self.now, self.events + count, self.packets,
                                            count / (wall - started)))
        self.events += count
        return self.now

    def pending(self) -> int:
        return len(self._heap)
