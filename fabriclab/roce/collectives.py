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

Hierarchical algorithms (`algo="hier"`, as NCCL runs them across NVLink and the network)
treat every `local` consecutive ranks as one domain (a scale-up domain, or a site) and rank
r % local as the domain's member on rail r % local. All-reduce is a ring reduce-scatter inside
the domain (rank r then holds the domain's sum of local chunk r % local), a ring all-reduce of
that chunk across domains among the ranks of the same rail, and a ring all-gather inside the
domain; only 1/local of the buffer crosses the domains. All-gather gathers along the rail
first (D-1 parts per rank cross the network, not n-1), then inside the domain. Each ring is a `_Ring` phase with its
own tag range; a phase's data that arrives before this rank reached that phase (another
source than the current ring's) waits for it. Hierarchical all-to-all is the direct one: which
NIC carries a put (scale-up inside the domain) is the rank's choice, not the schedule's.

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
ALGOS = ("ring", "hier")  # ring: the flat schedule of each kind (direct kinds: direct puts)
HIER_KINDS = ("allreduce", "allgather", "alltoall")
ROOT = 0  # of gather and scatter
INPUT_PERIOD = 25  # rank_input's elements repeat with this period (3i mod 5, and i // 5 mod 5)
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
    algo: str = "ring"
    local: int = 1  # ranks per domain (hier): rank r is in domain r // local, on rail r % local

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
        if self.algo not in ALGOS:
            raise FabricError(f"unknown algorithm {self.algo!r} (choose from {', '.join(ALGOS)})")
        if self.algo == "hier" and self.kind not in HIER_KINDS:
            raise FabricError(f"--algo hier runs {' and '.join(HIER_KINDS)}, not {self.kind}")
        if self.local < 1 or self.nranks % self.local:
            raise FabricError(f"domain size {self.local} does not divide {self.nranks} ranks")

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
    def domains(self) -> int:
        return self.nranks // self.local

    @property
    def max_message(self) -> int:
        """Bytes of the largest single put (sendrecv moves the whole buffer at once; the
        hierarchical all-reduce's and all-gather's domain ring moves count/local elements
        a step)."""
        if self.kind == "sendrecv":
            return self.bytes
        if self.algo == "hier" and self.kind in ("allreduce", "allgather") and self.local > 1:
            return self.count // self.local * self.np_dtype.itemsize
        return self.chunk * self.np_dtype.itemsize

    def same_domain(self, a: int, b: int) -> bool:
        return a // self.local == b // self.local

    def max_put(self, src: int, dst: int) -> int:
        """Bytes of the largest single put rank `src` makes to rank `dst` (0: it makes none).
        The receiver registers memory for what can arrive from each peer, not the largest
        message of the whole collective for every peer: a hierarchical all-reduce's domain
        ring moves count/local elements a step, but only between domain neighbours (144
        ranks with 1 MiB each would otherwise register 21 GB)."""
        n, item, c = self.nranks, self.np_dtype.itemsize, self.chunk * self.np_dtype.itemsize
        if src == dst or n < 2:
            return 0
        if self.kind == "alltoall":
            return c
        if self.kind == "gather":
            return c if dst == ROOT else 0
        if self.kind == "scatter":
            return c if src == ROOT else 0
        after = (src + 1) % n == dst
        if self.kind == "sendrecv":
            return self.bytes if after else 0
        if self.algo != "hier" or self.local == 1:
            return c if after else 0
        g, d = self.local, self.domains
        if self.same_domain(src, dst) and dst == src - src % g + (src % g + 1) % g:
            return self.count // g * item  # the domain ring's step
        if src % g == dst % g and dst // g == (src // g + 1) % d:
            return c  # the rail ring's step
        return 0

    @property
    def bus_factor(self) -> float:
        return BUS_FACTOR[self.kind](self.nranks)


def _period(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """The first INPUT_PERIOD elements of rank ``rank``'s input: all the others repeat them."""
    i = np.arange(INPUT_PERIOD, dtype=np.int64)
    return (((rank * 7 + i * 3 + (rank + 1) * (i // 5)) % 5) - 2).astype(spec.np_dtype)


def _tiled(period: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Elements ``start:stop`` of the endless repetition of ``period``."""
    if start % INPUT_PERIOD:
        period = np.roll(period, -(start % INPUT_PERIOD))
    return np.tile(period, -(-(stop - start) // INPUT_PERIOD))[:stop - start]


def rank_input(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """Rank `rank`'s input buffer: small integers that vary by rank and element.

    Element i is ((7 rank + 3 i + (rank + 1)(i // 5)) mod 5) - 2, which repeats every 25
    elements: the first 25 are computed and tiled (every rank of every iteration builds its
    input, a megabyte or more each time: np.tile, 25x faster than np.resize, which
    concatenates a list of copies; in a rank process that time stalls every rank's pacing)."""
    n = spec.chunk if spec.kind in ("allgather", "gather") else spec.count
    return _tiled(_period(spec, rank), 0, n)


@lru_cache(maxsize=16)
def _reduced(spec: CollectiveSpec) -> np.ndarray:
    """Every rank's input reduced element by element: as the inputs repeat every
    INPUT_PERIOD elements, so does the result, so the periods are reduced and tiled (a
    virtual-time fabric of 128 ranks spent half its run building each rank's expected
    output from all 128 inputs). Read-only: every rank's expected output shares it."""
    out = _period(spec, 0)
    for r in range(1, spec.nranks):
        OPS[spec.op](out, _period(spec, r), out=out)
    return _read_only(_tiled(out, 0, spec.count))


@lru_cache(maxsize=16)
def _gathered(spec: CollectiveSpec) -> np.ndarray:
    """Every rank's input, one after the other (read-only: shared as `_reduced`)."""
    return _read_only(np.concatenate([rank_input(spec, r) for r in range(spec.nranks)]))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@lru_cache(maxsize=64)
def expected_output(spec: CollectiveSpec, rank: int) -> np.ndarray:
    """What rank `rank` must end with (cached: every iteration checks against it; read-only)."""
    c, n = spec.chunk, spec.nranks
    if spec.kind == "allgather" or (spec.kind == "gather" and rank == ROOT):
        return _gathered(spec)
    if spec.kind == "gather":
        return rank_input(spec, rank)
    if spec.kind == "scatter":
        return _tiled(_period(spec, ROOT), rank * c, (rank + 1) * c)
    if spec.kind == "sendrecv":
        return rank_input(spec, (rank - 1) % n)
    if spec.kind == "alltoall":
        return np.concatenate([_tiled(_period(spec, r), rank * c, (rank + 1) * c) for r in range(n)])
    full = _reduced(spec)
    return full[rank * c:(rank + 1) * c] if spec.kind == "reducescatter" else full


def count_wrong(spec: CollectiveSpec, rank: int, output: np.ndarray) -> int:
    want = expected_output(spec, rank)
    if output.shape != want.shape:
        return int(want.size)
    return int(np.count_nonzero(output != want))


class _Ring:
    """One ring pass among `members` over `chunks` (views into the rank's buffer, chunk k =
    chunks[k], possibly strided): in step s member i sends one chunk to member i+1 and
    reduces (reduce-scatter) or stores (all-gather) the chunk member i-1 sent. Step s is
    tag `tag0 + s`."""

    def __init__(self, members: list[int], rank: int, chunks: np.ndarray, reduce: bool, op: str,
                 tag0: int) -> None:
        self.members, self.chunks, self.reduce, self.op, self.tag0 = members, chunks, reduce, op, tag0
        self.m, self.i = len(members), members.index(rank)
        self.steps = self.m - 1
        self.c = chunks[0].size
        self.sent = 0
        self.received: set[int] = set()

    @property
    def done(self) -> bool:
        return self.sent == self.steps and len(self.received) == self.steps

    def owns(self, tag: int) -> bool:
        return self.tag0 <= tag < self.tag0 + self.steps

    def _view(self, k: int) -> np.ndarray:
        return self.chunks[k % self.m]

    def advance(self) -> list[Put]:
        puts = []
        while self.sent < self.steps and (self.sent == 0 or self.sent - 1 in self.received):
            s = self.sent
            nxt = self.members[(self.i + 1) % self.m]
            puts.append(Put(nxt, self.tag0 + s, self._view(self.i - s - self.reduce).tobytes()))
            self.sent += 1
        return puts

    def on_data(self, src: int, tag: int, incoming: np.ndarray) -> list[Put]:
        s = tag - self.tag0
        if s in self.received or src != self.members[(self.i - 1) % self.m]:
            raise FabricError(f"rank {self.members[self.i]}: unexpected step {tag} from rank {src}")
        if incoming.size != self.c:
            raise FabricError(f"rank {self.members[self.i]}: got {incoming.size} elements from "
                              f"rank {src}, expected {self.c}")
        view = self._view(self.i - s - 1 - self.reduce)
        incoming = incoming.reshape(view.shape)
        if self.reduce:
            OPS[self.op](view, incoming, out=view)
        else:
            view[...] = incoming
        self.received.add(s)
        return self.advance()


def _ring_plan(spec: CollectiveSpec, rank: int, buf: np.ndarray) -> list[_Ring]:
    """The ring passes of a ring kind, in order (passes among one rank are left out)."""
    n, op = spec.nranks, spec.op
    passes: list[tuple[list[int], np.ndarray, bool]] = []
    if spec.algo == "hier":
        g, d, l = spec.local, spec.domains, rank % spec.local
        domain = [rank - l + j for j in range(g)]
        rail = [e * g + l for e in range(d)]
        if spec.kind == "allreduce":  # local chunk l of the buffer, cut again per domain
            local_chunks = buf.reshape(g, -1)
            rail_chunks = local_chunks[l].reshape(d, -1)
            passes = [(domain, local_chunks, True), (rail, rail_chunks, True),
                      (rail, rail_chunks, False), (domain, local_chunks, False)]
        else:  # all-gather: rank (e, j)'s part sits at grid[e, j]; gather the rail, then the domain
            grid = buf.reshape(d, g, -1)
            passes = [(rail, grid[:, l, :], False), (domain, grid.transpose(1, 0, 2), False)]
    else:
        everyone = list(range(n))
        rs, ag = (everyone, buf.reshape(n, -1), True), (everyone, buf.reshape(n, -1), False)
        passes = {"allreduce": [rs, ag], "reducescatter": [rs], "allgather": [ag]}[spec.kind]
    rings, tag = [], 0
    for members, view, reduce in passes:
        if len(members) > 1:
            rings.append(_Ring(members, rank, view, reduce, op, tag))
            tag += len(members) - 1
    return rings


class Collective:
    """One rank's part in one collective operation."""

    def __init__(self, spec: CollectiveSpec, rank: int, data: np.ndarray | None = None) -> None:
        if not 0 <= rank < spec.nranks:
            raise FabricError(f"rank {rank} is outside 0..{spec.nranks - 1}")
        self.spec, self.rank = spec, rank
        c = spec.chunk
        src = rank_input(spec, rank) if data is None else data
        if spec.kind == "allgather":
            self.buf = np.zeros(spec.count, spec.np_dtype)
            self.buf[rank * c:(rank + 1) * c] = src
        elif data is None:  # rank_input made it for us alone: no copy
            self.buf = src
        else:
            self.buf = np.array(src, dtype=spec.np_dtype, copy=True)
        self._rings: list[_Ring] = []
        self._phase = 0
        self._later: list[tuple[int, int, np.ndarray]] = []  # data for a later ring pass
        if spec.kind in DIRECT_KINDS:
            self._steps: list[str] = []
            self._plan_direct()
        else:
            self._rings = _ring_plan(spec, rank, self.buf)
            self._steps = [s for ring in self._rings
                           for s in ["reduce" if ring.reduce else "copy"] * ring.steps]

    @property
    def done(self) -> bool:
        if self.spec.kind in DIRECT_KINDS:
            return self._pending == 0
        return all(r.done for r in self._rings)
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
        return self._next_phases()

    def on_data(self, src: int, tag: int, data: bytes) -> list[Put]:
        incoming = np.frombuffer(data, dtype=self.spec.np_dtype)
        if self.spec.kind in DIRECT_KINDS:
            self._place_direct(src, incoming)
            return []
        phase = next((i for i, ring in enumerate(self._rings) if ring.owns(tag)), None)
        if phase is None or phase < self._phase:
            raise FabricError(f"rank {self.rank}: unexpected step {tag} from rank {src}")
        if phase > self._phase:
            self._later.append((src, tag, incoming))
            return []
        return self._rings[phase].on_data(src, tag, incoming) + self._next_phases()

    def _next_phases(self) -> list[Put]:
        """Start the current ring pass (and every one after a finished pass), handing each
        the data that came for it early."""
        puts: list[Put] = []
        while self._phase < len(self._rings):
            ring = self._rings[self._phase]
            puts += ring.advance()
            early = [x for x in self._later if ring.owns(x[1])]
            self._later = [x for x in self._later if not ring.owns(x[1])]
            for src, tag, incoming in early:
                puts += ring.on_data(src, tag, incoming)
            if not ring.done:
                break
            self._phase += 1
        return puts

    def _peers_from(self, first: int) -> list[int]:
        n = self.spec.nranks
        return [(first + i) % n for i in range(n - 1)]
