"""DCQCN reaction/notification points under scripted CE patterns, and in a marking incast."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.dcqcn import DcqcnParams, NotificationPoint, ReactionPoint
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.pacer import Pacer
from fabriclab.roce.qp import QpConfig
from controller.fabric_plan import Ecn, FabricConfig
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.runs import star

LINE = 100e6
MS = 1_000_000  # ns: the engines count integer nanoseconds
P = DcqcnParams.scaled(LINE, 1 * MS)


def test_scaling_keeps_the_papers_shape():
    assert P.cnp_interval_ns == 5 * MS and P.increase_timer_ns == 5_500_000
    assert P.rate_ai == pytest.approx(100e3) and P.rate_hai == pytest.approx(1e6)
    assert P.byte_counter == LINE / 8 * 0.2
    with pytest.raises(FabricError):
        DcqcnParams.scaled(0, MS)
    with pytest.raises(FabricError, match="integers"):
        DcqcnParams(LINE, cnp_interval_ns=0.5)  # seconds where ns belong


def test_cut_then_fast_recovery_then_additive_increase():
    rp = ReactionPoint(P)
    assert not rp.active and rp.rate == LINE and rp.deadline() is None
    rp.on_cnp(0)
    assert rp.rate == pytest.approx(LINE / 2)  # alpha starts at 1: R_C halves
    assert rp.target == LINE
    assert rp.alpha == pytest.approx(1.0)
    T = P.increase_timer_ns
    rates = []
    for k in range(1, 8):
        rp.on_timer(k * T + 1)
        rates.append(rp.rate)
    # fast recovery (F-1 = 4 timer events): halve the distance to the unchanged target
    gap = LINE / 2
    for r in rates[:4]:
        gap /= 2
        assert r == pytest.approx(LINE - gap)
    # then additive increase: the target itself grows, so rate keeps climbing past it
    assert rp.target > LINE - 1 or not rp.active  # target clipped at line rate
    assert rates == sorted(rates)
    assert rp.alpha < 1.0  # alpha decays every K without CNPs


def test_second_cnp_cuts_from_current_rate_with_updated_alpha():
    rp = ReactionPoint(P)
    rp.on_cnp(0)
    rp.on_timer(P.alpha_timer_ns * 3 + 1)  # alpha decayed 3 times, rate recovered some
    alpha, rate = rp.alpha, rp.rate
    assert alpha == pytest.approx((1 - P.g) ** 3) and LINE / 2 < rate < LINE
    rp.on_cnp(P.alpha_timer_ns * 3 + 2)
    assert rp.target == pytest.approx(rate)
    assert rp.rate == pytest.approx(rate * (1 - alpha / 2))
    assert rp.alpha == pytest.approx((1 - P.g) * alpha + P.g)


def test_hyper_increase_needs_both_timer_and_byte_counter_past_F():
    rp = ReactionPoint(DcqcnParams(line_rate=LINE, rate_ai=1e3, rate_hai=1e5, byte_counter=1000,
                                   increase_timer_ns=1000, alpha_timer_ns=1000, min_rate=1e3))
    rp.on_cnp(0)
    rp.on_cnp(0)  # target = LINE/2, rate = LINE/4
    for _ in range(7):
        rp.on_sent(1000, 0)  # byte counter alone: 4 fast-recovery events, then additive
    t0 = rp.target
    assert t0 == pytest.approx(LINE / 2 + 3 * 1e3)  # byte events 5, 6 and 7 add R_AI
    for k in range(1, 7):
        rp.on_timer(k * 1000 + 1)  # timer count reaches 6 > F: both past F -> hyper
    assert rp.target >= t0 + 1e5


def test_rate_never_below_floor_or_above_line():
    rp = ReactionPoint(P)
    for i in range(2000):
        rp.on_cnp(i * 1000)
    assert rp.rate == pytest.approx(P.min_rate)
    rp.on_timer(100_000 * MS)
    assert rp.rate <= LINE


def test_notification_point_one_cnp_per_qp_per_interval():
    np_ = NotificationPoint(P)
    n = P.cnp_interval_ns
    marks = [(1, 0), (1, n // 10), (2, n // 5), (1, 9 * n // 10), (1, 21 * n // 20), (2, 11 * n // 10), (1, 3 * n // 2)]
    assert [np_.on_ce(q, t) for q, t in marks] == [True, False, True, False, True, False, False]
    assert np_.cnps_sent == 3 and np_.ce_seen == 7


def test_pacer_never_exceeds_rate_beyond_burst():
    p = Pacer(10e6, burst=1500)
    sent, now = 0, 0
    while now < 100 * MS:
        while p.ready(now):
            p.sent(1000, now)
            sent += 1000
        assert sent * 8 <= 10e6 * now / 1e9 + 8 * (1500 + 1000)
        now += 700_000
    assert sent * 8 >= 10e6 * now / 1e9 - 8 * (1500 + 1000)  # and keeps it: no drift from rounding


def test_pacer_keeps_sub_nanosecond_frame_times_exact():
    p = Pacer(800e9, burst=0)  # a 64-byte frame lasts 0.64 ns at 800 Gb/s
    p.sent(64, 0)
    for _ in range(99_999):
        p.sent(64, p.next_ns)
    assert abs(p.next_ns - 64_000) <= 1  # 100,000 frames take 64 us (rounding each: 0 or 100 us)


def incast(dcqcn: bool):
    """Two senders (h1, h2) at line rate into one receiver (h3) whose fabric.p4 switch port
    marks CE from 20 packets of queue (about 20 kB) up."""
    config = FabricConfig(ecn=Ecn(kmin=20, kmax=21))
    fabric = Fabric(star(3, bw_mbps=LINE / 1e6, delay_us=250), FabricOptions(queue_bytes=400_000, config=config), 3)
    params = DcqcnParams.scaled(LINE, MS) if dcqcn else None
    qcfg = QpConfig(pmtu=1024, window=256, ack_every=16, rto_ns=50 * MS)
    hosts = {h: RoceNic(NicConfig(fabric.endpoint(h).ip, line_rate=LINE, qp=qcfg, dcqcn=params))
             for h in ("h1", "h2", "h3")}
    rx = hosts["h3"]
    rx.register(7, 4 << 20)
    for i, h in enumerate(("h1", "h2")):
        rx.connect(10 + i, hosts[h].cfg.ip, 1)
        hosts[h].connect(1, rx.cfg.ip, 10 + i)
        hosts[h].qp(1).post_write(1, bytes(1 << 20), va=i << 20, rkey=7)
    for h, nic in hosts.items():
        fabric.endpoint(h).attach(nic)
        fabric.endpoint(h).kick()
    samples = []
    fabric.run(until_ns=300 * MS, stop=lambda: samples.append(hosts["h1"].rate(1)) or False)
    return fabric, hosts, samples


def test_incast_with_ecn_marking_sends_cnps_and_cuts_sender_rate():
    _, hosts, rates = incast(dcqcn=True)
    rx = hosts["h3"]
    assert rx.counters.ce_marked > 0
    assert rx.counters.cnps_sent > 0
    assert hosts["h1"].counters.cnps_received > 0 and hosts["h2"].counters.cnps_received > 0
    assert min(rates) < 0.6 * LINE  # the sender's rate dropped
    assert hosts["h1"].reaction_point(1).cnps > 0


def test_incast_without_dcqcn_keeps_line_rate_and_sends_no_cnps():
    _, hosts, rates = incast(dcqcn=False)
    assert hosts["h3"].counters.ce_marked > 0
    assert hosts["h3"].counters.cnps_sent == 0 and min(rates) == LINE


def test_scripted_ce_pattern_through_two_nics_cut_recover_increase():
    """Receiver marks CE on every data packet for 20 ms, then never: the sender's rate is cut
    at most once per CNP interval during the marking, then climbs back (fast recovery towards
    the target, then additive/hyper increase of the target)."""
    params = DcqcnParams.scaled(LINE, MS // 10)  # N = 0.5 ms, K = T = 0.55 ms
    tx = RoceNic(NicConfig("10.0.0.1", line_rate=LINE, qp=QpConfig(window=256), dcqcn=params))
    rx = RoceNic(NicConfig("10.0.0.2", line_rate=LINE, qp=QpConfig(window=256), dcqcn=params))
    rx.register(1, 64 << 20)
    tx.connect(1, "10.0.0.2", 2)
    rx.connect(2, "10.0.0.1", 1)
    tx.qp(1).post_write(1, bytes(48 << 20), va=0, rkey=1)
    rp = tx.reaction_point(1)
    trace, now, step = [], 0, 20_000
    while now < 200 * MS:
        for dg in tx.poll(now):
            rx.receive(dg.payload, "10.0.0.1", dg.sport, 5 * MS <= now < 25 * MS, now)
        for dg in rx.poll(now):
            tx.receive(dg.payload, "10.0.0.2", dg.sport, False, now)
        trace.append((now, rp.rate, rp.cnps, rp.target))
        now += step
    before = [r for t, r, _, _ in trace if t < 5 * MS]
    during = [x for x in trace if 5 * MS <= x[0] < 25 * MS]
    after = [r for t, r, _, _ in trace if t >= 30 * MS]
    assert set(before) == {LINE}
    cnps = during[-1][2]
    # at most one CNP per interval (fewer once the cut rate leaves intervals without packets)
    assert 5 <= cnps <= 20 * MS / params.cnp_interval_ns + 1
    assert during[-1][1] < 0.2 * LINE  # repeated cuts
    low = during[-1][1]
    assert after[0] > low and after == sorted(after)  # recovery never goes down without CNPs
    target_at_end_of_marking = during[-1][3]
    assert rp.target > target_at_end_of_marking  # additive/hyper increase raised the target itself
    assert rp.rate > 3 * low
    assert rx.counters.ce_marked > cnps and rx.counters.cnps_sent == cnps
