"""HPCC's window update on scripted INT telemetry: one congested hop, the most utilised of two
hops wins, additive increase then maxStage recovery, once-per-RTT reference updates, and bad
telemetry counted and ignored."""

from __future__ import annotations

import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.hpcc import HopTelemetry, HpccParams, HpccReactionPoint

RATE = 100e9  # bit/s
T = 10_000  # ns base RTT
BDP = RATE / 8 * T / 1e9  # 125000 bytes = W_init
W_AI = BDP * 0.05 / 100  # 62.5 bytes


class Link:
    """A scripted egress port: its cumulative tx bytes and clock advance as we say."""

    def __init__(self, switch_id: int, rate: float = RATE, port: int = 1):
        self.switch_id, self.rate, self.port = switch_id, rate, port
        self.tx = self.ts = 0

    def record(self, qlen: float = 0, load: float = 1.0, dt: int = T) -> HopTelemetry:
        """The hop's record ``dt`` ns after the previous one, having sent at ``load`` x rate."""
        self.ts += dt
        self.tx = (self.tx + round(load * self.rate / 8 * dt / 1e9)) % (1 << 32)
        return HopTelemetry(self.switch_id, self.port, round(qlen), self.tx, self.ts % (1 << 32),
                            int(self.rate))


class Sender:
    """An HPCC reaction point fed one ACK per call, each a new RTT unless told otherwise."""

    def __init__(self, **params):
        self.rp = HpccReactionPoint(HpccParams(line_rate=RATE, base_rtt_ns=T, **params))
        self.seq = 0

    def ack(self, hops, same_rtt: bool = False, declared=None) -> bool:
        acked = self.seq if same_rtt else self.seq + 1000
        self.seq = max(self.seq, acked) + (0 if same_rtt else 1000)
        return self.rp.on_ack(0, acked, self.seq, hops, declared)


def test_initial_window_is_one_bdp_at_line_rate():
    rp = Sender().rp
    assert rp.window == BDP and rp.rate == pytest.approx(RATE) and not rp.active
    assert rp.p.additive_increase == pytest.approx(W_AI)


def test_one_congested_hop_cuts_the_window_toward_eta():
    s, link = Sender(), Link(1)
    assert not s.ack([link.record(qlen=BDP / 2)])  # the first record is only a reference
    assert s.ack([link.record(qlen=BDP / 2)])  # u = 0.5 (queue) + 1.0 (tx rate) = 1.5
    assert s.rp.utilisation == pytest.approx(1.5)
    w1 = BDP / (1.5 / 0.95) + W_AI
    assert s.rp.window == pytest.approx(w1) and s.rp.reference == pytest.approx(w1)
    assert s.rp.rate == pytest.approx(w1 * 8e9 / T)  # paced at W / T
    s.ack([link.record(qlen=BDP / 2)])  # still congested: multiplicative again from W_c
    assert s.rp.window == pytest.approx(w1 / (1.5 / 0.95) + W_AI)
    assert s.rp.lowest == pytest.approx(s.rp.rate) and s.rp.active


def test_queue_term_takes_the_smaller_of_two_consecutive_records():
    s, link = Sender(), Link(1)
    s.ack([link.record(qlen=0)])
    s.ack([link.record(qlen=BDP)])  # a spike in one record only: min(0, BDP) = 0
    assert s.rp.utilisation == pytest.approx(1.0)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_most_utilised_of_two_hops_sets_the_window(order):
    s = Sender()
    links = [Link(1), Link(2)]
    queues = [0.2 * BDP, 0.5 * BDP]  # u = 1.2 and 1.5
    for _ in range(2):
        s.ack([links[i].record(qlen=queues[i]) for i in order])
    assert s.rp.utilisation == pytest.approx(1.5)
    assert s.rp.window == pytest.approx(BDP / (1.5 / 0.95) + W_AI)


def test_utilisation_is_relative_to_each_hops_own_rate():
    s = Sender()
    fast, slow = Link(1, rate=100e9), Link(2, rate=25e9)
    for _ in range(2):  # 50 Gb/s on the 100G hop (u 0.5); 25 Gb/s on the 25G hop (u 1.0)
        s.ack([fast.record(load=0.5), slow.record(load=1.0)])
    assert s.rp.utilisation == pytest.approx(1.0)


def test_smoothing_weighs_the_winning_hops_interval_against_t():
    s, link = Sender(), Link(1)
    s.ack([link.record(qlen=BDP)])
    s.ack([link.record(qlen=BDP, dt=T // 2)])  # tau = T/2: half of u = 1.0 + 1.0 enters U = 0
    assert s.rp.utilisation == pytest.approx(0.5 * 2.0)


def test_tau_is_the_winning_hops_interval_not_another_hops():
    s, a, b = Sender(), Link(1), Link(2)
    s.ack([a.record(qlen=0.2 * BDP), b.record(qlen=BDP)])
    s.ack([a.record(qlen=0.2 * BDP, dt=T), b.record(qlen=BDP, dt=T // 2)])  # u 1.2 vs 2.0
    assert s.rp.utilisation == pytest.approx(0.5 * 2.0)


def test_recovery_by_additive_increase_then_a_jump_after_max_stage():
    s, link = Sender(), Link(1)
    s.ack([link.record(qlen=2 * BDP)])
    s.ack([link.record(qlen=2 * BDP)])  # u = 3.0
    w = BDP / (3.0 / 0.95) + W_AI
    assert s.rp.window == pytest.approx(w)
    windows = []
    for _ in range(6):  # the queue has drained (min(2 BDP, 0) = 0), half the link is used
        s.ack([link.record(qlen=0, load=0.5)])  # u = 0.5 < eta
        windows.append(s.rp.window)
    assert windows[:5] == pytest.approx([w + k * W_AI for k in range(1, 6)])  # stages 1..5
    assert windows[5] == pytest.approx(windows[4] / (0.5 / 0.95) + W_AI)  # maxStage reached
    assert s.rp.stage == 0
    for _ in range(20):
        s.ack([link.record(qlen=0, load=0.5)])
    assert s.rp.window == BDP  # never beyond line rate


def test_acks_within_one_rtt_react_without_moving_the_reference():
    s, link = Sender(), Link(1)
    s.ack([link.record(qlen=BDP / 2)])
    s.ack([link.record(qlen=BDP / 2)])
    ref, updates = s.rp.reference, s.rp.counters.updates
    assert s.ack([link.record(qlen=BDP, dt=T)], same_rtt=True)  # u = 0.5 + 1.0 again
    assert s.rp.reference == ref and s.rp.counters.updates == updates
    assert s.rp.window == pytest.approx(ref / (s.rp.utilisation / 0.95) + W_AI)


def test_counters_that_wrap_still_give_the_right_rate():
    s, link = Sender(), Link(1)
    link.tx = (1 << 32) - 1000  # wraps within the next interval
    link.ts = (1 << 32) - 10
    for _ in range(2):
        s.ack([link.record(load=0.8)])
    assert s.rp.utilisation == pytest.approx(0.8, rel=1e-6)


def good(switch_id=1):
    return HopTelemetry(switch_id, 1, 0, 1000, 1000, int(RATE))


@pytest.mark.parametrize("hops, declared, counter", [
    ([], None, "no_telemetry"),
    ([good(i) for i in range(9)], None, "too_many_hops"),
    ([good()], 9, "too_many_hops"),
    ([good(1), good(2)], 3, "truncated"),
    ([HopTelemetry(1, 1, 0, 1000, 1000, 0)], None, "malformed"),  # rate 0
    ([HopTelemetry(1, 1, -5, 1000, 1000, int(RATE))], None, "malformed"),
    ([HopTelemetry(1, 1, 0, 1 << 32, 1000, int(RATE))], None, "malformed"),  # beyond 32 bits
    ([HopTelemetry(1, 1, None, 1000, 1000, int(RATE))], None, "malformed"),  # not a number
])
def test_bad_telemetry_is_counted_and_ignored(hops, declared, counter):
    s, link = Sender(), Link(1)
    s.ack([link.record(qlen=BDP / 2)])
    s.ack([link.record(qlen=BDP / 2)])
    before = (s.rp.window, s.rp.reference, s.rp.utilisation, s.rp._last)
    assert not s.ack(hops, declared=declared)
    assert getattr(s.rp.counters, counter) == 1
    assert (s.rp.window, s.rp.reference, s.rp.utilisation, s.rp._last) == before
    assert s.ack([link.record(qlen=BDP / 2)])  # the next good ACK continues the measurement
    assert s.rp.utilisation == pytest.approx(1.5)


def test_a_new_path_restarts_the_measurement():
    s, a, b = Sender(), Link(1), Link(2)
    s.ack([a.record(qlen=BDP / 2)])
    s.ack([a.record(qlen=BDP / 2)])
    w = s.rp.window
    assert not s.ack([b.record(qlen=BDP)])  # rerouted: a reference, not a measurement
    assert s.rp.counters.path_changes == 1 and s.rp.window == w
    assert s.ack([b.record(qlen=BDP)])
    assert s.rp.utilisation == pytest.approx(2.0)


def test_window_gate_and_reaction_point_shape():
    s = Sender(min_rate=1e3)
    rp = s.rp
    assert rp.can_send(0) and rp.can_send(int(BDP) - 1) and not rp.can_send(int(BDP))
    rp.on_cnp(5)
    rp.on_sent(1000, 5)
    rp.on_timer(5)
    assert rp.counters.cnps_ignored == 1 and rp.deadline() is None and rp.window == BDP
    with pytest.raises(FabricError):
        HpccParams(line_rate=0, base_rtt_ns=T)
    with pytest.raises(FabricError):
        HpccParams(line_rate=RATE, base_rtt_ns=T, eta=1.5)
