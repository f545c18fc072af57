"""BMv2's handle manager (bm_sim/handle_mgr.h): a new member or group gets the lowest handle
not in use, so a freed handle is given out again before any higher one. The order of a
selector group's members is the order of their handles, which decides which member a hash
picks."""

from __future__ import annotations

import heapq


class Handles:
    """Lowest-free handles from 0."""

    def __init__(self) -> None:
        self._next = 0  # every handle below it was given out once
        self._freed: list[int] = []  # a heap of those given back

    def take(self) -> int:
        if self._freed:
            return heapq.heappop(self._freed)
        self._next += 1
        return self._next - 1

    def give_back(self, handle: int) -> None:
        heapq.heappush(self._freed, handle)
