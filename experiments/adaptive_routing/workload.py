"""The two workloads as sans-I/O host apps, and the per-seed UDP source ports.

- Permutation: every host writes `size` bytes to one host on another leaf (and receives as
  much from one), all at once: long flows that an ECMP hash pins to one uplink each.
- Ring all-reduce: `fabriclab.roce.rank.Rank`, unchanged, with ranks placed alternately on
  the leaves so every step of the ring crosses the spine (hosts_per_leaf flows per leaf
  uplink set, like the permutation); the ring goes at the speed of its slowest hop.

A seed picks the UDP source port of every queue pair, the entropy ECMP hashes: the same
seed gives the same ports (and so the same ECMP paths) to every routing mode and receiver.
"""

from __future__ import annotations

import random

from fabriclab.errors import FabricError
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.pacer import NS_PER_S
from fabriclab.roce.rank import QPN_BASE, RKEY_BASE


def seeded_sport(seed: int, src: int, dst: int) -> int:
    """The UDP source port (49152-65535) host `src` uses toward host `dst` under `seed`."""
    return 49152 + random.Random(f"{seed}:{src}:{dst}").randrange(16384)


def cross_leaf_permutation(leaves: int, hosts_per_leaf: int) -> list[int]:
    """dst[i] for host i: the same position on the next leaf (every flow crosses the spine)."""
    n = leaves * hosts_per_leaf
    return [(i + hosts_per_leaf) % n for i in range(n)]


def interleaved_ring(leaves: int, hosts_per_leaf: int) -> list[int]:
    """Host indices in rank order: h1, h(1+hpl), ..., h2, ...: neighbours on different leaves."""
    return [leaf * hosts_per_leaf + i for i in range(hosts_per_leaf) for leaf in range(leaves)]


def reseed(nic: RoceNic, me: int, seed: int) -> None:
    """Give each of the NIC's queue pairs (QPN_BASE + peer) its seeded source port."""
    for qpn in list(nic.sports):
        nic.set_sport(qpn, seeded_sport(seed, me, qpn - QPN_BASE))


class PermutationFlow:
    """One host of the permutation: RDMA WRITE `size` bytes to `dst`, accept as much from
    `src`. Done when our write is acknowledged and the peer's has arrived; the flow time is
    from the first service call to the acknowledgement of our last packet."""

    def __init__(self, nic: RoceNic, me: int, addrs: list[tuple[str, int]], dst: int, src: int,
                 size: int) -> None:
        if me in (dst, src) or not all(0 <= x < len(addrs) for x in (me, dst, src)):
            raise FabricError(f"host {me}: bad permutation peers dst={dst} src={src}")
        self.nic, self.me, self.dst, self.src, self.size = nic, me, dst, src, size
        for peer in sorted({dst, src}):
            ip, port = addrs[peer]
            nic.register(RKEY_BASE + peer, size)
            nic.connect(QPN_BASE + peer, ip, QPN_BASE + me, port)
        self.start: int | None = None  # ns, the NIC's clock
        self.sent_at: int | None = None
        self.received_at: int | None = None
        self.error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or (self.sent_at is not None and self.received_at is not None)

    def service(self, now: int) -> None:
        if self.start is None:
            self.start = now
            payload = bytes(range(256)) * (self.size // 256) + bytes(self.size % 256)
            self.nic.qp(QPN_BASE + self.dst).post_write(1, payload, va=0, rkey=RKEY_BASE + self.me,
                                                        imm=self.me)
        while self.nic.completions:
            qpn, c = self.nic.completions.popleft()
            if c.error:
                self.error = f"host {self.me}: QP {qpn:#x}: {c.error}"
            elif c.kind == "write" and qpn == QPN_BASE + self.dst:
                self.sent_at = now
            elif c.kind == "write_imm" and qpn == QPN_BASE + self.src:
                if len(c.data) != self.size:
                    self.error = f"host {self.me}: got {len(c.data)} of {self.size} bytes"
                self.received_at = now

    def summary(self) -> dict:
        t = (self.sent_at - self.start) / NS_PER_S if self.sent_at is not None and self.start is not None else None
        return {"rank": self.me, "dst": self.dst, "bytes": self.size, "time": t, "error": self.error,
                "done": self.done and self.error is None, "nic": vars(self.nic.counters),
                "qp": self.nic.qp_counters(), "sports": {str(k): v for k, v in self.nic.sports.items()}}
