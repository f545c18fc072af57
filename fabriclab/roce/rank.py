"""A rank: one host's collective iterations driven over its NIC engine (sans-I/O).

Rank r opens one RC queue pair to every other rank (QPN 0x100 + peer on each side, initial
PSNs from `initial_psn`) and
registers a staging region per peer (rkey 0x1000 + peer), two of the largest puts that peer
makes to it (`CollectiveSpec.max_put`) so a put never overwrites the one before it. A collective's Put becomes an
RDMA WRITE with immediate: the write lands in the peer's staging region, the immediate
(iteration << 16 | step) tells the peer's schedule what arrived. Data for a later iteration
(a faster neighbour) is held until this rank gets there. An iteration ends when the schedule
is complete and every write it posted has been acknowledged; its time is measured on the
clock the driver passes in (integer ns, as every engine); `summary()` reports seconds.

A rank in a scale-up domain has a second NIC on the domain's scale-up switch
(`ScaleUpNic`): the peers listed there (its domain) are reached over it, at their scale-up
addresses; every other peer over the scale-out NIC. The schedule says whom to send to, the
rank which NIC carries it, so the same schedule runs flat or hierarchical over either.
Each peer's QP lives on exactly one NIC, so QPN 0x100 + peer still names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import Collective, CollectiveSpec, Put, count_wrong, expected_output
from fabriclab.roce.nic import RoceNic, source_port
from fabriclab.roce.pacer import NS_PER_S

QPN_BASE = 0x100
RKEY_BASE = 0x1000
MAX_ITERATIONS = 0xFFFF


def initial_psn(src: int, dst: int) -> int:
    """The first PSN rank `src` sends to rank `dst`: up to 1023 packets before the 24-bit wrap,
    so every run longer than that crosses it (real NICs start at random PSNs, which may wrap)."""
    return (0xFFFFFF - ((src * 2654435761 + dst * 40503) & 0x3FF)) & 0xFFFFFF


@dataclass(frozen=True)
class ScaleUpNic:
    """A rank's scale-up NIC and the scale-up (ip, port) of each peer it carries."""

    nic: RoceNic
    peers: Mapping[int, tuple[str, int]]


@dataclass
class RankResult:
    rank: int
    iterations: int
    times_ns: list[int] = field(default_factory=list)  # timed iterations only
    wrong: int = 0  # worst iteration
    error: str | None = None

    @property
    def avg_time_ns(self) -> float:
        return sum(self.times_ns) / len(self.times_ns) if self.times_ns else 0.0


class Rank:
    def __init__(self, nic: RoceNic, rank: int, addrs: list[tuple[str, int]], spec: CollectiveSpec,
                 iters: int = 5, warmup: int = 1, scaleup: ScaleUpNic | None = None) -> None:
        if len(addrs) != spec.nranks:
            raise FabricError(f"{len(addrs)} addresses for {spec.nranks} ranks")
        if not 1 <= iters + warmup <= MAX_ITERATIONS or iters < 1 or warmup < 0:
            raise FabricError(f"iterations must be >= 1 and warmup >= 0 (at most {MAX_ITERATIONS} in all)")
        self.nic, self.rank, self.spec = nic, rank, spec
        self.iters, self.warmup = iters, warmup
        self.result = RankResult(rank, iters)
        self.scaleup = scaleup
        local = dict(scaleup.peers) if scaleup else {}
        if rank in local or not all(0 <= p < spec.nranks for p in local):
            raise FabricError(f"rank {rank}: scale-up peers {sorted(local)} must be other ranks")
        self._cursor: dict[int, int] = {}
        self._region_at: dict[int, int] = {}  # the peer's region for our puts, in bytes
        self._nic_of: dict[int, RoceNic] = {}
        for peer, addr in enumerate(addrs):
            if peer == rank:
                continue
            via = scaleup.nic if peer in local else nic
            ip, port = local.get(peer, addr)
            via.register(RKEY_BASE + peer, 2 * spec.max_put(peer, rank))
            self._region_at[peer] = 2 * spec.max_put(rank, peer)
            via.connect(QPN_BASE + peer, ip, QPN_BASE + rank, port, sport=source_port(QPN_BASE + peer, rank),
                        sq_psn=initial_psn(rank, peer), rq_psn=initial_psn(peer, rank))
            self._cursor[peer] = 0
            self._nic_of[peer] = via
        self.nics = [nic] + ([scaleup.nic] if scaleup else [])
        self._iter = -1
        self._coll: Collective | None = None
        self._t0 = 0
        self._early: dict[int, list[tuple[int, int, bytes]]] = {}
        self.early_arrivals = 0  # data that came before this rank reached its iteration
        self._wr = 0
        self.done = False
        # Every iteration's end checks against it: build it now, before the clock runs (a
        # 1 MiB all-to-all's took 7 ms per rank at the first end, inside a timed iteration).
        expected_output(spec, rank)

    def service(self, now: int) -> None:
        """React to completions; start the next iteration when this one is finished."""
        if self.done:
            return
        changed = self._coll is None
        if changed:
            self._next_iteration(now)
        for nic in self.nics:
            completions = nic.completions
            while completions:
                changed = True
                qpn, c = completions.popleft()
                if c.error:
                    self.result.error = f"rank {self.rank}: QP {qpn:#x}: {c.error}"
                    self.done = True
                    return
                if c.kind == "write_imm" and c.imm is not None:
                    it, tag = c.imm >> 16, c.imm & 0xFFFF
                    src = qpn - QPN_BASE
                    if it == self._iter:
                        self._post(self._coll.on_data(src, tag, c.data))
                    else:
                        self.early_arrivals += 1
                        self._early.setdefault(it, []).append((src, tag, c.data))
        # Without a completion nothing the iteration's end depends on moved (data arrives as
        # completions, and a queue pair is idle only once its last write completed): most
        # calls (a packet that completes nothing) end here.
        if not changed:
            return
        while self._coll is not None and self._coll.done and not self._busy():
            self._finish(now)
            if self.done:
                return
            self._next_iteration(now)

    def nic_for(self, peer: int) -> RoceNic:
        """The NIC that carries this rank's queue pair to `peer`."""
        return self._nic_of[peer]

    def _busy(self) -> bool:
        return any(nic.qp(QPN_BASE + p).busy for p, nic in self._nic_of.items())

    def _next_iteration(self, now: int) -> None:
        self._iter += 1
        self._coll = Collective(self.spec, self.rank)
        self._t0 = now
        self._post(self._coll.start())
        for src, tag, data in self._early.pop(self._iter, []):
            self._post(self._coll.on_data(src, tag, data))

    def _finish(self, now: int) -> None:
        wrong = count_wrong(self.spec, self.rank, self._coll.output())
        self.result.wrong = max(self.result.wrong, wrong)
        if self._iter >= self.warmup:
            self.result.times_ns.append(now - self._t0)
        if self._iter + 1 >= self.iters + self.warmup:
            self.done = True

    def _post(self, puts: list[Put]) -> None:
        for put in puts:
            cur = self._cursor[put.dst]
            if cur + len(put.data) > self._region_at[put.dst]:
                cur = 0
            self._cursor[put.dst] = cur + len(put.data)
            self._wr += 1
            self._nic_of[put.dst].qp(QPN_BASE + put.dst).post_write(self._wr, put.data, va=cur, rkey=RKEY_BASE + self.rank,
                                                         imm=(self._iter << 16) | put.tag)

    def _qp_counters(self) -> dict[str, int]:
        """Queue-pair counters summed over this rank's NICs."""
        total: dict[str, int] = {}
        for nic in self.nics:
            for k, v in nic.qp_counters().items():
                total[k] = total.get(k, 0) + v
        return total

    def summary(self) -> dict:
        """JSON-ready result of this rank: timings (seconds), #wrong and the NIC's counters."""
        r = self.result
        return {
            "rank": self.rank, "kind": self.spec.kind, "size": self.spec.bytes, "count": self.spec.count,
            "dtype": self.spec.dtype, "op": self.spec.op, "nranks": self.spec.nranks,
            "iters": self.iters, "times": [t / NS_PER_S for t in r.times_ns],
            "avg_time": r.avg_time_ns / NS_PER_S, "wrong": r.wrong,
            "error": r.error, "done": self.done, "nic": vars(self.nic.counters), "qp": self._qp_counters(),
            "dcqcn": self.nic.dcqcn_summary(),
            "sports": {str(k): v for nic in self.nics for k, v in nic.sports.items()},
            "algo": self.spec.algo, "local": self.spec.local,
            "scaleup_nic": vars(self.scaleup.nic.counters) if self.scaleup else None,
        }
