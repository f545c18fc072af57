"""Tenant B's noise: every B host keeps RDMA WRITEs posted to every other B host (an
all-to-all), and counts the bytes its writes completed. Sans-I/O like a collective rank:
`service(now)` after the NIC moved, whatever drives it (the virtual-time fabric, or the
host agent's UDP driver in emulate mode)."""

from __future__ import annotations

from typing import Callable

from fabriclab.roce.nic import RoceNic

NOISE_QPN = 0x700
NOISE_RKEY = 0x4E


class Noise:
    """All-to-all writes from one host over its QPs `qpns`, each kept `depth` messages
    deep; done after `duration_ns` (None: never, the victim's end stops the run)."""

    def __init__(self, nic: RoceNic, qpns: list[int], message: int, duration_ns: int | None = None,
                 depth: int = 2) -> None:
        self.nic, self.qpns, self.message, self.depth = nic, qpns, message, depth
        self.duration_ns = duration_ns
        self.payload = bytes(message)
        self.done = duration_ns is not None and duration_ns <= 0
        self.completed_bytes = 0
        self.errors = 0
        self._wr = 0
        self._start: int | None = None
        self._last = 0

    def _post(self, qpn: int) -> None:
        self._wr += 1
        self.nic.qp(qpn).post_write(self._wr, self.payload, 0, NOISE_RKEY)

    def service(self, now: int) -> None:
        if self.done:
            return
        if self._start is None:
            self._start = now
            for qpn in self.qpns:
                for _ in range(self.depth):
                    self._post(qpn)
        self._last = now
        while self.nic.completions:
            qpn, completion = self.nic.completions.popleft()
            if completion.error:
                self.errors += 1
            elif completion.kind == "write":
                self.completed_bytes += self.message
                self._post(qpn)
        if self.duration_ns is not None and now - self._start >= self.duration_ns:
            self.done = True

    def summary(self) -> dict:
        return {"done": self.done, "error": None, "completed_bytes": self.completed_bytes,
                "seconds": (self._last - (self._start or 0)) / 1e9, "errors": self.errors,
                "nic": vars(self.nic.counters), "qp": self.nic.qp_counters()}


def noise_app(nic: RoceNic, me: int, addrs: list[tuple[str, int]], message: int,
              sport: Callable[[int, int], int], duration_ns: int | None = None) -> Noise:
    """Member `me` of an all-to-all over `addrs` (the members' RoCE addresses): its QP
    NOISE_QPN + j talks to member j's QP NOISE_QPN + me; `sport(me, j)` is its UDP source
    port."""
    nic.register(NOISE_RKEY, message)
    qpns = []
    for j, (ip, port) in enumerate(addrs):
        if j != me:
            nic.connect(NOISE_QPN + j, ip, NOISE_QPN + me, port, sport=sport(me, j))
            qpns.append(NOISE_QPN + j)
    return Noise(nic, qpns, message, duration_ns)
