"""The traffic manager: per-port priority queues, a modelled link and propagation delay.

This kernel has no netem, so a switch port itself models the link behind it: packets wait
in strict-priority queues (depth in packets, optionally bytes; drop on full), leave at the
link's serialisation rate (bits/s) and/or a packets-per-second rate (BMv2's
``set_queue_rate`` is pps), then arrive at the far end one propagation delay later without
blocking the queue behind them.

Sans-I/O and clock-injected: every call takes ``now_ns`` (nanoseconds since switch start)
and nothing here sleeps or touches sockets, so unit tests drive it with a virtual clock and
the real-time driver (``process.py``) drives it from an epoll loop. The driver's cycle is::

    tm.enqueue(item, now)                    # after core.ingress; False means dropped
    departures, deliveries = tm.poll(now)    # at most one departure per port per poll
    for dep in departures:                   # run core.egress(dep.item, now, dep.queue)
        tm.transmit(port, data, dep.time_ns) # put each egress output on the wire
    for port, data in deliveries: send it    # it has crossed the link
    sleep until tm.next_deadline_ns()

BMv2 fidelity (simple_switch): priority ``p`` (``standard_metadata.priority``) selects
queue ``p`` and the highest ``p`` with a packet is served first (strict priority; priority 0,
every packet's default, is the lowest); a priority >= the number of queues is dropped
(counted in ``priority_drops``). ``set_queue_rate``/``set_queue_depth`` with a priority
address that priority's queue (what p4lang/behavioral-model PR #1276 fixed; the datapath
order stayed as it was), without one every queue of the port. ``enq_qdepth`` is the
occupancy of the packet's own queue before the push and ``deq_qdepth`` after the pop.
Timestamps are microseconds.
Serialisation counts frame bytes only (no preamble/IFG/FCS), like Linux tc.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

DEFAULT_QUEUE_DEPTH = 64  # packets, like BMv2


class QueueInfo(NamedTuple):
    """What v1model's queueing metadata reports for one dequeued packet (us, packets)."""

    enq_timestamp: int
    enq_qdepth: int
    deq_qdepth: int
    deq_timedelta: int


class Departure(NamedTuple):
    """A packet leaving its queue: the driver runs the egress pipeline on it.

    ``time_ns`` is when the model says it left (at most the ``now`` of the poll): a driver
    that wakes late must pass it to ``transmit`` so its lateness does not slow the link.
    """

    item: Any  # an EgressItem: needs .port, .qid and .length
    queue: QueueInfo
    time_ns: int


class _Entry(NamedTuple):
    item: Any
    enq_ns: int
    enq_qdepth: int


@dataclass
class Queue:
    """One priority queue of a port; ``rate_pps`` is BMv2's per-priority set_queue_rate."""

    depth_pkts: int = DEFAULT_QUEUE_DEPTH
    depth_bytes: int | None = None
    rate_pps: float | None = None
    entries: deque = field(default_factory=deque)
    nbytes: int = 0
    drops: int = 0
    next_ns: int = 0  # earliest next dequeue allowed by rate_pps

    def full_for(self, length: int) -> bool:
        if len(self.entries) >= self.depth_pkts:
            return True
        return self.depth_bytes is not None and self.nbytes + length > self.depth_bytes


@dataclass
class Port:
    """An egress port: its queues and the link it drives."""

    queues: list[Queue]
    rate_bps: float | None = None
    rate_pps: float | None = None
    delay_ns: int = 0
    size: int = 0  # packets queued over all priorities
    priority_drops: int = 0  # packets whose priority had no queue
    link_free_ns: int = 0  # when the wire finishes serialising the last transmitted frame
    next_ns: int = 0  # earliest next dequeue allowed by the port's rate_pps
    last_arrival_ns: int = 0  # a link never reorders, even if its delay shrinks
    tx_packets: int = 0
    tx_bytes: int = 0

    @property
    def drops(self) -> int:
        return self.priority_drops + sum(q.drops for q in self.queues)


def _gap_ns(pps: float | None) -> int:
    return 0 if not pps else round(1e9 / pps)


class TrafficManager:
    """Egress queues and links of one switch (see the module docstring for the cycle)."""

    def __init__(self, priority_queues: int = 1, queue_depth: int = DEFAULT_QUEUE_DEPTH):
        if priority_queues < 1:
            raise ValueError("priority_queues must be at least 1")
        self.priority_queues = priority_queues
        self.queue_depth = queue_depth  # defaults for ports created later
        self.queue_rate_pps: float | None = None
        self.ports: dict[int, Port] = {}
        self._active: set[int] = set()  # ports with queued packets
        self._wire: list[tuple[int, int, int, bytes]] = []  # heap of (arrival, seq, port, data)
        self._arrived: list[tuple[int, bytes]] = []  # frames that crossed in no time (fast path)
        self._seq = 0

    # -- configuration (any time; takes effect for the next dequeue / transmit) --

    def port(self, port: int) -> Port:
        """The port's state, created with the defaults on first use."""
        state = self.ports.get(port)
        if state is None:
            queues = [Queue(depth_pkts=self.queue_depth, rate_pps=self.queue_rate_pps)
                      for _ in range(self.priority_queues)]
            state = self.ports[port] = Port(queues=queues)
        return state

    def _queues(self, port: int | None, priority: int | None) -> list[Queue]:
        ports = [self.port(port)] if port is not None else list(self.ports.values())
        if priority is None:
            return [q for p in ports for q in p.queues]
        if not 0 <= priority < self.priority_queues:
            raise ValueError(f"priority {priority} out of range 0..{self.priority_queues - 1}")
        return [p.queues[priority] for p in ports]

    def set_queue_depth(self, depth_pkts: int, port: int | None = None,
                        priority: int | None = None) -> None:
        """BMv2 set_queue_depth: all ports when ``port`` is None (and the default for new ones)."""
        if depth_pkts < 1:
            raise ValueError("queue depth must be at least 1 packet")
        if port is None and priority is None:
            self.queue_depth = depth_pkts
        for q in self._queues(port, priority):
            q.depth_pkts = depth_pkts

    def set_queue_bytes(self, depth_bytes: int | None, port: int,
                        priority: int | None = None) -> None:
        """An extra byte limit on the port's queues (ours; BMv2 counts packets only)."""
        if depth_bytes is not None and depth_bytes < 1:
            raise ValueError("queue byte limit must be at least 1 byte")
        for q in self._queues(port, priority):
            q.depth_bytes = depth_bytes

    def set_queue_rate(self, pps: float | None, port: int | None = None,
                       priority: int | None = None) -> None:
        """BMv2 set_queue_rate in packets/s per queue (every queue of the port without a
        priority; every port, and the default for new ones, without a port); None: no limit."""
        if pps is not None and pps <= 0:
            raise ValueError("queue rate must be positive")
        if port is None and priority is None:
            self.queue_rate_pps = pps
        for q in self._queues(port, priority):
            q.rate_pps = pps

    def set_port_rate(self, port: int, bps: float | None = None, pps: float | None = None) -> None:
        """The link's rate, shared by all its queues: bits/s (serialisation) and/or frames/s;
        None means no limit of that kind."""
        if (bps is not None and bps <= 0) or (pps is not None and pps <= 0):
            raise ValueError("port rate must be positive")
        state = self.port(port)
        state.rate_bps, state.rate_pps = bps, pps

    def set_port_delay(self, port: int, delay_ns: int) -> None:
        """One-way propagation delay of the port's link."""
        if delay_ns < 0:
            raise ValueError("delay must not be negative")
        self.port(port).delay_ns = delay_ns

    # -- the packet path --

    def enqueue(self, item: Any, now_ns: int) -> bool:
        """Queue ``item`` on ``item.port`` at priority ``item.qid``; False if it was dropped
        (queue full, or no queue with that priority)."""
        port = self.ports.get(item.port) or self.port(item.port)
        if not 0 <= item.qid < self.priority_queues:
            port.priority_drops += 1
            return False
        queue = port.queues[item.qid]
        if queue.full_for(item.length):
            queue.drops += 1
            return False
        queue.entries.append(_Entry(item, now_ns, len(queue.entries)))
        queue.nbytes += item.length
        port.size += 1
        self._active.add(item.port)
        return True

    def poll(self, now_ns: int) -> tuple[list[Departure], list[tuple[int, bytes]]]:
        """Packets leaving their queue now (one per free port) and packets arriving now."""
        departures = []
        if self._active:
            ports = self.ports
            for number in tuple(self._active):
                dep = self._dequeue(number, ports[number], now_ns)
                if dep is not None:
                    departures.append(dep)
        deliveries = []
        wire = self._wire
        while wire and wire[0][0] <= now_ns:
            _, _, number, data = heapq.heappop(wire)
            deliveries.append((number, data))
        if self._arrived:  # after the heap: these were transmitted last
            deliveries += self._arrived
            self._arrived = []
        return departures, deliveries

    def _dequeue(self, number: int, port: Port, now_ns: int) -> Departure | None:
        if port.link_free_ns > now_ns or port.next_ns > now_ns:
            return None
        for queue in reversed(port.queues):  # the highest priority first
            if queue.entries and queue.next_ns <= now_ns:
                break
        else:
            return None
        entry = queue.entries.popleft()
        # The moment the model let it go, which a late poll must not push back.
        left = max(entry.enq_ns, port.link_free_ns, port.next_ns, queue.next_ns)
        queue.nbytes -= entry.item.length
        queue.next_ns = left + _gap_ns(queue.rate_pps)
        port.next_ns = left + _gap_ns(port.rate_pps)
        port.size -= 1
        if not port.size:
            self._active.discard(number)
        info = QueueInfo(entry.enq_ns // 1000, entry.enq_qdepth, len(queue.entries),
                         (left - entry.enq_ns) // 1000)
        return Departure(entry.item, info, left)

    def transmit(self, port_number: int, data: bytes, now_ns: int) -> None:
        """Put a frame on the port's link: it occupies the wire, then propagates.

        For egress outputs pass the departure's ``time_ns`` rather than the clock.
        """
        port = self.ports.get(port_number) or self.port(port_number)
        finish = now_ns if now_ns > port.link_free_ns else port.link_free_ns
        if port.rate_bps:
            finish += round(len(data) * 8e9 / port.rate_bps)
        port.link_free_ns = finish
        arrival = finish + port.delay_ns
        if arrival < port.last_arrival_ns:
            arrival = port.last_arrival_ns
        port.last_arrival_ns = arrival
        port.tx_packets += 1
        port.tx_bytes += len(data)
        if arrival <= now_ns:
            self._arrived.append((port_number, data))
        else:
            self._seq += 1
            heapq.heappush(self._wire, (arrival, self._seq, port_number, data))

    def clear_queues(self) -> None:
        """Drop every queued packet (their pipeline state is stale after a program change)."""
        for port in self.ports.values():
            for queue in port.queues:
                queue.entries.clear()
                queue.nbytes = 0
            port.size = 0
        self._active.clear()

    def next_deadline_ns(self) -> int | None:
        """When ``poll`` next has something to do (None: nothing until the next enqueue)."""
        if self._arrived:
            return 0
        deadline = self._wire[0][0] if self._wire else None
        for number in self._active:
            port = self.ports[number]
            eligible = min(q.next_ns for q in port.queues if q.entries)
            t = max(port.link_free_ns, port.next_ns, eligible)
            if deadline is None or t < deadline:
                deadline = t
        return deadline

    def stats(self) -> dict[int, dict[str, Any]]:
        """Per-port configuration and counters, for switch-cli and logs."""
        return {
            number: {
                "rate_bps": p.rate_bps, "rate_pps": p.rate_pps, "delay_us": p.delay_ns / 1000,
                "queued": p.size, "drops": p.drops, "priority_drops": p.priority_drops,
                "tx_packets": p.tx_packets,
                "tx_bytes": p.tx_bytes,
                "queues": [{"priority": i, "depth_pkts": q.depth_pkts,
                            "depth_bytes": q.depth_bytes, "rate_pps": q.rate_pps,
                            "queued": len(q.entries), "drops": q.drops}
                           for i, q in enumerate(p.queues)],
            }
            for number, p in sorted(self.ports.items())
        }
