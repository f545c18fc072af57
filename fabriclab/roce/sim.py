"""Virtual-time driver: NIC engines joined by one output-queued switch, no sockets.

Each host hangs off the switch; the switch's port toward a host has a rate, a one-way delay,
a tail-drop queue, optional RED-like ECN marking on the backlog (Kmin, Kmax, Pmax, as in
DCQCN's switches; Kmin = Kmax is a DCTCP-style step) and optional impairments (loss,
duplication, reordering by extra delay). That is enough to exercise reliability, incast congestion and DCQCN deterministically
(seeded) in unit tests and fast experiments, with the very engines the socket driver runs.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass
from typing import Callable

from fabriclab.errors import FabricError
from fabriclab.roce.nic import ETH_HEADER, App, Datagram, RoceNic
from fabriclab.roce.framing import IP_UDP_LEN
from fabriclab.roce.pacer import NS_PER_S


def _ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


@dataclass(frozen=True)
class PortParams:
    rate: float = 100e6  # bit/s
    delay: float = 50e-6  # one-way, seconds
    queue_bytes: int = 256_000
    ecn_kmin: int | None = None  # RED-like marking on the backlog (bytes): none below Kmin,
    ecn_kmax: int | None = None  # probability rising linearly to Pmax at Kmax, all above Kmax
    ecn_pmax: float = 1.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # probability that a packet is held back...
    reorder_delay: float = 200e-6  # ...by up to this much


@dataclass
class PortStats:
    packets: int = 0
    dropped: int = 0
    marked: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    max_backlog: int = 0


class _Port:
    def __init__(self, params: PortParams) -> None:
        self.p = params
        self.busy_until = 0.0
        self.stats = PortStats()


class Simulator:
    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self.rng = random.Random(seed)
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._hosts: dict[str, tuple[RoceNic, _Port, App | None]] = {}
        self._wake: dict[str, int] = {}

    def add(self, nic: RoceNic, port: PortParams | None = None, app: App | None = None) -> None:
        """Attach a NIC; `port` describes the switch port that delivers to it."""
        if nic.cfg.ip in self._hosts:
            raise FabricError(f"two hosts with address {nic.cfg.ip}")
        self._hosts[nic.cfg.ip] = (nic, _Port(port or PortParams()), app)

    def port_stats(self, ip: str) -> PortStats:
        return self._hosts[ip][1].stats

    def at(self, when: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._seq), fn))

    def kick(self, ip: str) -> None:
        """Let a host's app and NIC act now (after posting work from outside)."""
        self.at(self.now, lambda: self._service(ip))

    def run(self, until: float = float("inf"), stop: Callable[[], bool] | None = None) -> float:
        """Process events until `until`, no events are left, or `stop()` is true."""
        for ip in self._hosts:
            self.kick(ip)
        while self._events and not (stop and stop()):
            when, _, fn = self._events[0]
            if when > until:
                break
            heapq.heappop(self._events)
            self.now = max(self.now, when)
            fn()
        return self.now

    # ---- internals -------------------------------------------------------------------
    def _service(self, ip: str) -> None:
        nic, _, app = self._hosts[ip]
        now = _ns(self.now)  # the engines' clock is integer ns; this one is float seconds
        if app is not None:
            app.service(now)
        for dg in nic.poll(now):
            self._transmit(ip, dg)
        if app is not None:
            app.service(now)
        wake = nic.next_wakeup()
        if wake is not None and self._wake.get(ip) != wake:
            self._wake[ip] = wake
            self.at(max(wake / NS_PER_S, self.now), lambda: self._wakeup(ip, wake))

    def _wakeup(self, ip: str, wake: int) -> None:
        if self._wake.get(ip) == wake:
            del self._wake[ip]
            self._service(ip)

    def _transmit(self, src_ip: str, dg: Datagram) -> None:
        dst = self._hosts.get(dg.dst_ip)
        if dst is None:
            return
        port, rng, p = dst[1], self.rng, dst[1].p
        st = port.stats
        st.packets += 1
        size = len(dg.payload) + IP_UDP_LEN + ETH_HEADER
        backlog = max(0.0, port.busy_until - self.now) * p.rate / 8
        if backlog + size > p.queue_bytes:
            st.dropped += 1
            return
        st.max_backlog = max(st.max_backlog, int(backlog + size))
        ce = self._mark(p, backlog)
        st.marked += ce
        port.busy_until = max(self.now, port.busy_until) + size * 8 / p.rate
        if rng.random() < p.loss:
            st.lost += 1
            return
        copies = 2 if rng.random() < p.duplicate else 1
        st.duplicated += copies - 1
        for _ in range(copies):
            arrive = port.busy_until + p.delay
            if rng.random() < p.reorder:
                st.reordered += 1
                arrive += rng.uniform(0, p.reorder_delay)
            self.at(arrive, lambda: self._deliver(src_ip, dg, ce))

    def _mark(self, p: PortParams, backlog: float) -> bool:
        if p.ecn_kmin is None or backlog <= p.ecn_kmin:
            return False
        kmax = p.ecn_kmin if p.ecn_kmax is None else p.ecn_kmax
        if backlog >= kmax:
            return True
        return self.rng.random() < p.ecn_pmax * (backlog - p.ecn_kmin) / (kmax - p.ecn_kmin)

    def _deliver(self, src_ip: str, dg: Datagram, ce: bool) -> None:
        nic = self._hosts[dg.dst_ip][0]
        nic.receive(dg.payload, src_ip, dg.sport, ce, _ns(self.now))
        self._service(dg.dst_ip)
