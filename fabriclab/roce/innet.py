"""In-network all-reduce, the host side: a sans-I/O worker engine for fabric.p4's
aggregation (SwitchML-style slots, docs/aggregation.md).

A worker cuts its buffer into chunks of `LANES` int32 lanes. Chunk k goes to pool slot
k % pool_size in shadow set (k // pool_size) % 2, and may only be sent once the result of
chunk k - pool_size (the previous user of that slot) is back, which is what lets the switch
keep one set's result for stragglers while the other set aggregates. At most `window`
chunks are outstanding; each has its own retransmission timer, and a retransmission is
answered by the switch with the stored result, so loss costs one RTO, never a wrong sum.

Float buffers travel as int32 fixed point: x -> round(x * scale). Each contribution is off by
at most 0.5 / scale, so a sum of n ranks is within n * 0.5 / scale of the exact sum, as long
as |sum| * scale stays below 2**31 (else the lanes wrap: the switch adds as bit<32>).
`choose_scale` picks the largest power of two that keeps that margin.

Events in: `receive(data, now)`, `on_timer(now)`; packets out: the lists of UDP payloads
they and `poll(now)` return; `deadline()` says when the next timer is due. Times are
integer nanoseconds on the driver's clock.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from fabriclab.errors import FabricError

AGG_UDP_PORT = 9200      # fabric.p4's AGG_UDP_PORT (both UDP ports)
LANES = 256              # int32 lanes per packet (fabric.p4's agg_lanes_t): 1 KB
_HEADER = struct.Struct("!HHIBBBBI")   # job, slot, seq, worker, world, flags, rsvd, bitmap
PACKET_BYTES = _HEADER.size + 4 * LANES
RESULT, VER = 0x80, 0x40  # flag bits
INT32_RANGE = 2 ** 31


@dataclass(frozen=True)
class AggPacket:
    """One aggregation packet (the UDP payload): header and lanes (signed int32)."""

    job: int
    slot: int
    seq: int
    worker: int
    world: int
    lanes: tuple[int, ...]
    is_result: bool = False
    ver: int = 0
    bitmap: int = 0


def _wire(job: int, slot: int, seq: int, worker: int, world: int, lanes: np.ndarray,
          is_result: bool = False, ver: int = 0, bitmap: int = 0) -> bytes:
    flags = (RESULT if is_result else 0) | (VER if ver else 0)
    return (_HEADER.pack(job, slot, seq, worker, world, flags, 0, bitmap)
            + lanes.astype(np.int64).astype(np.uint32).astype(">u4").tobytes())


def encode(pkt: AggPacket) -> bytes:
    """Lanes are taken mod 2**32 (as the switch adds them)."""
    return _wire(pkt.job, pkt.slot, pkt.seq, pkt.worker, pkt.world,
                 np.asarray(pkt.lanes, dtype=np.int64), pkt.is_result, pkt.ver, pkt.bitmap)


def decode(data: bytes) -> AggPacket:
    if len(data) < PACKET_BYTES:
        raise FabricError(f"aggregation packet of {len(data)} bytes, need {PACKET_BYTES}")
    job, slot, seq, worker, world, flags, _, bitmap = _HEADER.unpack_from(data)
    lanes = tuple(np.frombuffer(data, ">i4", LANES, _HEADER.size).tolist())
    return AggPacket(job, slot, seq, worker, world, lanes, bool(flags & RESULT),
                     int(bool(flags & VER)), bitmap)


def choose_scale(max_abs: float, world: int) -> float:
    """Largest power of two such that world * max_abs * scale < 2**31 / 2 (a factor 2 of
    headroom for rounding); max_abs is the largest |element| any rank holds."""
    if world < 1:
        raise FabricError(f"world size must be >= 1, got {world}")
    if not math.isfinite(max_abs) or max_abs < 0:
        raise FabricError(f"cannot choose a fixed-point scale for max |x| = {max_abs}")
    if max_abs == 0:
        return float(2 ** 30)
    return math.ldexp(1.0, math.floor(math.log2(INT32_RANGE / 2 / (world * max_abs))))


def max_error(world: int, scale: float) -> float:
    """Worst-case |sum - exact sum| of fixed-point aggregation without overflow."""
    return world * 0.5 / scale


def to_fixed(values: np.ndarray, scale: float | None) -> np.ndarray:
    """int32 lanes: integers wrap to 32 bits, floats become round(x * scale)."""
    if scale is None:
        if not np.issubdtype(values.dtype, np.integer):
            raise FabricError("a float buffer needs a fixed-point scale")
        return values.astype(np.int64).astype(np.uint32).view(np.int32)
    scaled = np.rint(values.astype(np.float64) * scale)
    if np.any(np.abs(scaled) >= INT32_RANGE):
        raise FabricError(f"values up to {np.max(np.abs(values)):g} do not fit int32 at "
                          f"scale {scale:g}")
    return scaled.astype(np.int32)


def from_fixed(lanes: np.ndarray, scale: float | None, dtype: np.dtype) -> np.ndarray:
    if scale is None:
        return lanes.astype(np.int32).astype(dtype)
    return (lanes.astype(np.float64) / scale).astype(dtype)


def random_buffers(nranks: int, nbytes: int, seed: int) -> list[np.ndarray]:
    """Every rank's float32 buffer, N(0, 1), from one seed: any rank can build them all and
    so check its result. Floats, because the fixed-point path is the one that can go wrong."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, max(1, nbytes // 4)).astype(np.float32) for _ in range(nranks)]


def float_check(buffers: list[np.ndarray]) -> tuple[float, np.ndarray, float]:
    """(scale, exact sum, #wrong tolerance) of a float all-reduce of `buffers`: the
    fixed-point bound plus float32's rounding of the result."""
    world = len(buffers)
    scale = choose_scale(max(float(np.abs(b).max()) for b in buffers), world)
    exact = np.sum(np.stack(buffers).astype(np.float64), axis=0)
    return scale, exact, max_error(world, scale) + float(np.spacing(np.float32(np.abs(exact).max())))


def wrong_elements(result: np.ndarray, expected: np.ndarray, tolerance: float = 0.0) -> int:
    """Elements off by more than `tolerance` (nccl-tests' #wrong)."""
    if result.shape != expected.shape:
        return int(max(result.size, expected.size))
    diff = np.abs(result.astype(np.float64) - expected.astype(np.float64))
    return int(np.count_nonzero(~(diff <= tolerance)))


@dataclass(frozen=True)
class InnetConfig:
    """A worker's view of its job (the controller's AggJob gives job, world, pool)."""

    job: int
    rank: int
    world: int
    pool_size: int
    window: int | None = None     # outstanding chunks; default (and at most) the pool size
    rto_ns: int = 1_000_000
    scale: float | None = None    # fixed-point scale for float buffers
    seq_base: int = 0             # seq of chunk 0: a rank's next all-reduce on the same job
                                  # starts past its last one, so its cells count as newer

    def __post_init__(self) -> None:
        if not 1 <= self.world <= 255:
            raise FabricError(f"in-network all-reduce supports 1..255 ranks, got {self.world}")
        if not 0 <= self.rank < self.world:
            raise FabricError(f"rank {self.rank} is outside the job (ranks 0..{self.world - 1})")
        if not 1 <= self.pool_size <= 0xFFFF:
            raise FabricError(f"pool size must be 1..65535 slots, got {self.pool_size}")
        if self.window is not None and not 1 <= self.window <= self.pool_size:
            raise FabricError(f"window must be 1..{self.pool_size} (the pool size), "
                              f"got {self.window}")
        if self.rto_ns <= 0:
            raise FabricError(f"retransmission timeout must be > 0 ns, got {self.rto_ns}")
        if not 0 <= self.seq_base <= 0xFFFFFFFF:
            raise FabricError(f"seq base must fit 32 bits, got {self.seq_base}")
        if self.scale is not None and not self.scale > 0:
            raise FabricError(f"fixed-point scale must be > 0, got {self.scale}")


@dataclass
class InnetStats:
    sent: int = 0
    retransmitted: int = 0
    results: int = 0
    duplicate_results: int = 0
    ignored: int = 0          # not ours, not a result, or not decodable


@dataclass
class InnetWorker:
    """One rank's all-reduce of `buffer` through the switches."""

    config: InnetConfig
    buffer: np.ndarray
    stats: InnetStats = field(default_factory=InnetStats)

    def __post_init__(self) -> None:
        flat = np.ascontiguousarray(self.buffer).reshape(-1)
        self._dtype = flat.dtype
        self.chunks = max(1, -(-flat.size // LANES))
        lanes = np.zeros(self.chunks * LANES, dtype=np.int32)
        lanes[:flat.size] = to_fixed(flat, self.config.scale)
        self._size = flat.size
        self._lanes = lanes.reshape(self.chunks, LANES)
        self._result = np.zeros_like(self._lanes)
        self._done = np.zeros(self.chunks, dtype=bool)
        self._next = 0                          # next chunk never sent
        self._deadlines: dict[int, int] = {}    # outstanding chunk -> retransmission time
        self.window = self.config.window or self.config.pool_size

    # --- state ----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return bool(self._done.all())

    @property
    def outstanding(self) -> int:
        return len(self._deadlines)

    def deadline(self) -> int | None:
        return min(self._deadlines.values(), default=None)

    def result(self) -> np.ndarray:
        if not self.done:
            raise FabricError(f"rank {self.config.rank}: all-reduce not complete "
                              f"({int(self._done.sum())}/{self.chunks} chunks)")
        flat = self._result.reshape(-1)[:self._size]
        return from_fixed(flat, self.config.scale, self._dtype).reshape(self.buffer.shape)

    # --- packets out ----------------------------------------------------------------------
    def _packet(self, k: int) -> bytes:
        pool, seq = self.config.pool_size, self.config.seq_base + k
        return _wire(self.config.job, seq % pool, seq, self.config.rank, self.config.world,
                     self._lanes[k], ver=(seq // pool) % 2)

    def poll(self, now: int) -> list[bytes]:
        """New chunks the window and the slot rule allow now."""
        out = []
        pool = self.config.pool_size
        while (self._next < self.chunks and len(self._deadlines) < self.window
               and (self._next < pool or self._done[self._next - pool])):
            k = self._next
            self._next += 1
            self._deadlines[k] = now + self.config.rto_ns
            out.append(self._packet(k))
        self.stats.sent += len(out)
        return out

    def on_timer(self, now: int) -> list[bytes]:
        """Resend every outstanding chunk whose timer expired."""
        due = sorted(k for k, t in self._deadlines.items() if t <= now)
        for k in due:
            self._deadlines[k] = now + self.config.rto_ns
        self.stats.sent += len(due)
        self.stats.retransmitted += len(due)
        return [self._packet(k) for k in due]

    # --- packets in -----------------------------------------------------------------------
    def receive(self, data: bytes, now: int) -> list[bytes]:
        """Take a result; returns the chunks that became sendable."""
        try:
            pkt = decode(data)
        except FabricError:
            self.stats.ignored += 1
            return []
        k = pkt.seq - self.config.seq_base
        if pkt.job != self.config.job or not pkt.is_result or not 0 <= k < self._next \
                or pkt.seq % self.config.pool_size != pkt.slot:
            self.stats.ignored += 1
            return []
        if self._done[k]:
            self.stats.duplicate_results += 1
            return []
        self._result[k] = pkt.lanes
        self._done[k] = True
        self._deadlines.pop(k, None)
        self.stats.results += 1
        return self.poll(now)
