"""A collective's host-stack settings and results.

- `RunOptions`: what every rank's NIC uses (line rate, PMTU, window, receiver mode, RTO,
  DCQCN, pacer burst, distance-adaptive QPs); `nic_config(ip, port)` builds the NIC's configuration.
- `summarize`: the nccl-tests row of all ranks' results.

Over real sockets, `fabriclab.launch.collective.launch` runs one host agent per rank; in
virtual time, `fabriclab.vtime.runs.run_collective` runs every rank on a simulated fabric.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.nic import NicConfig
from fabriclab.roce.pacer import NS_PER_S
from fabriclab.roce.qp import QpConfig
from fabriclab.roce.report import Row, make_row


@dataclass(frozen=True)
class RunOptions:
    """Host-stack settings shared by every rank."""

    iters: int = 5
    warmup: int = 1
    line_rate: float = 100e6
    pmtu: int = 1024
    window: int = 64
    mode: str = "gbn"
    rto: float = 0.02
    dcqcn_rtt: float | None = None  # enable DCQCN scaled to this RTT (s)
    burst: int | None = None  # pacer catch-up in bytes; None: 3000 in virtual time, 1 ms of
    #                           line rate in a rank process (its event loop wakes up late)
    adaptive: bool = False  # distance-adaptive QPs: RTO from the measured RTT, window to the BDP
    max_window: int | None = None  # the adaptive window's ceiling (packets; default: window)

    def nic_config(self, ip: str, port: int = ROCE_PORT) -> NicConfig:
        ack_every = min(16, self.window)
        # the timeout must outlast a full window queued at line rate somewhere, or it fires early
        rto = max(self.rto, 2 * self.window * (self.pmtu + 100) * 8 / self.line_rate)
        qp = QpConfig(pmtu=self.pmtu, window=self.window, ack_every=ack_every, rto_ns=round(rto * NS_PER_S),
                      mode=self.mode, adaptive=self.adaptive, bdp_rate=self.line_rate if self.adaptive else None,
                      max_window=self.max_window if self.adaptive else None)
        dcqcn = DcqcnParams.scaled(self.line_rate, round(self.dcqcn_rtt * NS_PER_S)) if self.dcqcn_rtt else None
        return NicConfig(ip, port, self.line_rate, qp, dcqcn, burst=3000 if self.burst is None else self.burst,
                         adaptive_cc=self.adaptive)


def summarize(spec: CollectiveSpec, results: list[dict]) -> Row:
    """The table row for all ranks: slowest rank's average time, #wrong summed over ranks."""
    bad = [r for r in results if r.get("error") or not r.get("done")]
    if bad:
        raise FabricError("; ".join(r.get("error") or f"rank {r['rank']} did not finish" for r in bad))
    return make_row(spec, max(r["avg_time"] for r in results), sum(r["wrong"] for r in results))

