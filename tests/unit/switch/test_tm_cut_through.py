"""The traffic manager's fast path (cut_through + transmit(hand_back=True)) against the queue
path, driven the way the real-time driver drives them: each arrival goes through the TM
and is serviced before the next. Same deliveries (time, port, packet, queue metadata), same
drops and counters, over random traffic, rates, delays, priorities and byte limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from test_tm_queues import MS, Item
from fabriclab.switch.tm import QueueInfo, TrafficManager


def drive(tm: TrafficManager, arrivals: list[tuple[int, Item]], fast: bool, late: frozenset[int] = frozenset()):
    """Deliveries as (time, port, tag, QueueInfo) and how many packets took the fast path.

    ``arrivals`` is sorted by time; between arrivals the clock jumps to the TM's deadlines
    (the driver's timer), but for the arrivals whose index is in ``late``: the driver woke
    late and reads them before what fell due meanwhile (a busy machine's turn). The fast
    path is tried as the driver tries it: one packet out of ingress, the TM asked before
    ``enqueue``."""
    infos: dict[int, QueueInfo] = {}
    out: list[tuple[int, int, int, QueueInfo]] = []
    cut = 0

    def payload(item: Item) -> bytes:
        return item.tag.to_bytes(4, "big") + bytes(item.length - 4)

    def deliver(now: int, port: int, data: bytes) -> None:
        tag = int.from_bytes(data[:4], "big")
        out.append((now, port, tag, infos[tag]))

    def service(now: int) -> None:
        while True:
            deps, dels = tm.poll(now)
            for dep in deps:
                infos[dep.item.tag] = dep.queue
                tm.transmit(dep.item.port, payload(dep.item), dep.time_ns)
            for port, data in dels:
                deliver(now, port, data)
            if not deps:
                return

    def until(limit: int) -> None:
        while (deadline := tm.next_deadline_ns()) is not None and deadline <= limit:
            service(max(deadline, 0))

    for i, (now, item) in enumerate(arrivals):
        if i not in late:
            until(now - 1)
        info = tm.cut_through(item, now, 9) if fast else None
        if fast and info is None and tm.only_deliveries_due(now):  # the driver's late turn
            service(now)
            info = tm.cut_through(item, now, 9)
        if info is not None:
            cut += 1
            infos[item.tag] = info
            if tm.transmit(item.port, payload(item), now, hand_back=True):
                deliver(now, item.port, payload(item))
            elif tm.arrivals_waiting():  # else it is on a wire: its deadline delivers it
                service(now)
            continue
        tm.enqueue(item, now, 9)
        service(now)
    until(10**15)
    return out, cut


def configured(priorities: int, depth: int, bps: float | None, pps: float | None,
               queue_pps: float | None, delay_ns: int, depth_bytes: int | None) -> TrafficManager:
    tm = TrafficManager(priority_queues=priorities, queue_depth=depth)
    for port in (1, 2):
        tm.set_port_rate(port, bps, pps if port == 1 else None)
        tm.set_port_delay(port, delay_ns if port == 2 else 0)
    if queue_pps is not None:
        tm.set_queue_rate(queue_pps, port=1, priority=0)
    if depth_bytes is not None:
        tm.set_queue_bytes(depth_bytes, port=2)
    return tm


# Arrivals on a 0.1 ms grid, so that they often coincide with the departures the packet
# rates schedule (2 ms, 0.5 ms gaps): the order of same-instant events is checked too.
arrivals = st.lists(
    st.tuples(st.integers(0, 200).map(lambda t: t * 100_000), st.integers(1, 2),
              st.integers(0, 3), st.integers(60, 1500)),
    max_size=80,
).map(sorted)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(arrivals, st.integers(1, 3), st.integers(1, 8),
       st.sampled_from([None, 1e6, 100e6, 10e9]), st.sampled_from([None, 500.0, 1e5]),
       st.sampled_from([None, 2000.0]), st.sampled_from([0, 50_000, 2 * MS]),
       st.sampled_from([None, 1000, 3000]))
def test_fast_path_gives_what_the_queues_give(events, priorities, depth, bps, pps, queue_pps,
                                              delay_ns, depth_bytes):
    items = [(t, Item(port, prio, length, i)) for i, (t, port, prio, length) in enumerate(events)]
    slow_tm = configured(priorities, depth, bps, pps, queue_pps, delay_ns, depth_bytes)
    fast_tm = configured(priorities, depth, bps, pps, queue_pps, delay_ns, depth_bytes)
    slow, _ = drive(slow_tm, items, fast=False)
    fast, _ = drive(fast_tm, items, fast=True)
    assert fast == slow
    assert fast_tm.stats() == slow_tm.stats()


@settings(max_examples=120, deadline=None, derandomize=True)
@given(arrivals, st.sets(st.integers(0, 79)), st.sampled_from([None, 100e6, 1e9]),
       st.sampled_from([None, 500.0]), st.sampled_from([0, 50_000]))
def test_a_late_turn_gives_what_the_queues_give(events, late, bps, pps, delay_ns):
    """Deliveries due before a late turn's arrivals (the wire of a 1 Gb/s link): the fast
    path delivers them first and then cuts through; the queue path, the same."""
    items = [(t, Item(port, prio, length, i)) for i, (t, port, prio, length) in enumerate(events)]
    slow_tm = configured(2, 8, bps, pps, None, delay_ns, None)
    fast_tm = configured(2, 8, bps, pps, None, delay_ns, None)
    slow, _ = drive(slow_tm, items, fast=False, late=frozenset(late))
    fast, _ = drive(fast_tm, items, fast=True, late=frozenset(late))
    assert fast == slow
    assert fast_tm.stats() == slow_tm.stats()


def test_a_late_turn_delivers_the_wire_then_cuts_through():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000_000)  # 1000-byte frame = 1 ms on the wire
    tm.port(2)
    out, cut = drive(tm, [(0, Item(1, 0, 1000, 0)), (3 * MS, Item(2, 0, 100, 1))], fast=True,
                     late=frozenset({1}))
    assert cut == 2  # the frame due at 1 ms kept nothing from the fast path
    assert [(t, port, tag) for t, port, tag, _ in out] == [(3 * MS, 1, 0), (3 * MS, 2, 1)]


def test_a_late_turn_leaves_queued_packets_to_the_queue_path():
    """A packet queued behind a packet rate fell due before a late turn's arrival: the
    turn enqueues the arrival first on both paths (it has the higher priority and leaves
    first), as the queue path always did."""
    def tm() -> TrafficManager:
        t = TrafficManager(priority_queues=2)
        t.set_port_rate(1, 8_000_000, pps=500)  # 100 bytes = 0.1 ms on the wire; a departure per 2 ms
        return t

    items = [(0, Item(1, 0, 100, 0)), (0, Item(1, 0, 100, 1)), (3 * MS, Item(1, 1, 100, 2))]
    slow, _ = drive(tm(), items, fast=False, late=frozenset({2}))
    fast, _ = drive(tm(), items, fast=True, late=frozenset({2}))
    # the first frame's wire was due too (at 0.1 ms): still not a reason to touch the queues
    assert [(t, tag) for t, _, tag, _ in slow] == [(3 * MS, 0), (3 * MS + MS // 10, 2), (5 * MS + MS // 10, 1)]
    assert fast == slow


def test_an_idle_unlimited_port_takes_the_fast_path_with_empty_queue_metadata():
    tm = TrafficManager()
    tm.port(1)
    out, cut = drive(tm, [(i * 1000, Item(1, 0, 100, i)) for i in range(5)], fast=True)
    assert cut == 5
    assert out == [(i * 1000, 1, i, QueueInfo(i, 0, 0, 0)) for i in range(5)]


def test_a_packet_due_elsewhere_at_the_same_instant_goes_first_on_both_paths():
    def tm() -> TrafficManager:
        t = TrafficManager()
        t.set_port_rate(1, pps=500)  # port 1: one departure per 2 ms
        t.port(2)
        return t

    # Port 1's second packet is due at 2 ms, when a packet for the idle port 2 arrives.
    items = [(0, Item(1, 0, 100, 0)), (0, Item(1, 0, 100, 1)), (2 * MS, Item(2, 0, 100, 2))]
    slow, _ = drive(tm(), items, fast=False)
    fast, cut = drive(tm(), items, fast=True)
    assert [tag for _, _, tag, _ in slow] == [0, 1, 2]
    assert fast == slow and cut == 1


def test_hand_back_keeps_a_frame_behind_one_due_before_it():
    tm = TrafficManager()
    tm.set_port_delay(1, MS)
    tm.transmit(1, b"first", 0)  # on the wire until 1 ms
    tm.set_port_delay(1, 0)
    assert not tm.transmit(1, b"second", 2 * MS, hand_back=True)
    assert tm.poll(2 * MS)[1] == [(1, b"first"), (1, b"second")]
    assert tm.transmit(1, b"third", 3 * MS, hand_back=True)
    assert tm.poll(3 * MS) == ([], [])


def test_a_queue_with_packets_or_a_busy_link_takes_the_queue_path():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000_000)  # 1000-byte frame = 1 ms on the wire
    out, cut = drive(tm, [(0, Item(1, 0, 1000, 0)), (0, Item(1, 0, 1000, 1)),
                          (5 * MS, Item(1, 0, 1000, 2))], fast=True)
    assert cut == 2  # the first (idle TM) and the third (the link free again)
    assert [(t, tag, info.enq_qdepth) for t, _, tag, info in out] == \
        [(MS, 0, 0), (2 * MS, 1, 0), (6 * MS, 2, 0)]
    # The second waited behind the first on the wire: its queue saw it alone, for 1 ms.
    assert out[1][3] == QueueInfo(0, 0, 0, 1000)


def test_a_packet_from_a_lossless_port_takes_the_queue_path_until_pfc_is_off():
    """PFC counts a packet's bytes against its ingress port while it is queued: the fast
    path, which queues nothing, is for ports without PFC only."""
    tm = TrafficManager(priority_queues=2)
    tm.port(1)
    tm.enable_pfc(9, 1, xoff_bytes=3000, xon_bytes=1000, headroom_bytes=1000)
    assert tm.cut_through(Item(1, 1, 100, 0), 0, 9) is None
    assert tm.cut_through(Item(1, 1, 100, 0), 0, 8) == QueueInfo(0, 0, 0, 0)  # another ingress
    tm.disable_pfc(9, 1)
    assert tm.cut_through(Item(1, 1, 100, 1), 1000, 9) == QueueInfo(1, 0, 0, 0)
