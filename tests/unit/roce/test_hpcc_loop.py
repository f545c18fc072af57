"""HPCC closed loop on the switch's traffic manager (virtual clock): four line-rate senders
share one 100 Gb/s port; the port's INT record (queue bytes, tx bytes, timestamp, rate) at
each departure comes back in the ACK. HPCC should hold the port near eta with a queue near
zero, where the same senders without congestion control build a standing queue."""

from __future__ import annotations

import heapq
import itertools
from typing import NamedTuple

from fabriclab.roce.hpcc import HopTelemetry, HpccParams, HpccReactionPoint
from fabriclab.switch.tm import TrafficManager

RATE = 100e9
PKT = 1000
TO_SWITCH, TO_RECEIVER, ACK_BACK = 3_000, 1_000, 4_000  # ns one way
BASE_RTT = TO_SWITCH + PKT * 8 * 1e9 / RATE + TO_RECEIVER + ACK_BACK  # 8080 ns


class Item(NamedTuple):
    port: int
    qid: int
    length: int
    flow: int
    seq_end: int


class Flow:
    def __init__(self, rp: HpccReactionPoint | None):
        self.rp = rp
        self.next_seq = self.acked = 0
        self.next_send = 0.0
        self.waiting = False  # window-limited: the next ACK restarts it

    @property
    def rate(self) -> float:
        return self.rp.rate if self.rp else RATE

    def may_send(self) -> bool:
        return self.rp.can_send(self.next_seq - self.acked) if self.rp else True


def run(flows: list[Flow], until: int) -> tuple[list[tuple[int, int]], int]:
    """Returns (time, queue bytes) at each departure and the port's tx bytes by ``until``."""
    tm = TrafficManager(queue_depth=10**6)
    tm.set_port_rate(1, RATE)
    tm.set_port_delay(1, TO_RECEIVER)
    events: list = []
    n = 0

    def at(t, kind, *args):
        nonlocal n
        n += 1
        heapq.heappush(events, (int(t), n, kind, args))

    for f in range(len(flows)):
        at(0, "send", f)
    queue, sent_items, tm_wake, tags = [], {}, None, itertools.count()
    while events and events[0][0] <= until:
        now, _, kind, args = heapq.heappop(events)
        if kind == "send":
            flow = flows[args[0]]
            if not flow.may_send():
                flow.waiting = True
                continue
            flow.next_seq += PKT
            at(now + TO_SWITCH, "arrive", Item(1, 0, PKT, args[0], flow.next_seq))
            flow.next_send = max(flow.next_send, now) + PKT * 8e9 / flow.rate
            at(flow.next_send, "send", args[0])
        elif kind == "arrive":
            tm.enqueue(args[0], now)
        elif kind == "ack":
            f, seq_end, hop = args
            flow = flows[f]
            flow.acked = max(flow.acked, seq_end)
            if flow.rp:
                flow.rp.on_ack(now, seq_end, flow.next_seq, [hop])
            if flow.waiting:
                flow.waiting = False
                at(now, "send", f)
        while True:  # the switch: departures carry the port's INT record
            deps, dels = tm.poll(now)
            for dep in deps:
                port = tm.port(1)
                tag = next(tags)
                tm.transmit(1, tag.to_bytes(4, "big") + bytes(PKT - 4), dep.time_ns)
                queue.append((dep.time_ns, port.queues[0].nbytes))
                hop = HopTelemetry(1, 1, port.queues[0].nbytes, port.tx_bytes % (1 << 32),
                                   dep.time_ns % (1 << 32), int(RATE))
                sent_items[tag] = (dep.item, hop)
            for _, data in dels:
                item, hop = sent_items.pop(int.from_bytes(data[:4], "big"))
                at(now + ACK_BACK, "ack", item.flow, item.seq_end, hop)
            if not deps and not dels:
                break
        deadline = tm.next_deadline_ns()
        if deadline is not None and deadline != tm_wake:
            tm_wake = deadline
            at(max(deadline, now), "tm")
    return queue, tm.port(1).tx_bytes


def p99(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def test_hpcc_holds_the_bottleneck_near_eta_with_a_near_empty_queue():
    until, half = 1_000_000, 500_000  # 1 ms; measure the second half
    params = HpccParams(line_rate=RATE, base_rtt_ns=round(BASE_RTT))
    hpcc = [Flow(HpccReactionPoint(params)) for _ in range(4)]
    queue, _ = run(hpcc, until)
    late = [q for t, q in queue if t >= half]
    utilisation = len(late) * PKT * 8 / ((until - half) / 1e9) / RATE
    bdp = RATE / 8 * BASE_RTT / 1e9

    none = [Flow(None) for _ in range(4)]
    queue_none, _ = run(none, until)
    late_none = [q for t, q in queue_none if t >= half]
    print(f"\nHPCC 4:1 at 100 Gb/s: utilisation {utilisation:.3f}, p99 queue {p99(late)} B "
          f"(BDP {bdp:.0f} B); rates {[round(f.rate / 1e9, 1) for f in hpcc]} Gb/s; "
          f"no CC: p99 queue {p99(late_none)} B")
    assert 0.90 <= utilisation <= 1.0
    assert p99(late) < 0.1 * bdp  # near zero
    assert p99(late_none) > 10 * max(p99(late), PKT)
    total = sum(f.rate for f in hpcc)
    assert 0.85 * RATE <= total <= 1.05 * RATE
    assert max(f.rate for f in hpcc) < 1.5 * min(f.rate for f in hpcc)  # started equal, stay close
