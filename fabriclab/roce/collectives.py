"""Collectives over N ranks as sans-I/O schedules that move real numpy data.

A schedule says what to put where (`Put(dst, tag, data)`) when it starts and whenever data
arrives (`on_data(src, tag, data)`); it knows nothing of queue pairs. The host runtime
(`rank.py`) turns each Put into an RDMA WRITE with immediate.

Ring algorithms follow NCCL: the buffer of `count` elements is cut into N equal chunks
(count is rounded down to a multiple of N, as nccl-tests does); in reduce-scatter step s
rank r sends chunk (r-s-1) mod N to rank r+1 and reduces the chunk (r-s-2) mod N it gets
from rank r-1, so after N-1 steps it holds the reduced chunk r; all-gather step s sends
chunk (r-s) and stores chunk (r-s-1). All-reduce is the two back to back: 2(N-1) steps of
S/N bytes each. All-to-all puts chunk j straight to rank j.

Inputs are small integers (exact in float32 for sums and products over any rank count we
run), so every rank can compute the exact expected output and count wrong elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fabriclab.errors import FabricError

KINDS = ("allreduce", "allgather", "reducescatter", "alltoall")
DTYPES = {"float": np.float32, "float32": np.float32, "int": np.int32, "int32": np.int32,
          "double": np.float64, "float64": np.float64, "int64": np.int64}
OPS = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
BUS_FACTOR = {"allreduce": lambda n: 2 * (n - 1) / n, "allgather": lambda n: (n - 1) / n,
              "reducescatter": lambda n: (n - 1) / n, "alltoall": lambda n: (n - 1) / n}


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
    def bus_factor(self) -> float:
        return BUS_FACTOR[self.kind](self.nranks)


def rank_input(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """Rank `rank`'s input buffer: small integers that vary by rank and element."""
    n = spec.chunk if spec.kind == "allgather" else spec.count
    i = np.arange(n, dtype=np.int64)
    return (((rank * 7 + i * 3 + (rank + 1) * (i // 5)) % 5) - 2).astype(spec.np_dtype)


@lru_cache(maxsize=64)
def expected_output(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """What rank `rank` must end with (cached: every iteration checks against it; read-only)."""
    inputs = [rank_input(spec, r) for r in range(spec.nranks)]
    c = spec.chunk
    if spec.kind == "allgather":
        return np.concatenate(inputs)
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
        if spec.kind == "alltoall":
            self.out = np.zeros(spec.count, spec.np_dtype)
            self.out[rank * c:(rank + 1) * c] = self.buf[rank * c:(rank + 1) * c]
            self._steps: list[str] = []
            self._pending = n - 1
        else:
            rs, ag = ["reduce"] * (n - 1), ["copy"] * (n - 1)
            self._steps = {"allreduce": rs + ag, "reducescatter": rs, "allgather": ag}[spec.kind]
            self._pending = len(self._steps)
        self._sent = 0
        self._received: set[int] = set()

    @property
    def done(self) -> bool:
        return self._pending == 0 and self._sent == len(self._steps)

    def output(self) -> np.ndarray:
        c, r = self.spec.chunk, self.rank
        if self.spec.kind == "alltoall":
            return self.out
        if self.spec.kind == "reducescatter":
            return self.buf[r * c:(r + 1) * c]
        return self.buf

    def start(self) -> list[Put]:
        if self.spec.kind == "alltoall":
            c = self.spec.chunk
            return [Put(j, 0, self.buf[j * c:(j + 1) * c].tobytes())
                    for j in self._peers_from(self.rank + 1)]
        return self._advance()

    def on_data(self, src: int, tag: int, data: bytes) -> list[Put]:
        incoming = np.frombuffer(data, dtype=self.spec.np_dtype)
        c, n = self.spec.chunk, self.spec.nranks
        if incoming.size != c:
            raise FabricError(f"rank {self.rank}: got {incoming.size} elements from rank {src}, expected {c}")
        if self.spec.kind == "alltoall":
            self.out[src * c:(src + 1) * c] = incoming
            self._pending -= 1
            return []
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
