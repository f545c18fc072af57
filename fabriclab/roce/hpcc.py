"""HPCC congestion control (Li et al., SIGCOMM 2019) at the sender, as a sans-I/O engine.

Every data packet collects one INT record per hop (queue length, cumulative bytes the egress
port has sent, egress timestamp, link rate B_j); the receiver echoes the stack in its ACK.
From two consecutive ACKs the sender knows each hop's utilisation precisely:

    U_j = min(qlen_j, qlen_j') / (B_j * T) + txRate_j / B_j,
    txRate_j = (txBytes_j - txBytes_j') / (ts_j - ts_j')       (' = the previous ACK's record)

It takes the most utilised hop, smooths it over one base RTT T (U = (1 - tau/T) U + tau/T u,
tau = that hop's time between the two records, at most T) and sets the window from a
reference window W_c:

    U >= eta or incStage >= maxStage:  W = W_c / (U / eta) + W_AI   (multiplicative, to eta)
    otherwise:                         W = W_c + W_AI               (additive increase)

W_c (and incStage) change only once per RTT: on the first ACK beyond the sequence that was
next to send at the previous update; other ACKs react from W_c without compounding. The
sender keeps at most W bytes in flight and paces at R = W / T.

Parameters (the paper's): eta = 0.95, maxStage = 5, W_init = line rate * T,
W_AI = W_init * (1 - eta) / N with N the expected number of concurrent flows on a link (100).
Clock: integer ns. Telemetry that cannot be right (too many hops, fewer records than the
INT header declared, impossible fields) is counted and ignored, and a different path
restarts the measurement: a host never crashes or reacts on bad telemetry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from fabriclab.errors import FabricError


@dataclass(frozen=True)
class HopTelemetry:
    """One hop's INT record as the ACK echoes it (times of that switch's clock)."""

    switch_id: int
    port: int  # egress port
    qlen_bytes: int
    tx_bytes: int  # cumulative bytes sent by the egress port (wraps at 2**counter_bits)
    ts_ns: int  # egress timestamp (wraps at 2**counter_bits)
    rate_bps: int  # the egress link's rate B_j


@dataclass(frozen=True)
class HpccParams:
    line_rate: float  # bit/s, the NIC's
    base_rtt_ns: int  # T: the fabric's base round-trip time
    eta: float = 0.95
    max_stage: int = 5
    expected_flows: int = 100  # N in W_AI = W_init (1 - eta) / N
    w_ai: float | None = None  # bytes; None: from expected_flows
    max_hops: int = 8  # longer INT stacks are rejected
    counter_bits: int = 32  # width of the tx-byte and timestamp fields
    min_rate: float | None = None  # bit/s floor; None: line_rate / 1000
    # a stack counts as a new sample only this long after the kept one on every hop: 1 for
    # ns clocks; a few us when switches stamp in us (v1model), so the rate is not quantised
    min_interval_ns: int = 1

    def __post_init__(self) -> None:
        if self.line_rate <= 0 or self.base_rtt_ns <= 0:
            raise FabricError("HPCC needs a positive line rate and base RTT")
        if not 0 < self.eta <= 1 or self.max_stage < 0 or self.expected_flows < 1 or self.max_hops < 1:
            raise FabricError("HPCC needs 0 < eta <= 1, maxStage >= 0, N >= 1 and max hops >= 1")

    @property
    def w_init(self) -> float:
        """Bytes in flight at line rate for one base RTT."""
        return self.line_rate / 8 * self.base_rtt_ns / 1e9

    @property
    def additive_increase(self) -> float:
        return self.w_ai if self.w_ai is not None else self.w_init * (1 - self.eta) / self.expected_flows

    @property
    def min_window(self) -> float:
        floor = self.min_rate if self.min_rate is not None else self.line_rate / 1000
        return floor / 8 * self.base_rtt_ns / 1e9


@dataclass
class HpccCounters:
    acks: int = 0
    updates: int = 0  # ACKs that moved W_c (once per RTT)
    no_telemetry: int = 0
    too_many_hops: int = 0
    truncated: int = 0
    malformed: int = 0
    path_changes: int = 0  # measurement restarted on a different list of hops
    too_soon: int = 0  # stacks within min_interval_ns of the kept one (not a new sample)
    cnps_ignored: int = 0


@dataclass
class HpccReactionPoint:
    """One QP's HPCC sender. Shaped like dcqcn.ReactionPoint (``rate``, ``lowest``,
    ``on_sent``, ``deadline``, ``on_timer``, ``on_cnp``) so a NIC can host either; HPCC
    adds ``on_ack`` (the echoed telemetry) and ``window``/``can_send`` (bytes in flight)."""

    p: HpccParams
    counters: HpccCounters = field(default_factory=HpccCounters, init=False)
    window: float = field(default=0.0, init=False)  # W, bytes
    reference: float = field(default=0.0, init=False)  # W_c
    utilisation: float = field(default=0.0, init=False)  # U, smoothed
    stage: int = field(default=0, init=False)  # incStage
    lowest: float = field(default=0.0, init=False)  # lowest rate so far (bit/s), for reports
    _last_update_seq: int = field(default=-1, init=False)
    _last: tuple[HopTelemetry, ...] = field(default=(), init=False)
    base: HpccParams | None = field(default=None, init=False)  # as configured (p: adapted)

    def __post_init__(self) -> None:
        self.base = self.p
        self.window = self.reference = self.p.w_init
        self.lowest = self.rate

    def adapt(self, rtt_ns: int) -> None:
        """Take T from the path's measured base RTT when it is longer than the configured
        one (a far path needs its BDP in flight, and U's queue term is in the path's T).
        The rate is kept (W and W_c scale with T), and W_AI grows with (T / T_base)^2: the
        window grows by W_AI once per RTT, so the rate gained per second, W_AI / T^2, is
        the configured path's."""
        base = self.base
        t = max(rtt_ns, base.base_rtt_ns)
        if t == self.p.base_rtt_ns:
            return
        s = t / base.base_rtt_ns
        p = base if t == base.base_rtt_ns else replace(base, base_rtt_ns=t, w_ai=base.additive_increase * s * s)
        scale = p.base_rtt_ns / self.p.base_rtt_ns
        self.p = p
        self.window = min(max(self.window * scale, p.min_window), p.w_init)
        self.reference = min(max(self.reference * scale, p.min_window), p.w_init)

    @property
    def rate(self) -> float:
        """The pacing rate R = W / T in bit/s."""
        return self.window * 8e9 / self.p.base_rtt_ns

    @property
    def active(self) -> bool:
        return self.window < self.p.w_init

    def can_send(self, inflight_bytes: int) -> bool:
        """Whether another packet may leave with ``inflight_bytes`` unacknowledged (one packet
        always may, so a window below one MTU still makes progress)."""
        return inflight_bytes <= 0 or inflight_bytes < self.window

    def on_sent(self, nbytes: int, now_ns: int) -> None:
        """HPCC reacts to ACKs only (kept for the NIC's common reaction-point calls)."""

    def deadline(self) -> int | None:
        return None

    def on_timer(self, now_ns: int) -> None:
        """No timers: HPCC reacts to ACKs only."""

    def on_cnp(self, now_ns: int) -> None:
        self.counters.cnps_ignored += 1

    def on_ack(self, now_ns: int, acked_seq: int, next_seq: int, hops: Sequence[HopTelemetry],
               declared_hops: int | None = None) -> bool:
        """An ACK for everything below ``acked_seq`` echoing ``hops`` (path order), sent when
        ``next_seq`` was the next sequence to send; ``declared_hops`` is the hop count the INT
        header claims. Sequences are monotonic (bytes or unwrapped PSNs). True if it updated W."""
        c = self.counters
        c.acks += 1
        if not hops:
            c.no_telemetry += 1
            return False
        if len(hops) > self.p.max_hops or (declared_hops or 0) > self.p.max_hops:
            c.too_many_hops += 1
            return False
        if declared_hops is not None and len(hops) < declared_hops:
            c.truncated += 1
            return False
        if not all(self._sane(h) for h in hops):
            c.malformed += 1
            return False
        last = self._last
        if [(h.switch_id, h.port) for h in last] != [(h.switch_id, h.port) for h in hops]:
            self._last = tuple(hops)
            c.path_changes += bool(last)
            return False
        mask = (1 << self.p.counter_bits) - 1
        if any((new.ts_ns - old.ts_ns) & mask < self.p.min_interval_ns for old, new in zip(last, hops)):
            c.too_soon += 1
            return False
        self._last = tuple(hops)
        self.utilisation = self._measure(last, hops)
        update = acked_seq > self._last_update_seq
        if update:
            self._last_update_seq = next_seq
            c.updates += 1
        self._compute_window(update)
        return True

    def _sane(self, hop: HopTelemetry) -> bool:
        top = 1 << self.p.counter_bits
        try:
            return (hop.rate_bps > 0 and hop.qlen_bytes >= 0 and 0 <= hop.tx_bytes < top
                    and 0 <= hop.ts_ns < top and hop.switch_id >= 0 and hop.port >= 0)
        except TypeError:  # a field that is not a number
            return False

    def _measure(self, last: Sequence[HopTelemetry], hops: Sequence[HopTelemetry]) -> float:
        """MeasureInflight: the smoothed utilisation of the most utilised hop."""
        t_ns = self.p.base_rtt_ns
        mask = (1 << self.p.counter_bits) - 1
        best, tau = -1.0, 0
        for old, new in zip(last, hops):
            dt = (new.ts_ns - old.ts_ns) & mask
            bytes_per_s = new.rate_bps / 8
            u = min(old.qlen_bytes, new.qlen_bytes) / (bytes_per_s * t_ns / 1e9)
            if dt:
                u += ((new.tx_bytes - old.tx_bytes) & mask) / (dt / 1e9) / bytes_per_s
            if u > best:
                best, tau = u, dt
        tau = min(tau, t_ns)
        return (1 - tau / t_ns) * self.utilisation + tau / t_ns * best

    def _compute_window(self, update: bool) -> None:
        """ComputeWind: toward eta from the most utilised hop, or additive increase."""
        p, u = self.p, self.utilisation
        if u >= p.eta or self.stage >= p.max_stage:
            w = self.reference / (max(u, 1e-9) / p.eta) + p.additive_increase
            stage = 0
        else:
            w = self.reference + p.additive_increase
            stage = self.stage + 1
        w = min(max(w, p.min_window), p.w_init)
        if update:
            self.reference, self.stage = w, stage
        self.window = w
        self.lowest = min(self.lowest, self.rate)
