"""Traffic manager under a virtual clock: rate, priority, depth/drops, delay, qdepth values."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from fabriclab.switch.tm import TrafficManager

MS = 1_000_000  # ns


class Item(NamedTuple):
    port: int
    qid: int
    length: int
    tag: int = 0


def run(tm: TrafficManager, until_ns: int, arrivals=()):
    """Drive the TM like the real driver does, jumping the clock from deadline to deadline.

    ``arrivals`` is a sorted list of (time_ns, Item). Returns the deliveries as
    (time_ns, port, tag, QueueInfo) with the packet bytes standing in for the item's tag.
    """
    arrivals = list(arrivals)
    infos = {}
    out = []
    now = 0
    while now <= until_ns:
        while arrivals and arrivals[0][0] <= now:
            tm.enqueue(arrivals.pop(0)[1], now)
        while True:
            deps, dels = tm.poll(now)
            for dep in deps:
                infos[dep.item.tag] = dep.queue
                data = dep.item.tag.to_bytes(4, "big") + bytes(dep.item.length - 4)
                tm.transmit(dep.item.port, data, dep.time_ns)
            for port, data in dels:
                tag = int.from_bytes(data[:4], "big")
                out.append((now, port, tag, infos[tag]))
            if not deps and not dels:
                break
        candidates = [t for t in (tm.next_deadline_ns(), arrivals[0][0] if arrivals else None) if t is not None]
        if not candidates:
            break
        now = max(min(candidates), now + 1)
    return out


def test_unlimited_port_forwards_immediately_and_reports_empty_queue():
    tm = TrafficManager()
    out = run(tm, MS, [(0, Item(1, 0, 100, 7))])
    assert [(t, p, tag) for t, p, tag, _ in out] == [(0, 1, 7)]
    assert out[0][3] == (0, 0, 0, 0)


def test_bit_rate_spaces_frames_by_serialisation_time():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000_000)  # 1000-byte frame = 1 ms on the wire
    out = run(tm, 100 * MS, [(0, Item(1, 0, 1000, i)) for i in range(5)])
    assert [t for t, *_ in out] == [1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS]


def test_packet_rate_limits_dequeues_per_second():
    tm = TrafficManager()
    tm.set_queue_rate(1000, port=2)  # BMv2 set_queue_rate: pps
    out = run(tm, 100 * MS, [(0, Item(2, 0, 64, i)) for i in range(4)])
    assert [t for t, *_ in out] == [0, 1 * MS, 2 * MS, 3 * MS]


def test_port_packet_rate_is_shared_by_all_queues():
    tm = TrafficManager(priority_queues=2)
    tm.set_port_rate(2, pps=1000)
    out = run(tm, 100 * MS, [(0, Item(2, i % 2, 64, i)) for i in range(4)])
    assert [t for t, *_ in out] == [0, 1 * MS, 2 * MS, 3 * MS]


def test_delay_is_added_without_blocking_the_queue():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000_000)
    tm.set_port_delay(1, 20 * MS)
    out = run(tm, 100 * MS, [(0, Item(1, 0, 1000, i)) for i in range(3)])
    # Serialisation still paces at 1 ms; each frame then takes 20 ms more.
    assert [t for t, *_ in out] == [21 * MS, 22 * MS, 23 * MS]


def test_full_queue_drops_and_counts():
    tm = TrafficManager(queue_depth=3)
    tm.set_port_rate(1, 8_000_000)
    accepted = [tm.enqueue(Item(1, 0, 1000, i), 0) for i in range(5)]
    assert accepted == [True, True, True, False, False]
    assert tm.port(1).drops == 2
    assert tm.stats()[1]["queues"][0]["drops"] == 2


def test_byte_depth_limit_drops_what_does_not_fit():
    tm = TrafficManager()
    tm.set_queue_bytes(2500, port=1)
    accepted = [tm.enqueue(Item(1, 0, 1000, i), 0) for i in range(3)]
    assert accepted == [True, True, False]


def test_strict_priority_serves_the_highest_priority_first():
    """simple_switch: standard_metadata.priority p -> queue p, the highest p served first."""
    tm = TrafficManager(priority_queues=3)
    tm.set_port_rate(1, 8_000_000)
    arrivals = [(0, Item(1, 0, 1000, 1)), (0, Item(1, 0, 1000, 2)),
                (0, Item(1, 2, 1000, 3)), (0, Item(1, 1, 1000, 4))]
    out = run(tm, 100 * MS, arrivals)
    # All four are queued before the first poll, so priority decides from the start.
    assert [tag for _, _, tag, _ in out] == [3, 4, 1, 2]


def test_a_busy_high_priority_queue_starves_the_others():
    tm = TrafficManager(priority_queues=2)
    tm.set_port_rate(1, 8_000_000)  # 1 ms per frame
    arrivals = [(0, Item(1, 0, 1000, 100))] + [(i * MS // 2, Item(1, 1, 1000, i))
                                               for i in range(10)]
    out = run(tm, 100 * MS, arrivals)
    order = [tag for _, _, tag, _ in out]
    assert order.index(100) >= 5  # the priority-0 frame waits while queue 1 has packets


def test_priority_without_a_queue_is_dropped_and_counted():
    tm = TrafficManager(priority_queues=2)
    assert not tm.enqueue(Item(1, 7, 100), 0)
    assert tm.port(1).priority_drops == 1 and tm.port(1).drops == 1
    assert tm.poll(0) == ([], [])


def test_per_queue_rate_limits_only_that_priority():
    tm = TrafficManager(priority_queues=2)
    tm.set_queue_rate(1000, port=1, priority=1)  # 1 ms between priority-1 departures
    arrivals = [(0, Item(1, 1, 100, i)) for i in range(3)] + [(0, Item(1, 0, 100, 10 + i))
                                                             for i in range(3)]
    out = run(tm, 100 * MS, arrivals)
    times = {tag: t for t, _, tag, _ in out}
    assert [times[i] for i in range(3)] == [0, MS, 2 * MS]
    assert all(times[10 + i] < MS for i in range(3))  # priority 0 fills the gaps
    assert [q.rate_pps for q in tm.port(1).queues] == [None, 1000]  # the priority's own queue


def test_set_queue_rate_without_priority_sets_every_queue_and_new_ports():
    tm = TrafficManager(priority_queues=2)
    tm.port(1)
    tm.set_queue_rate(500, port=1)
    assert [q.rate_pps for q in tm.port(1).queues] == [500, 500]
    tm.set_queue_rate(200)
    assert [q.rate_pps for q in tm.port(9).queues] == [200, 200]


def test_qdepth_and_timedelta_seen_at_dequeue():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000_000)  # 1 ms per 1000-byte frame
    out = run(tm, 100 * MS, [(0, Item(1, 0, 1000, i)) for i in range(4)])
    infos = [info for *_, info in out]
    assert [i.enq_qdepth for i in infos] == [0, 1, 2, 3]
    assert [i.deq_qdepth for i in infos] == [3, 2, 1, 0]
    assert [i.deq_timedelta for i in infos] == [0, 1000, 2000, 3000]  # microseconds
    assert all(i.enq_timestamp == 0 for i in infos)


def test_qdepth_counts_the_packet_s_own_priority_queue():
    tm = TrafficManager(priority_queues=2)
    tm.set_port_rate(1, 8_000)  # slow: nothing leaves during the test
    for i in range(3):
        tm.enqueue(Item(1, 0, 1000, i), 0)
    tm.enqueue(Item(1, 1, 1000, 9), 0)
    deps, _ = tm.poll(0)
    assert deps[0].item.tag == 9
    assert (deps[0].queue.enq_qdepth, deps[0].queue.deq_qdepth) == (0, 0)


def test_queue_builds_when_offered_load_exceeds_rate():
    tm = TrafficManager(queue_depth=1000)
    tm.set_port_rate(1, 8_000_000)  # 1000 frames/s of 1000 bytes
    arrivals = [(i * MS // 2, Item(1, 0, 1000, i)) for i in range(200)]  # 2000 frames/s
    out = run(tm, 10_000 * MS, arrivals)
    depths = [info.enq_qdepth for *_, info in out]
    assert depths[-1] > 90 and depths[:5] == sorted(depths[:5])
    assert len(out) == 200
    assert out[-1][0] == 200 * MS  # the link was never idle once the queue formed


def test_ports_are_independent():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000)  # 1 s per frame
    out = run(tm, 3000 * MS, [(0, Item(1, 0, 1000, 1)), (0, Item(2, 0, 1000, 2))])
    assert [(t, p) for t, p, *_ in out] == [(0, 2), (1000 * MS, 1)]


def test_shrinking_delay_never_reorders_the_link():
    tm = TrafficManager()
    tm.set_port_delay(1, 10 * MS)
    tm.transmit(1, b"a", 0)
    tm.set_port_delay(1, 0)
    tm.transmit(1, b"b", 1)
    assert tm.poll(1)[1] == []
    assert tm.next_deadline_ns() == 10 * MS
    assert [d for _, d in tm.poll(10 * MS)[1]] == [b"a", b"b"]


@pytest.mark.parametrize("call", [
    lambda tm: tm.set_port_rate(1, 0),
    lambda tm: tm.set_queue_rate(-5, 1),
    lambda tm: tm.set_queue_depth(0),
    lambda tm: tm.set_port_delay(1, -1),
    lambda tm: tm.set_queue_depth(10, 1, priority=4),
    lambda tm: tm.set_queue_bytes(0, 1),
])
def test_bad_settings_are_refused(call):
    with pytest.raises(ValueError):
        call(TrafficManager(priority_queues=2))


def test_set_queue_depth_for_all_ports_also_sets_the_default():
    tm = TrafficManager()
    tm.port(1)
    tm.set_queue_depth(5)
    assert tm.port(1).queues[0].depth_pkts == 5
    assert tm.port(9).queues[0].depth_pkts == 5


def test_late_polls_do_not_slow_a_backlogged_link():
    """A driver that wakes up to 0.9 ms late (epoll's granularity) still gets the full rate."""
    tm = TrafficManager(queue_depth=100)
    tm.set_port_rate(1, 8_000_000)  # 1 ms per 1000-byte frame
    for i in range(50):
        tm.enqueue(Item(1, 0, 1000, i), 0)
    now, sent = 0, 0
    while sent < 50:
        deps, _ = tm.poll(now)
        for dep in deps:
            tm.transmit(1, bytes(1000), dep.time_ns)
            sent += 1
        now = tm.next_deadline_ns() + 900_000
    assert tm.port(1).link_free_ns == 50 * MS


def test_clear_queues_drops_everything_queued():
    tm = TrafficManager()
    tm.set_port_rate(1, 8_000)
    for i in range(3):
        tm.enqueue(Item(1, 0, 1000, i), 0)
    tm.clear_queues()
    assert tm.poll(0) == ([], []) and tm.next_deadline_ns() is None
