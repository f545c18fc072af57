"""A switch in virtual time: the compiled pipeline (`SwitchCore`) and the same
`TrafficManager` the real-time switch runs, driven by the event loop.

It implements the switch protocol of the P4Runtime seam (docs/internals.md: `lock`,
`core`, `now_ns`, `set_core`, `inject_packet_out`, packet-in and digest listeners), so a
`Device` serves it exactly as it serves `fabriclab switch`. The cycle per event is the
real-time driver's: ingress -> `tm.enqueue`; `tm.poll` -> egress on each departure ->
`tm.transmit` at the departure's time; frames that crossed the link's propagation delay
go to the link's far end. One wake-up event is kept per switch, at the traffic
manager's next deadline; superseded ones are recognised and skipped.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from fabriclab.switch.pcap import PcapWriter
from fabriclab.switch.tm import TrafficManager
from fabriclab.vtime.events import EventLoop
from fabriclab.vtime.links import Wire


class SwitchNode:
    def __init__(self, loop: EventLoop, name: str, device_id: int, tm: TrafficManager,
                 cpu_port: int | None = 255, drop_port: int = 511) -> None:
        self.loop, self.name, self.device_id = loop, name, device_id
        self.cpu_port, self.drop_port = cpu_port, drop_port
        self.lock = threading.RLock()  # the seam's lock: uncontended here (one thread)
        self.core: Any = None
        self.tm = tm
        self.wires: dict[int, Wire] = {}
        self.captures: dict[int, tuple[PcapWriter, PcapWriter]] = {}
        self.ingress_drops = 0  # refused by the traffic manager (queue full, no such priority)
        self._packet_in: list[Callable[[bytes], None]] = []
        self._digest: list[Callable[[], None]] = []
        self._wake_at: int | None = None

    # -- the switch protocol of the P4Runtime seam --
    def now_ns(self) -> int:
        """The virtual clock its packets are stamped with (idle timeouts, time_since_last_hit)."""
        return self.loop.now

    def set_core(self, core: Any) -> None:
        with self.lock:
            self.core = core
            self.tm.clear_queues()  # their pipeline state belongs to the old program

    def inject_packet_out(self, data: bytes) -> None:
        if self.cpu_port is not None:
            self.receive(self.cpu_port, data)

    def add_packet_in_listener(self, fn: Callable[[bytes], None]) -> None:
        self._packet_in.append(fn)

    def add_digest_listener(self, fn: Callable[[], None]) -> None:
        self._digest.append(fn)

    # -- the data plane --
    def receive(self, port: int, frame: bytes) -> None:
        """A frame arrives on `port` now."""
        core = self.core
        if core is None:
            return
        now = self.loop.now
        if port in self.captures:
            self.captures[port][0].write(frame, now / 1e9)
        tm = self.tm
        if tm.receive_mac_control(port, frame, now):  # PFC pause frames stop at the MAC
            self._pump(now)
            return
        for item in core.ingress(port, frame, now // 1000):
            if not tm.enqueue(item, now, port):
                self.ingress_drops += 1
        self._pump(now)
        if core.digests:
            for fn in self._digest:
                fn()

    def _wake(self, when: int) -> None:
        if self._wake_at == when:
            self._wake_at = None
            self._pump(when)

    def _pump(self, now: int) -> None:
        """Everything the traffic manager has due now, then one wake-up for the next."""
        tm, core, wires = self.tm, self.core, self.wires
        while True:
            departures, deliveries = tm.poll(now)
            for dep in departures:
                sent, more = core.egress(dep.item, dep.time_ns // 1000, dep.queue)
                for port, data in sent:
                    if port == self.cpu_port:
                        for fn in self._packet_in:
                            fn(data)
                        continue
                    if port in self.captures:
                        self.captures[port][1].write(data, dep.time_ns / 1e9)
                    tm.transmit(port, data, dep.time_ns)
                for item in more:
                    if not tm.enqueue(item, now):
                        self.ingress_drops += 1
            for port, data in deliveries:
                wire = wires.get(port)
                if wire is not None:
                    wire.carry(data, now)
            deadline = tm.next_deadline_ns()
            if deadline is None or deadline > now:
                break
        if deadline is not None and (self._wake_at is None or deadline < self._wake_at):
            self._wake_at = deadline
            self.loop.at(deadline, self._wake, deadline)
