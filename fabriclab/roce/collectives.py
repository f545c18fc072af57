"""Collectives over N ranks as sans-I/O schedules that move real numpy data.

A schedule says what to put where (`Put(dst, tag, data)`) when it starts and whenever data
arrives (`on_data(src, tag, data)`); it knows nothing of queue pairs. The host runtime
(`rank.py`) turns each Put into an RDMA WRITE with immediate.

Ring algorithms follow NCCL: the buffer of `count` elements is cut into N equal chunks
(count is rounded down to a multiple of N, as nccl-tests does); in reduce-scatter step s
rank r sends chunk (r-s-1) mod N to rank r+1 and reduces the chunk (r-s-2) mod N it gets
from rank r-1, so after N-1 steps it holds the reduced chunk r; all-gather step s sends
chunk (r-s) and stores chunk (r-s-1). All-reduce is the two back to back: 2(N-1) steps of
S/N bytes each. The direct kinds put data straight where it goes: all-to-all sends chunk j
to rank j; gather sends every rank's chunk to rank 0 (an incast); scatter sends chunk j of
rank 0's buffer to rank j; sendrecv sends the whole buffer to rank r+1 (nccl-tests'
sendrecv_perf, bus factor 1).

Inputs are small integers (exact in float32 for sums and products over any rank count we
run), so every rank can compute the exact expected output and count wrong elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fabriclab.errors import FabricError

RING_KINDS = ("allreduce", "allgather", "reducescatter")
DIRECT_KINDS = ("alltoall", "gather", "scatter", "sendrecv")
KINDS = RING_KINDS + DIRECT_KINDS
ROOT = 0  # of gather and scatter
DTYPES = {"float": np.float32, "float32": np.float32, "int": np.int32, "int32": np.int32,
          "double": np.float64, "float64": np.float64, "int64": np.int64}
OPS = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
BUS_FACTOR = {"allreduce": lambda n: 2 * (n - 1) / n, "allgather": lambda n: (n - 1) / n,
              "reducescatter": lambda n: (n - 1) / n, "alltoall": lambda n: (n - 1) / n,
              "gather": lambda n: (n - 1) / n, "scatter": lambda n: (n - 1) / n, "sendrecv": lambda n: 1.0}


@dataclass(frozen=True)
class Put:
    dst: int
    tag: int
    data: bytes


@dataclass(frozen=True)
class CollectiveSpec:
    """What to run: `size` is the full buffer in bytes (all-gather: the gathered output)."""

    kind: str
    nranks: int
    size: int
    dtype: str = "float"
    op: str = "sum"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FabricError(f"unknown collective {self.kind!r} (choose from {', '.join(KINDS)})")
        if self.dtype not in DTYPES:
            raise FabricError(f"unknown data type {self.dtype!r} (choose from {', '.join(DTYPES)})")
        if self.op not in OPS:
            raise FabricError(f"unknown reduction {self.op!r} (choose from {', '.join(OPS)})")
        if self.nranks < 1:
            raise FabricError("a collective needs at least one rank")
        if self.count < self.nranks:
            raise FabricError(f"size {self.size} B is too small for {self.nranks} ranks of {self.dtype}")

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(DTYPES[self.dtype])

    @property
    def count(self) -> int:
        """Elements in the full buffer, a multiple of the rank count."""
        return self.size // self.np_dtype.itemsize // self.nranks * self.nranks

    @property
    def chunk(self) -> int:
        return self.count // self.nranks

    @property
    def bytes(self) -> int:
        return self.count * self.np_dtype.itemsize

    @property
    def max_message(self) -> int:
        """Bytes of the largest single put (sendrecv moves the whole buffer at once)."""
        return self.bytes if self.kind == "sendrecv" else self.chunk * self.np_dtype.itemsize

    @property
    def bus_factor(self) -> float:
        return BUS_FACTOR[self.kind](self.nranks)


def rank_input(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """Rank `rank`'s input buffer: small integers that vary by rank and element."""
    n = spec.chunk if spec.kind in ("allgather", "gather") else spec.count
    i = np.arange(n, dtype=np.int64)
    return (((rank * 7 + i * 3 + (rank + 1) * (i // 5)) % 5) - 2).astype(spec.np_dtype)


@lru_cache(maxsize=64)
def expected_output(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """What rank `rank` must end with (cached: every iteration checks against it; read-only)."""
    inputs = [rank_input(spec, r) for r in range(spec.nranks)]
    c = spec.chunk
    if spec.kind == "allgather" or (spec.kind == "gather" and rank == ROOT):
        return np.concatenate(inputs)
    if spec.kind == "gather":
        return inputs[rank]
    if spec.kind == "scatter":
        return inputs[ROOT][rank * c:(rank + 1) * c]
    if spec.kind == "sendrecv":
        return inputs[(rank - 1) % spec.nranks]
    if spec.kind == "alltoall":
        return np.concatenate([x[rank * c:(rank + 1) * c] for x in inputs])
    out = inputs[0].copy()
    for x in inputs[1:]:
        OPS[spec.op](out, x, out=out)
    return out[rank * c:(rank + 1) * c] if spec.kind == "reducescatter" else out


def count_wrong(spec: CollectiveSpec, rank: int, output: np.ndarray) -> int:
    want = expected_output(spec, rank)
    if output.shape != want.shape:
        return int(want.size)
    return int(np.count_nonzero(output != want))


class Collective:
    """One rank's part in one collective operation."""

    def __init__(self, spec: CollectiveSpec, rank: int, data: np.ndarray | None = None) -> None:
        if not 0 <= rank < spec.nranks:
            raise FabricError(f"rank {rank} is outside 0..{spec.nranks - 1}")
        self.spec, self.rank = spec, rank
        n, c = spec.nranks, spec.chunk
        src = rank_input(spec, rank) if data is None else data
        if spec.kind == "allgather":
            self.buf = np.zeros(spec.count, spec.np_dtype)
            self.buf[rank * c:(rank + 1) * c] = src
        else:
            self.buf = np.array(src, dtype=spec.np_dtype, copy=True)
        if spec.kind in DIRECT_KINDS:
            self._steps: list[str] = []
            self._plan_direct()
        else:
            rs, ag = ["reduce"] * (n - 1), ["copy"] * (n - 1)
            self._steps = {"allreduce": rs + ag, "reducescatter": rs, "allgather": ag}[spec.kind]
            self._pending = len(self._steps)
        self._sent = 0
        self._received: set[int] = set()

    @property
    def done(self) -> bool:
        return self._pending == 0 and self._sent == len(self._steps)

    def _plan_direct(self) -> None:
        """What a direct kind sends at the start, how many puts it waits for, and where they land."""
        kind, n, c, r, buf = self.spec.kind, self.spec.nranks, self.spec.chunk, self.rank, self.buf

        def chunk(j: int) -> bytes:
            return buf[j * c:(j + 1) * c].tobytes()

        self._sends: list[Put] = []
        self._pending = 0
        self.out = buf
        if kind == "alltoall":
            self._sends = [Put(j, 0, chunk(j)) for j in self._peers_from(r + 1)]
            self._pending = n - 1
            self.out = np.zeros(self.spec.count, self.spec.np_dtype)
            self.out[r * c:(r + 1) * c] = buf[r * c:(r + 1) * c]
        elif kind == "gather" and r != ROOT:
            self._sends = [Put(ROOT, 0, buf.tobytes())]
        elif kind == "gather":
            self._pending = n - 1
            self.out = np.zeros(self.spec.count, self.spec.np_dtype)
            self.out[r * c:(r + 1) * c] = buf
        elif kind == "scatter" and r == ROOT:
            self._sends = [Put(j, 0, chunk(j)) for j in self._peers_from(r + 1)]
            self.out = buf[r * c:(r + 1) * c]
        elif kind == "scatter":
            self._pending = 1
            self.out = np.zeros(c, self.spec.np_dtype)
        elif n > 1:  # sendrecv
            self._sends = [Put((r + 1) % n, 0, buf.tobytes())]
            self._pending = 1
            self.out = np.zeros(self.spec.count, self.spec.np_dtype)

    def _place_direct(self, src: int, incoming: np.ndarray) -> None:
        c, kind = self.spec.chunk, self.spec.kind
        expected = self.spec.count if kind == "sendrecv" else c
        if incoming.size != expected or self._pending == 0:
            raise FabricError(f"rank {self.rank}: unexpected {incoming.size} elements from rank {src}")
        slot = 0 if kind in ("scatter", "sendrecv") else src
        self.out[slot * c:slot * c + incoming.size] = incoming
        self._pending -= 1

    def output(self) -> np.ndarray:
        c, r = self.spec.chunk, self.rank
        if self.spec.kind in DIRECT_KINDS:
            return self.out
        if self.spec.kind == "reducescatter":
            return self.buf[r * c:(r + 1) * c]
        return self.buf

    def start(self) -> list[Put]:
        if self.spec.kind in DIRECT_KINDS:
            return self._sends
        return self._advance()

    def on_data(self, src: int, tag: int, data: bytes) -> list[Put]:
        incoming = np.frombuffer(data, dtype=self.spec.np_dtype)
        if self.spec.kind in DIRECT_KINDS:
            self._place_direct(src, incoming)
            return []
        c, n = self.spec.chunk, self.spec.nranks
        if incoming.size != c:
            raise FabricError(f"rank {self.rank}: got {incoming.size} elements from rank {src}, expected {c}")
        if tag in self._received or not 0 <= tag < len(self._steps) or src != (self.rank - 1) % n:
            raise FabricError(f"rank {self.rank}: unexpected step {tag} from rank {src}")
        reduce = self._steps[tag] == "reduce"
        k = (self.rank - self._ring_step(tag) - 1 - reduce) % n
        view = self.buf[k * c:(k + 1) * c]
        if reduce:
            OPS[self.spec.op](view, incoming, out=view)
        else:
            view[:] = incoming
        self._received.add(tag)
        self._pending -= 1
        return self._advance()

    def _ring_step(self, t: int) -> int:
        """Step index within its phase (reduce-scatter steps come first in all-reduce)."""
        n = self.spec.nranks
        return t - (n - 1) if self.spec.kind == "allreduce" and t >= n - 1 else t

    def _advance(self) -> list[Put]:
        puts = []
        n, c = self.spec.nranks, self.spec.chunk
        while self._sent < len(self._steps) and (self._sent == 0 or self._sent - 1 in self._received):
            t = self._sent
            reduce = self._steps[t] == "reduce"
            k = (self.rank - self._ring_step(t) - reduce) % n
            puts.append(Put((self.rank + 1) % n, t, self.buf[k * c:(k + 1) * c].tobytes()))
            self._sent += 1
        return puts

    def _peers_from(self, first: int) -> list[int]:
        n = self.spec.nranks
        return [(first + i) % n for i in range(n - 1)]
