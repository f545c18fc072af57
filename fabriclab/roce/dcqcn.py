"""DCQCN congestion control (Zhu et al., SIGCOMM 2015) as sans-I/O state machines.

The notification point (NP, receiver) turns ECN CE marks into CNPs, at most one per QP per
interval N. The reaction point (RP, sender) keeps a current rate R_C, a target rate R_T and
a congestion estimate alpha:

- on a CNP: R_T = R_C; R_C = R_C * (1 - alpha/2); alpha = (1-g)*alpha + g; counters reset;
- every K without a CNP: alpha = (1-g)*alpha;
- a rate-increase event every T (timer) and every B bytes sent (byte counter), with i the
  number of such events since the last cut on each counter:
  fast recovery while both counters are below F (R_C = (R_T + R_C)/2),
  additive increase when one has passed F (R_T += R_AI, then R_C = (R_T + R_C)/2),
  hyper increase when both have (R_T += i * R_HAI with i = min(counters) - F, then average).

Times are integer nanoseconds on the driver's clock. Parameters. The paper's values at 40 Gb/s with microsecond RTTs are g = 1/256, N = 50 us,
K = 55 us, T = 55 us, B = 10 MB, F = 5, R_AI = 40 Mb/s; R_HAI = 10 * R_AI as in NIC defaults.
The emulator runs at 1-100 Mb/s with RTTs of 0.1-50 ms, so `DcqcnParams.scaled(rate, rtt)`
keeps the algorithm's shape by scaling both axes: times by s = rtt / 10 us (the paper's
fabric RTT order), rates by line_rate / 40 Gb/s, and the byte counter by both (it stands for
"2 ms at line rate" in the paper, so it becomes 2 ms * s at our line rate). g and F are
dimensionless and unchanged. The floor is line_rate / 1000.

Distance needs no other parameters: every timer runs in absolute time and every CNP is one
cut, so the rate a flow gains per second and the cuts one congestion episode costs it do not
depend on its RTT. A far flow needs a window covering its BDP and an RTO above its RTT
(`qp.py`'s adaptive QP), not different gains. Measured in tests/unit/roce/test_fairness.py:
10 km and 500 km flows share a bottleneck within a few per cent; cutting at most once per RTT
(ignoring the CNPs still in flight after a cut) let the 500 km flow take 90-99% instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabriclab.errors import FabricError

PAPER_LINE_RATE = 40e9
PAPER_RTT_NS = 10_000


@dataclass(frozen=True)
class DcqcnParams:
    """Times in integer ns (the engines' clock), rates in bit/s, the byte counter in bytes."""

    line_rate: float  # bit/s
    g: float = 1 / 256
    cnp_interval_ns: int = 50_000  # N
    alpha_timer_ns: int = 55_000  # K
    increase_timer_ns: int = 55_000  # T
    byte_counter: int = 10_000_000  # B (bytes)
    fast_recovery: int = 5  # F
    rate_ai: float = 40e6  # bit/s
    rate_hai: float = 400e6  # bit/s
    min_rate: float = 40e6  # bit/s

    def __post_init__(self) -> None:
        times = (self.cnp_interval_ns, self.alpha_timer_ns, self.increase_timer_ns, self.byte_counter)
        if not all(isinstance(t, int) and t > 0 for t in times):
            raise FabricError(f"DCQCN timers (ns) and byte counter must be positive integers, not {times}")

    @classmethod
    def scaled(cls, line_rate: float, rtt_ns: int) -> DcqcnParams:
        """The paper's parameters mapped to an emulated link of `line_rate` bit/s and `rtt_ns`."""
        if line_rate <= 0 or rtt_ns <= 0:
            raise FabricError("DCQCN needs a positive line rate and RTT")
        s, r = rtt_ns / PAPER_RTT_NS, line_rate / PAPER_LINE_RATE
        return cls(
            line_rate=line_rate, cnp_interval_ns=max(1, round(50_000 * s)), alpha_timer_ns=max(1, round(55_000 * s)),
            increase_timer_ns=max(1, round(55_000 * s)), byte_counter=max(1, round(line_rate / 8 * 2e-3 * s)),
            rate_ai=40e6 * r, rate_hai=400e6 * r, min_rate=line_rate / 1000,
        )


class NotificationPoint:
    """Receiver side: decide whether a CE-marked packet for a QP triggers a CNP."""

    def __init__(self, params: DcqcnParams) -> None:
        self.interval = params.cnp_interval_ns
        self._last: dict[int, int] = {}
        self.cnps_sent = 0
        self.ce_seen = 0

    def on_ce(self, qpn: int, now: int) -> bool:
        self.ce_seen += 1
        last = self._last.get(qpn)
        if last is not None and now - last < self.interval:
            return False
        self._last[qpn] = now
        self.cnps_sent += 1
        return True


class ReactionPoint:
    """Sender side rate of one QP. Idle (at line rate, no timers) until the first CNP."""

    def __init__(self, params: DcqcnParams) -> None:
        self.p = params
        self.rate = params.line_rate  # R_C
        self.target = params.line_rate  # R_T
        self.alpha = 1.0
        self.cnps = 0
        self.lowest = params.line_rate  # lowest R_C so far, for reports
        self.active = False
        self._t_count = self._b_count = 0
        self._bytes = 0
        self._next_alpha = self._next_increase = 0
        self._idle_since: int | None = None

    def on_cnp(self, now: int) -> None:
        p = self.p
        self.cnps += 1
        if self._idle_since is not None:  # alpha kept decaying while the timers were off
            self.alpha *= (1 - p.g) ** ((now - self._idle_since) / p.alpha_timer_ns)
            self._idle_since = None
        self.target = self.rate
        self.rate = max(p.min_rate, self.rate * (1 - self.alpha / 2))
        self.lowest = min(self.lowest, self.rate)
        self.alpha = (1 - p.g) * self.alpha + p.g
        self._t_count = self._b_count = 0
        self._bytes = 0
        self.active = True
        self._next_alpha = now + p.alpha_timer_ns
        self._next_increase = now + p.increase_timer_ns

    def on_sent(self, nbytes: int, now: int) -> None:
        if not self.active:
            return
        self._bytes += nbytes
        while self.active and self._bytes >= self.p.byte_counter:
            self._bytes -= self.p.byte_counter
            self._b_count += 1
            self._increase(now)

    def deadline(self) -> int | None:
        return min(self._next_alpha, self._next_increase) if self.active else None

    def on_timer(self, now: int) -> None:
        p = self.p
        while self.active and min(self._next_alpha, self._next_increase) <= now:
            if self._next_alpha <= self._next_increase:
                self.alpha *= 1 - p.g
                self._next_alpha += p.alpha_timer_ns
            else:
                self._t_count += 1
                self._next_increase += p.increase_timer_ns
                self._increase(self._next_increase - p.increase_timer_ns)

    def _increase(self, now: int) -> None:
        p, f = self.p, self.p.fast_recovery
        if max(self._t_count, self._b_count) < f:
            pass  # fast recovery: approach the target only
        elif min(self._t_count, self._b_count) > f:
            self.target += (min(self._t_count, self._b_count) - f) * p.rate_hai
        else:
            self.target += p.rate_ai
        self.target = min(self.target, p.line_rate)
        self.rate = min((self.target + self.rate) / 2, p.line_rate)
        if self.rate >= p.line_rate * 0.999:
            self.rate = self.target = p.line_rate
            self.active = False
            self._idle_since = now
