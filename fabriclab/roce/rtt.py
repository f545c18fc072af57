"""Distance-adaptive transport state: a per-QP RTT estimate, the RTO and the window it implies.

A transport tuned for one site (a fixed window of tens of packets, a fixed RTO and DCQCN
timers sized for a 10 us fabric RTT) starves when the path is a 1,000 km DCI: 5 us of fibre
per km (`topologies.builders.fibre_delay_us`) makes that a 10 ms round trip, so a 64 x 4 KiB window moves 26 MB/s. The fix is to
measure the path and size the state to it:

- `RttEstimator`: smoothed RTT and variance from ACK timing (RFC 6298's filter, gains 1/8
  and 1/4, RTO = SRTT + 4 * RTTVAR, clamped), in integer ns. Samples come from packets sent
  once (Karn: a retransmitted packet's ACK says nothing about the path); an INT stack's
  hop timestamps give the same sample without waiting for an AckReq.
- `bdp_window`: the window (packets) that keeps a path of `rtt_ns` busy at `rate` bit/s,
  with headroom for queueing, between a floor and a ceiling both ends agree on.

Times are integer nanoseconds on the driver's clock, as in every engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabriclab.errors import FabricError

HEADER_BYTES = 100  # Ethernet + IP + UDP + BTH + RETH/ICRC on every packet, roughly


def bdp_bytes(rate_bps: float, rtt_ns: int) -> int:
    """Bandwidth-delay product: the bytes in flight that keep the path busy."""
    if rate_bps <= 0 or rtt_ns < 0:
        raise FabricError(f"BDP needs a positive rate and an RTT >= 0, got {rate_bps}, {rtt_ns}")
    return round(rate_bps * rtt_ns / 8e9)


def bdp_window(rate_bps: float, rtt_ns: int, pmtu: int, floor: int = 1, ceiling: int = 1 << 22,
               headroom: float = 1.25) -> int:
    """Packets to keep in flight: the BDP at `rate` over `rtt_ns` in path-MTU packets (each
    carrying `pmtu` bytes of payload plus headers), times `headroom`, within [floor, ceiling]."""
    packets = -(-bdp_bytes(rate_bps, rtt_ns) * headroom // (pmtu + HEADER_BYTES))
    return int(min(ceiling, max(floor, packets)))


@dataclass
class RttEstimator:
    """Smoothed RTT, its variance and the RTO they give (all integer ns); no sample yet: the
    configured `initial_rto_ns`."""

    initial_rto_ns: int
    min_rto_ns: int = 100_000
    max_rto_ns: int = 500_000_000
    srtt_ns: int | None = None
    rttvar_ns: int = 0
    min_rtt_ns: int | None = None  # the path's propagation estimate: the least sample seen
    samples: int = 0

    def sample(self, rtt_ns: int) -> None:
        if rtt_ns < 0:
            raise FabricError(f"RTT sample must be >= 0 ns, got {rtt_ns}")
        self.samples += 1
        self.min_rtt_ns = rtt_ns if self.min_rtt_ns is None else min(self.min_rtt_ns, rtt_ns)
        if self.srtt_ns is None:
            self.srtt_ns, self.rttvar_ns = rtt_ns, rtt_ns // 2
            return
        self.rttvar_ns = (3 * self.rttvar_ns + abs(self.srtt_ns - rtt_ns)) // 4
        self.srtt_ns = (7 * self.srtt_ns + rtt_ns) // 8

    def sample_int(self, first_hop_ts_ns: int, now: int, return_ns: int | None = None) -> None:
        """A sample from INT: the first hop's ingress timestamp to now is the forward path;
        the return leg is `return_ns` (default: the same again, a symmetric path)."""
        forward = now - first_hop_ts_ns
        self.sample(forward + (forward if return_ns is None else return_ns))

    @property
    def rto_ns(self) -> int:
        if self.srtt_ns is None:
            return self.initial_rto_ns
        return min(self.max_rto_ns, max(self.min_rto_ns, self.srtt_ns + 4 * self.rttvar_ns))
