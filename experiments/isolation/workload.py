"""Tenant B's noise: every B host keeps RDMA WRITEs posted to every other B host (an
all-to-all), and counts the payload its queue pairs received (in order, whole messages or
not) and the bytes its writes completed. Sans-I/O like a collective rank: `service(now)`
after the NIC moved, whatever drives it (the virtual-time fabric, or the host agent's UDP
driver in emulate mode)."""

from __future__ import annotations

from typing import Callable

from fabriclab.roce.nic import RoceNic
from fabriclab.roce.qp import PSN_MASK

NOISE_QPN = 0x700
NOISE_RKEY = 0x4E
SAMPLE_NS = 20_000_000  # at least this long between two (time, received bytes) samples


def received_payload(packets: int, message: int, pmtu: int) -> int:
    """Payload bytes in the first `packets` packets of a stream of `message`-byte writes cut
    into `pmtu`-byte packets (each message's last packet carries the rest)."""
    per = -(-message // pmtu)
    whole, part = divmod(packets, per)
    return whole * message + part * pmtu


class Noise:
    """All-to-all writes from one host over its QPs `qpns`, each kept `depth` messages
    deep. With `duration_ns` (emulate) it posts nothing new after that long and is done
    `drain_ns` later: until then it keeps receiving and acknowledging, so the frames still
    in flight when the tenant stops are counted where they arrive, not as lost. Without
    (sim) it never ends: the victim's end stops the run. Every SAMPLE_NS or more it notes
    (now, payload received so far), so B's throughput can be taken over any window."""

    def __init__(self, nic: RoceNic, qpns: list[int], message: int, duration_ns: int | None = None,
                 depth: int = 2, drain_ns: int = 0) -> None:
        self.nic, self.qpns, self.message, self.depth = nic, qpns, message, depth
        self.duration_ns, self.drain_ns = duration_ns, drain_ns
        self.payload = bytes(message)
        self.done = duration_ns is not None and duration_ns <= 0
        self.stopped = self.done
        self.completed_bytes = 0
        self.errors = 0
        self.samples: list[tuple[int, int]] = []
        self._epsn0 = {qpn: nic.qp(qpn).epsn for qpn in qpns}
        self._wr = 0
        self._start: int | None = None
        self._last = 0

    def received_bytes(self) -> int:
        """Payload the peers' writes put in order at this host's queue pairs so far."""
        pmtu = self.nic.cfg.qp.pmtu
        return sum(received_payload((self.nic.qp(q).epsn - e) & PSN_MASK, self.message, pmtu)
                   for q, e in self._epsn0.items())

    def unsettled(self) -> int:
        """Packets this host sent that are not acknowledged yet (in flight, or lost and
        not yet resent): of unknown fate when it reports."""
        return sum(self.nic.qp(q).outstanding for q in self.qpns)

    def _sample(self, now: int) -> None:
        if not self.samples or now - self.samples[-1][0] >= SAMPLE_NS:
            self.samples.append((now, self.received_bytes()))

    def _post(self, qpn: int) -> None:
        self._wr += 1
        self.nic.qp(qpn).post_write(self._wr, self.payload, 0, NOISE_RKEY)

    def service(self, now: int) -> None:
        if self.done:
            return
        if self._start is None:
            self._start = now
            self.samples.append((now, 0))
            for qpn in self.qpns:
                for _ in range(self.depth):
                    self._post(qpn)
        self._last = now
        if self.duration_ns is not None and now - self._start >= self.duration_ns:
            self.stopped = True
        while self.nic.completions:
            qpn, completion = self.nic.completions.popleft()
            if completion.error:
                self.errors += 1
            elif completion.kind == "write":
                self.completed_bytes += self.message
                if not self.stopped:
                    self._post(qpn)
        if self.duration_ns is not None:
            self._sample(now)
            if now - self._start >= self.duration_ns + self.drain_ns:
                self.done = True

    def summary(self) -> dict:
        received = self.received_bytes()
        last = [(self._last, received)] if self._start is not None else []
        return {"done": self.done, "error": None, "completed_bytes": self.completed_bytes,
                "received_bytes": received, "unsettled": self.unsettled(),
                "samples": [list(s) for s in self.samples + last], "seconds": (self._last - (self._start or 0)) / 1e9,
                "errors": self.errors, "nic": vars(self.nic.counters), "qp": self.nic.qp_counters()}


def noise_app(nic: RoceNic, me: int, addrs: list[tuple[str, int]], message: int,
              sport: Callable[[int, int], int], duration_ns: int | None = None, drain_ns: int = 0) -> Noise:
    """Member `me` of an all-to-all over `addrs` (the members' RoCE addresses): its QP
    NOISE_QPN + j talks to member j's QP NOISE_QPN + me; `sport(me, j)` is its UDP source
    port."""
    nic.register(NOISE_RKEY, message)
    qpns = []
    for j, (ip, port) in enumerate(addrs):
        if j != me:
            nic.connect(NOISE_QPN + j, ip, NOISE_QPN + me, port, sport=sport(me, j))
            qpns.append(NOISE_QPN + j)
    return Noise(nic, qpns, message, duration_ns, drain_ns=drain_ns)
