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

The fast path, same result: when the TM is idle (nothing queued, nothing due on a wire, no
PFC pause running) a packet that would go through an empty queue and leave at once gets
its QueueInfo from ``cut_through`` instead of ``enqueue`` + ``poll``, and
``transmit(..., hand_back=True)`` returns True for a frame that crosses in no time with
nothing due before it, for the driver to send at once (tests/unit/switch/
test_tm_cut_through.py drives both paths with the same traffic and compares everything).

BMv2 fidelity (simple_switch): priority ``p`` (``standard_metadata.priority``) selects
queue ``p`` and the highest ``p`` with a packet is served first (strict priority; priority 0,
every packet's default, is the lowest); a priority >= the number of queues is dropped
(counted in ``priority_drops``). ``set_queue_rate``/``set_queue_depth`` with a priority
address that priority's queue (what p4lang/behavioral-model PR #1276 fixed; the datapath
order stayed as it was), without one every queue of the port. ``enq_qdepth`` is the
occupancy of the packet's own queue before the push and ``deq_qdepth`` after the pop.
Timestamps are microseconds.
Serialisation counts frame bytes only (no preamble/IFG/FCS), like Linux tc.

PFC (IEEE 802.1Qbb, opt-in per port and priority with ``enable_pfc``; off by default, and
then nothing above changes). The driver passes the packet's ingress port to ``enqueue``; the
TM counts, per ingress port and priority, the bytes of packets that entered there and are
still queued anywhere in the switch. Reaching XOFF puts a PFC pause frame (pfc.py) on that
port's own link toward the upstream neighbour, refreshed every half pause time while above
XON; draining to XON or below sends quanta 0 (XON). These frames come out of ``poll``'s
deliveries like any frame, after the frame being serialised, at the time they cross the link
(``take_pauses_sent`` lists them with their transmit times, for captures).
A lossless class never tail-drops at the egress queue: only a packet that would overflow
XOFF + headroom is dropped (``headroom_drops``, a sizing error). The driver hands frames it
receives to ``receive_mac_control`` before the pipeline: a pause for an enabled priority
stops that port's service of that queue until XON or quanta expiry (512 bit times each at
the port's rate; without a rate, until XON). See docs/congestion.md.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fabriclab.switch import pfc

DEFAULT_QUEUE_DEPTH = 64  # packets, like BMv2
PAUSE_LOG = 4096  # pause frames kept for take_pauses_sent (the oldest go first)
_FOREVER = pfc.FOREVER_NS
_new_tuple = tuple.__new__


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


class PauseSent(NamedTuple):
    """A PFC frame the TM put on ``port``'s link, starting to serialise at ``time_ns`` (for
    captures and logs: the frame itself also comes out of ``poll``'s deliveries)."""

    port: int
    data: bytes
    time_ns: int


class _Entry(NamedTuple):
    item: Any
    enq_ns: int
    enq_qdepth: int
    lossless: PfcClass | None = None  # the ingress port's class that accounts for it


@dataclass
class PfcClass:
    """PFC of one priority on one port, both directions of its link.

    Ingress side: bytes that entered here and are still queued, and whether we are pausing
    the upstream neighbour. Egress side: ``hold``, the pauses the neighbour sent us (the
    port's queue of this priority shares it).
    """

    port: int
    priority: int
    xoff_bytes: int
    xon_bytes: int
    headroom_bytes: int
    quanta: int = pfc.MAX_QUANTA
    hold: pfc.Hold = field(default_factory=pfc.Hold)
    active: bool = True
    ingress_bytes: int = 0
    peak_bytes: int = 0
    xoff: bool = False  # we are pausing the upstream neighbour
    xoff_since_ns: int = 0
    refresh_ns: int = _FOREVER  # when the running pause must be repeated
    pauses_sent: int = 0
    xons_sent: int = 0
    xoff_ns: int = 0  # total time we paused the upstream neighbour
    headroom_drops: int = 0


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
    hold: pfc.Hold | None = None  # PFC: a received pause holds the queue until hold.until_ns

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
    pause: pfc.LinkPause = field(default_factory=pfc.LinkPause)  # pauses received
    pfc: dict[int, PfcClass] = field(default_factory=dict)  # by priority; empty: PFC off
    mac: bytes = b""  # source MAC of the pause frames this port sends

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
        self._xoff: dict[tuple[int, int], PfcClass] = {}  # classes pausing their upstream
        self._lossless: set[int] = set()  # ports with PFC on (their ingress accounting)
        self._pauses_sent: deque[PauseSent] = deque(maxlen=PAUSE_LOG)
        self.last_poll_ns: int | None = None  # the driver's clock at the last poll (stats' "now")

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

    def enable_pfc(self, port: int, priority: int, xoff_bytes: int, xon_bytes: int,
                   headroom_bytes: int, quanta: int = pfc.MAX_QUANTA, mac: bytes | None = None) -> None:
        """Make ``priority`` lossless on ``port``: pause the upstream neighbour when the bytes
        that entered here reach ``xoff_bytes``, resume at ``xon_bytes`` or below, absorb up to
        ``headroom_bytes`` in flight beyond XOFF; honour pauses received for it."""
        if not 0 <= priority < min(self.priority_queues, pfc.PRIORITIES):
            raise ValueError(f"PFC priority {priority} out of range 0..{min(self.priority_queues, 8) - 1}")
        if not 0 <= xon_bytes <= xoff_bytes or xoff_bytes < 1 or headroom_bytes < 0:
            raise ValueError("PFC needs 0 <= XON <= XOFF, XOFF >= 1 byte and headroom >= 0")
        if not 1 <= quanta <= pfc.MAX_QUANTA:
            raise ValueError("PFC pause time must be 1..65535 quanta")
        state = self.port(port)
        if mac is not None or not state.mac:
            state.mac = mac or bytes([0x02, 0xFA, 0xB1, 0, port >> 8 & 0xFF, port & 0xFF])
        self.disable_pfc(port, priority)
        cls = state.pfc[priority] = PfcClass(port, priority, xoff_bytes, xon_bytes, headroom_bytes, quanta)
        self._lossless.add(port)
        state.pause.holds[priority] = state.queues[priority].hold = cls.hold

    def disable_pfc(self, port: int, priority: int) -> None:
        """Back to drop-tail: a pause we sent upstream runs out by its quanta."""
        state = self.port(port)
        cls = state.pfc.pop(priority, None)
        if cls is not None:
            cls.active = False
            self._xoff.pop((port, priority), None)
            del state.pause.holds[priority]
            state.queues[priority].hold = None
            if not state.pfc:
                self._lossless.discard(port)

    # -- the packet path --

    def enqueue(self, item: Any, now_ns: int, ingress_port: int | None = None) -> bool:
        """Queue ``item`` on ``item.port`` at priority ``item.qid``; False if it was dropped
        (queue full, or no queue with that priority, or a lossless class out of headroom).
        ``ingress_port`` (where the packet entered) is needed for PFC accounting only."""
        port = self.ports.get(item.port) or self.port(item.port)
        if not 0 <= item.qid < self.priority_queues:
            port.priority_drops += 1
            return False
        queue = port.queues[item.qid]
        cls = None
        if ingress_port is not None:
            source = self.ports.get(ingress_port)
            if source is not None and source.pfc:
                cls = source.pfc.get(item.qid)
        if cls is None:
            if queue.full_for(item.length):
                queue.drops += 1
                return False
        elif cls.ingress_bytes + item.length > cls.xoff_bytes + cls.headroom_bytes:
            cls.headroom_drops += 1
            return False
        queue.entries.append(_Entry(item, now_ns, len(queue.entries), cls))
        queue.nbytes += item.length
        port.size += 1
        self._active.add(item.port)
        if cls is not None:
            cls.ingress_bytes += item.length
            cls.peak_bytes = max(cls.peak_bytes, cls.ingress_bytes)
            if not cls.xoff and cls.ingress_bytes >= cls.xoff_bytes:
                self._send_xoff(cls, now_ns)
        return True

    def cut_through(self, item: Any, now_ns: int, ingress_port: int | None = None) -> QueueInfo | None:
        """What ``enqueue`` then ``poll(now_ns)`` would give ``item`` when it would leave its
        queue at once with the TM idle: its QueueInfo (the departure is at ``now_ns``), with
        the port's and queue's rate state advanced as that departure does. None where the
        queues have a say (anything queued or due, a rate gap or pause running, a drop, PFC
        accounting): then ``enqueue`` it as usual."""
        if self._active or self._arrived or self._xoff or (self._wire and self._wire[0][0] <= now_ns):
            return None
        port = self.ports.get(item.port)
        if port is None or port.link_free_ns > now_ns or port.next_ns > now_ns:
            return None
        qid = item.qid
        if not 0 <= qid < self.priority_queues:
            return None
        queue = port.queues[qid]
        if queue.next_ns > now_ns or (queue.hold is not None and queue.hold.until_ns > now_ns):
            return None
        if queue.depth_bytes is not None and item.length > queue.depth_bytes:
            return None
        if self._lossless and ingress_port in self._lossless:
            return None
        rate = queue.rate_pps
        queue.next_ns = now_ns + round(1e9 / rate) if rate else now_ns  # _gap_ns, inlined
        rate = port.rate_pps
        port.next_ns = now_ns + round(1e9 / rate) if rate else now_ns
        self.last_poll_ns = now_ns
        return _new_tuple(QueueInfo, (now_ns // 1000, 0, 0, 0))  # no Python frame, as QueueInfo()

    def _send_xoff(self, cls: PfcClass, now_ns: int) -> None:
        if not cls.xoff:
            cls.xoff, cls.xoff_since_ns = True, now_ns
            self._xoff[cls.port, cls.priority] = cls
        cls.pauses_sent += 1
        rate = self.ports[cls.port].rate_bps
        cls.refresh_ns = now_ns + max(1, pfc.pause_ns(cls.quanta, rate) // 2) if rate else _FOREVER
        self._send_pfc(cls.port, {cls.priority: cls.quanta}, now_ns)

    def _send_xon(self, cls: PfcClass, now_ns: int) -> None:
        cls.xoff = False
        cls.xoff_ns += max(0, now_ns - cls.xoff_since_ns)
        cls.xons_sent += 1
        cls.refresh_ns = _FOREVER
        self._xoff.pop((cls.port, cls.priority), None)
        self._send_pfc(cls.port, {cls.priority: 0}, now_ns)

    def _send_pfc(self, port: int, classes: dict[int, int], now_ns: int) -> None:
        """Out of ``port`` toward its neighbour, ahead of any queued packet (MAC control)."""
        frame = pfc.encode(self.ports[port].mac, classes)
        self._pauses_sent.append(PauseSent(port, frame, max(now_ns, self.ports[port].link_free_ns)))
        self.transmit(port, frame, now_ns)

    def take_pauses_sent(self) -> list[PauseSent]:
        """The pause frames sent since the last call, with their transmit times (a driver
        that captures its ports writes them; they are delivered through ``poll`` anyway)."""
        sent = list(self._pauses_sent)
        self._pauses_sent.clear()
        return sent

    def receive_mac_control(self, port: int, frame: bytes, now_ns: int) -> bool:
        """Feed a frame received on ``port``: True if it is MAC control (ethertype 0x8808),
        which the MAC consumes (the driver must not run the pipeline on it). A PFC pause
        for a priority with PFC on this port holds that queue; others are counted."""
        if not pfc.is_mac_control(frame):
            return False
        state = self.port(port)
        return state.pause.receive(frame, now_ns, state.rate_bps)

    def poll(self, now_ns: int) -> tuple[list[Departure], list[tuple[int, bytes]]]:
        """Packets leaving their queue now (one per free port) and packets arriving now."""
        self.last_poll_ns = now_ns
        if self._xoff:
            self._refresh_pauses(now_ns)
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

    def _refresh_pauses(self, now_ns: int) -> None:
        """Repeat a running pause before the neighbour's timer ends it (or end it, if the
        queues were cleared meanwhile)."""
        for cls in tuple(self._xoff.values()):
            if cls.refresh_ns <= now_ns:
                if cls.ingress_bytes <= cls.xon_bytes:
                    self._send_xon(cls, now_ns)
                else:
                    self._send_xoff(cls, now_ns)

    def _dequeue(self, number: int, port: Port, now_ns: int) -> Departure | None:
        if port.link_free_ns > now_ns or port.next_ns > now_ns:
            return None
        for queue in reversed(port.queues):  # the highest priority first
            if queue.entries and queue.next_ns <= now_ns and (
                    queue.hold is None or queue.hold.until_ns <= now_ns):
                break
        else:
            return None
        entry = queue.entries.popleft()
        # The moment the model let it go, which a late poll must not push back.
        left = max(entry.enq_ns, port.link_free_ns, port.next_ns, queue.next_ns,
                   queue.hold.until_ns if queue.hold is not None else 0)
        queue.nbytes -= entry.item.length
        queue.next_ns = left + _gap_ns(queue.rate_pps)
        port.next_ns = left + _gap_ns(port.rate_pps)
        port.size -= 1
        if not port.size:
            self._active.discard(number)
        cls = entry.lossless
        if cls is not None:
            cls.ingress_bytes -= entry.item.length
            if cls.xoff and cls.active and cls.ingress_bytes <= cls.xon_bytes:
                self._send_xon(cls, left)
        info = QueueInfo(entry.enq_ns // 1000, entry.enq_qdepth, len(queue.entries),
                         (left - entry.enq_ns) // 1000)
        return Departure(entry.item, info, left)

    def transmit(self, port_number: int, data: bytes, now_ns: int, hand_back: bool = False) -> bool:
        """Put a frame on the port's link: it occupies the wire, then propagates.

        For egress outputs pass the departure's ``time_ns`` rather than the clock.
        ``hand_back``: a frame that arrives by ``now_ns`` with nothing due before it is not
        kept for ``poll`` but handed back (True): the caller delivers it now.
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
            if hand_back and not self._arrived and not (self._wire and self._wire[0][0] <= now_ns):
                return True
            self._arrived.append((port_number, data))
        else:
            self._seq += 1
            heapq.heappush(self._wire, (arrival, self._seq, port_number, data))
        return False

    def only_deliveries_due(self, now_ns: int) -> bool:
        """Frames have crossed their wire by ``now_ns`` while no queue, pause or rate has
        work: a ``poll`` now would only deliver them, so a driver that wakes late may do so
        before the packets that arrived meanwhile and let those try ``cut_through`` (the same
        departures: deliveries change no queue; and the same order on the wire)."""
        if self._active or self._xoff:
            return False
        return bool(self._arrived) or bool(self._wire) and self._wire[0][0] <= now_ns

    def arrivals_waiting(self) -> bool:
        """Frames that crossed in no time but were not handed back wait for ``poll``."""
        return bool(self._arrived)

    def clear_queues(self) -> None:
        """Drop every queued packet (their pipeline state is stale after a program change)."""
        for port in self.ports.values():
            for queue in port.queues:
                queue.entries.clear()
                queue.nbytes = 0
            port.size = 0
            for cls in port.pfc.values():
                cls.ingress_bytes = 0
                if cls.xoff:
                    cls.refresh_ns = 0  # the next poll sends XON
        self._active.clear()

    def next_deadline_ns(self) -> int | None:
        """When ``poll`` next has something to do (None: nothing until the next enqueue)."""
        if self._arrived:
            return 0
        deadline = self._wire[0][0] if self._wire else None
        for cls in self._xoff.values():
            if cls.refresh_ns < _FOREVER and (deadline is None or cls.refresh_ns < deadline):
                deadline = cls.refresh_ns
        for number in self._active:
            port = self.ports[number]
            eligible = min(max(q.next_ns, q.hold.until_ns if q.hold is not None else 0)
                           for q in port.queues if q.entries)
            t = max(port.link_free_ns, port.next_ns, eligible)
            if t < _FOREVER and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def stats(self) -> dict[int, dict[str, Any]]:
        """Per-port configuration and counters, for switch-cli and logs (PFC times up to the
        last poll: pauses still running count until then)."""
        return {
            number: {
                "rate_bps": p.rate_bps, "rate_pps": p.rate_pps, "delay_us": p.delay_ns / 1000,
                "queued": p.size, "drops": p.drops, "priority_drops": p.priority_drops,
                "tx_packets": p.tx_packets,
                "tx_bytes": p.tx_bytes,
                "queues": [{"priority": i, "depth_pkts": q.depth_pkts,
                            "depth_bytes": q.depth_bytes, "rate_pps": q.rate_pps,
                            "queued": len(q.entries), "queued_bytes": q.nbytes, "drops": q.drops}
                           for i, q in enumerate(p.queues)],
                **({"pfc": self._pfc_stats(p, self.last_poll_ns)} if p.pfc else {}),
            }
            for number, p in sorted(self.ports.items())
        }

    def pfc_stats(self, now_ns: int) -> dict[int, dict[int, dict[str, Any]]]:
        """Per port and lossless priority: pauses sent/received and time paused up to now."""
        return {number: self._pfc_stats(p, now_ns)
                for number, p in sorted(self.ports.items()) if p.pfc}

    @staticmethod
    def _pfc_stats(port: Port, now_ns: int | None) -> dict[int, dict[str, Any]]:
        out = {}
        for prio, cls in sorted(port.pfc.items()):
            xoff_ns, hold = cls.xoff_ns, cls.hold
            paused_ns = hold.paused_ns if now_ns is None else hold.total_ns(now_ns)
            if now_ns is not None and cls.xoff:  # add the interval still running
                xoff_ns += max(0, now_ns - cls.xoff_since_ns)
            out[prio] = {
                "xoff_bytes": cls.xoff_bytes, "xon_bytes": cls.xon_bytes,
                "headroom_bytes": cls.headroom_bytes, "ingress_bytes": cls.ingress_bytes,
                "peak_bytes": cls.peak_bytes, "pausing": cls.xoff,
                "pauses_sent": cls.pauses_sent, "xons_sent": cls.xons_sent,
                "pauses_received": hold.pauses, "xons_received": hold.xons,
                "xoff_us": xoff_ns / 1000, "paused_us": paused_ns / 1000,
                "headroom_drops": cls.headroom_drops,
            }
        return out
