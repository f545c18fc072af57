"""The in-network all-reduce worker engine against a reference aggregator written here from
docs/aggregation.md (the P4 program itself is exercised by the STF and P4Runtime tests)."""

from __future__ import annotations

import heapq
import random

import numpy as np
import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.innet import (LANES, PACKET_BYTES, AggPacket, InnetConfig, InnetWorker,
                                  choose_scale, decode, encode, max_error, to_fixed,
                                  wrong_elements)

HOP_NS = 2_000


class ReferenceSwitch:
    """One aggregation switch (root) for all ranks: cells per (slot, set)."""

    def __init__(self, world: int):
        self.world = world
        self.cells: dict[tuple[int, int], dict] = {}
        self.replays = 0

    def receive(self, data: bytes) -> list[tuple[int | None, bytes]]:
        """(rank or None for everyone, packet) answers."""
        pkt = decode(data)
        cell = self.cells.setdefault((pkt.slot, pkt.ver), {"seq": -1})
        if pkt.seq > cell["seq"]:
            cell.update(seq=pkt.seq, bitmap=0, sums=np.zeros(LANES, np.int64), done=False)
        elif pkt.seq < cell["seq"]:
            return []
        bit = 1 << pkt.worker
        if cell["bitmap"] & bit:
            if cell["done"]:
                self.replays += 1
                return [(pkt.worker, self._result(pkt, cell))]
            return []
        cell["bitmap"] |= bit
        cell["sums"] = cell["sums"] + np.array(pkt.lanes, np.int64)
        if cell["bitmap"] == (1 << self.world) - 1:
            cell["done"] = True
            return [(None, self._result(pkt, cell))]
        return []

    @staticmethod
    def _result(pkt: AggPacket, cell: dict) -> bytes:
        lanes = cell["sums"].astype(np.uint32).view(np.int32)   # bit<32> wrap
        return encode(AggPacket(pkt.job, pkt.slot, pkt.seq, 0, pkt.world,
                                tuple(int(v) for v in lanes), True, pkt.ver, cell["bitmap"]))


def allreduce(buffers, loss=0.0, seed=1, pool=4, window=None, scale=None, rto_ns=50_000):
    """Run every rank to completion on a virtual clock; returns (workers, switch, max
    outstanding chunks seen)."""
    rng = random.Random(seed)
    world = len(buffers)
    workers = [InnetWorker(InnetConfig(7, r, world, pool, window, rto_ns, scale), b)
               for r, b in enumerate(buffers)]
    switch = ReferenceSwitch(world)
    events: list = []
    order = 0
    now = 0

    def send(dest, data):
        nonlocal order
        if rng.random() >= loss:
            heapq.heappush(events, (now + HOP_NS, order, dest, data))
            order += 1

    for r, w in enumerate(workers):
        for pkt in w.poll(now):
            send(("switch", r), pkt)
    peak = 0
    for _ in range(1_000_000):
        if all(w.done for w in workers):
            break
        timers = [t for t in (w.deadline() for w in workers) if t is not None]
        if events and (not timers or events[0][0] <= min(timers)):
            now, _, dest, data = heapq.heappop(events)
            if dest[0] == "switch":
                for rank, answer in switch.receive(data):
                    for r in ([rank] if rank is not None else range(world)):
                        send(("rank", r), answer)
            else:
                r = dest[1]
                for pkt in workers[r].receive(data, now):
                    send(("switch", r), pkt)
        else:
            now = min(timers)
            for r, w in enumerate(workers):
                for pkt in w.on_timer(now):
                    send(("switch", r), pkt)
        peak = max(peak, *(w.outstanding for w in workers))
    return workers, switch, peak


def test_int32_allreduce_is_exact_and_wraps_like_bit32():
    rng = np.random.default_rng(3)
    size = LANES * 12 + 7
    buffers = [rng.integers(-2**31, 2**31, size=size, dtype=np.int64).astype(np.int32)
               for _ in range(4)]
    workers, switch, peak = allreduce(buffers)
    expected = np.sum(np.stack(buffers).astype(np.int64), axis=0).astype(np.uint32).view(np.int32)
    for w in workers:
        assert wrong_elements(w.result(), expected) == 0
        assert w.stats.retransmitted == 0 and w.stats.results == w.chunks == 13
    assert peak <= 4
    assert switch.replays == 0


def test_float_allreduce_under_loss_completes_within_the_fixed_point_bound():
    rng = np.random.default_rng(5)
    world = 6
    buffers = [rng.normal(0, 10, size=LANES * 20 + 3).astype(np.float32) for _ in range(world)]
    scale = choose_scale(max(float(np.max(np.abs(b))) for b in buffers), world)
    workers, switch, _ = allreduce(buffers, loss=0.05, scale=scale, pool=8, window=6)
    exact = np.sum(np.stack(buffers).astype(np.float64), axis=0)
    # fixed point, plus one float32 step of the result
    bound = max_error(world, scale) + float(np.spacing(np.float32(np.max(np.abs(exact)))))
    for w in workers:
        assert w.result().dtype == np.float32
        assert wrong_elements(w.result(), exact, tolerance=bound) == 0
    assert sum(w.stats.retransmitted for w in workers) > 0
    assert switch.replays > 0   # someone lost a result and got it again from the slot


def test_window_bounds_outstanding_chunks_and_heavy_loss_still_completes():
    buffers = [np.full(LANES * 40, r + 1, dtype=np.int32) for r in range(3)]
    workers, _, peak = allreduce(buffers, loss=0.2, seed=9, pool=4, window=2)
    assert peak <= 2
    for w in workers:
        assert np.array_equal(w.result(), np.full(LANES * 40, 6, dtype=np.int32))


def test_chunk_waits_for_the_previous_user_of_its_slot():
    w = InnetWorker(InnetConfig(1, 0, 2, pool_size=2), np.arange(LANES * 5, dtype=np.int32))
    first = [decode(p) for p in w.poll(0)]
    assert [(p.seq, p.slot, p.ver) for p in first] == [(0, 0, 0), (1, 1, 0)]
    assert w.poll(0) == []                       # chunk 2 needs slot 0: chunk 0 is out
    done0 = AggPacket(1, 0, 0, 0, 2, first[0].lanes, is_result=True)
    (nxt,) = [decode(p) for p in w.receive(encode(done0), 10)]
    assert (nxt.seq, nxt.slot, nxt.ver) == (2, 0, 1)
    assert w.receive(encode(done0), 11) == [] and w.stats.duplicate_results == 1
    assert w.deadline() == 1_000_000
    assert [decode(p).seq for p in w.on_timer(1_000_000)] == [1]


def test_foreign_and_garbage_packets_are_ignored():
    w = InnetWorker(InnetConfig(1, 0, 2, pool_size=2), np.zeros(LANES, dtype=np.int32))
    w.poll(0)
    other_job = AggPacket(2, 0, 0, 0, 2, (5,) * LANES, is_result=True)
    contribution = AggPacket(1, 0, 0, 1, 2, (5,) * LANES)
    unsent = AggPacket(1, 1, 1, 0, 2, (5,) * LANES, is_result=True)
    for data in (encode(other_job), encode(contribution), encode(unsent), b"short"):
        assert w.receive(data, 1) == []
    assert w.stats.ignored == 4 and not w.done


def test_bad_input_is_a_clear_error():
    with pytest.raises(FabricError, match="rank 4 is outside the job"):
        InnetConfig(1, 4, 4, 8)
    with pytest.raises(FabricError, match="window must be 1..8"):
        InnetConfig(1, 0, 4, 8, window=9)
    with pytest.raises(FabricError, match="needs a fixed-point scale"):
        InnetWorker(InnetConfig(1, 0, 1, 8), np.zeros(4, np.float32))
    with pytest.raises(FabricError, match="do not fit int32"):
        to_fixed(np.array([1e6]), scale=2.0 ** 20)
    with pytest.raises(FabricError, match=f"need {PACKET_BYTES}"):
        decode(bytes(20))


def test_scale_leaves_headroom_for_the_sum():
    scale = choose_scale(100.0, 8)
    assert 8 * 100.0 * scale < 2 ** 30 <= 2 * 8 * 100.0 * scale
    assert max_error(8, scale) == 4 / scale
