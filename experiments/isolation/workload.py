"""Tenant B's noise: every B host keeps RDMA WRITEs posted to every other B host (an
all-to-all that never ends), and counts the bytes its writes completed. Sans-I/O like a
collective rank: `service(now)` after the NIC moved, whatever drives it."""

from __future__ import annotations

from typing import Callable

from fabriclab.roce.nic import RoceNic

NOISE_QPN = 0x700
NOISE_RKEY = 0x4E


class Noise:
    """All-to-all writes from one host to `peers` (its QPs, connected by the caller), each
    QP kept `depth` messages deep."""

    def __init__(self, nic: RoceNic, qpns: list[int], message: int, depth: int = 2) -> None:
        self.nic, self.qpns, self.message, self.depth = nic, qpns, message, depth
        self.payload = bytes(message)
        self.done = False  # noise never finishes: the victim's end stops a run
        self.completed_bytes = 0
        self.errors = 0
        self._wr = 0
        self._started = False

    def _post(self, qpn: int) -> None:
        self._wr += 1
        self.nic.qp(qpn).post_write(self._wr, self.payload, 0, NOISE_RKEY)

    def service(self, now: int) -> None:
        if not self._started:
            self._started = True
            for qpn in self.qpns:
                for _ in range(self.depth):
                    self._post(qpn)
        while self.nic.completions:
            qpn, completion = self.nic.completions.popleft()
            if completion.error:
                self.errors += 1
                continue
            if completion.kind == "write":
                self.completed_bytes += self.message
                self._post(qpn)


def connect_noise(nics: dict[str, tuple[RoceNic, str]], message: int,
                  sport: Callable[[int, int], int]) -> dict[str, Noise]:
    """Host -> its Noise app; `nics`: host -> (NIC, IP). QP NOISE_QPN + j on host i talks
    to QP NOISE_QPN + i on host j; `sport(i, j)` is that QP's UDP source port."""
    hosts = list(nics)
    for nic, _ in nics.values():
        nic.register(NOISE_RKEY, message)
    apps = {}
    for i, host in enumerate(hosts):
        nic = nics[host][0]
        qpns = []
        for j, peer in enumerate(hosts):
            if j == i:
                continue
            nic.connect(NOISE_QPN + j, nics[peer][1], NOISE_QPN + i, sport=sport(i, j))
            qpns.append(NOISE_QPN + j)
        apps[host] = Noise(nic, qpns, message)
    return apps
