"""Distance-adaptive transport, sans-I/O: RTT estimation, the BDP window, RTO from the smoothed
RTT (Karn's back-off) and HPCC's T from the measured RTT, for a near (10 km) and a far (500 km)
path. DCQCN needs no scaling (tests/unit/roce/test_fairness.py shows why)."""

import heapq

import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.hpcc import HpccParams, HpccReactionPoint
from fabriclab.roce.qp import QpConfig, QueuePair
from fabriclab.roce.rtt import HEADER_BYTES, RttEstimator, bdp_bytes, bdp_window
from topologies.builders import fibre_delay_us

US = 1_000
RATE = 400e9
NEAR_KM, FAR_KM = 10, 500


def rtt_of(km: float) -> int:
    return 2 * fibre_delay_us(km) * US


def test_estimator_follows_rfc6298_filter_and_clamps_the_rto():
    est = RttEstimator(initial_rto_ns=5_000_000, min_rto_ns=100_000)
    assert est.rto_ns == 5_000_000  # no sample yet: the configured RTO
    est.sample(1_000_000)
    assert (est.srtt_ns, est.rttvar_ns, est.rto_ns) == (1_000_000, 500_000, 3_000_000)
    est.sample(2_000_000)
    assert est.srtt_ns == (7 * 1_000_000 + 2_000_000) // 8
    assert est.rttvar_ns == (3 * 500_000 + 1_000_000) // 4
    assert est.min_rtt_ns == 1_000_000
    for _ in range(200):  # a steady short path: variance decays, the RTO floor holds
        est.sample(10_000)
    assert est.srtt_ns < 20_000 and est.rto_ns == 100_000
    with pytest.raises(FabricError):
        est.sample(-1)


def test_int_timestamps_give_a_sample_without_an_ack():
    est = RttEstimator(initial_rto_ns=1)
    est.sample_int(first_hop_ts_ns=1_000, now=2_501_000)
    assert est.srtt_ns == 5_000_000  # symmetric: twice the forward path


def test_bdp_window_near_and_far():
    near, far = rtt_of(NEAR_KM), rtt_of(FAR_KM)
    assert (near, far) == (100_000, 5_000_000)
    assert bdp_bytes(RATE, far) == 250_000_000
    wn = bdp_window(RATE, near, 4096)
    wf = bdp_window(RATE, far, 4096, ceiling=1 << 20)
    assert wn == -(-bdp_bytes(RATE, near) * 1.25 // (4096 + HEADER_BYTES))
    assert wf == pytest.approx(50 * wn, rel=0.01)  # window scales with the distance
    assert bdp_window(RATE, far, 4096, ceiling=1000) == 1000
    assert bdp_window(RATE, 0, 4096, floor=32) == 32


def transfer(cfg: QpConfig, one_way_ns: int, nbytes: int, rate: float = RATE) -> tuple[QueuePair, int, int]:
    """Two QPs joined by a paced wire of `one_way_ns` each way: write `nbytes` from a to b;
    returns (requester, completion time, most packets ever outstanding)."""
    a, b = QueuePair(1, 2, cfg), QueuePair(2, 1, cfg, regions={7: bytearray(nbytes)})
    a.post_write(1, bytes(range(256)) * (nbytes // 256), 0, 7)
    events: list[tuple[int, int, QueuePair, object]] = []
    seq, now, free, peak = 0, 0, 0, 0
    while True:
        while a.can_send():
            pkt = a.next_packet(now)
            if pkt is None:
                break
            free = max(free, now) + round((len(pkt.payload) + HEADER_BYTES) * 8e9 / rate)
            heapq.heappush(events, (free + one_way_ns, seq := seq + 1, b, pkt))
            peak = max(peak, a.outstanding)
        if a.completions:
            return a, now, peak
        when = [e[0] for e in events[:1]] + [d for d in (a.deadline(),) if d is not None]
        now = max(now, min(when))
        if a.deadline() is not None and a.deadline() <= now:
            a.on_timer(now)
        while events and events[0][0] <= now:
            _, _, dst, pkt = heapq.heappop(events)
            for ack in dst.receive(pkt, now):
                heapq.heappush(events, (now + one_way_ns, seq := seq + 1, a, ack))


def test_default_qp_keeps_its_fixed_window_and_rto():
    qp, _, peak = transfer(QpConfig(pmtu=4096, window=32), fibre_delay_us(FAR_KM) * US, 1 << 20)
    assert peak == 32 and qp.window == 32
    assert qp.rtt.samples == 0 and qp._rto() == QpConfig().rto_ns


@pytest.mark.parametrize("km", [NEAR_KM, FAR_KM])
def test_adaptive_qp_measures_rtt_sizes_window_to_bdp_and_rto_to_srtt(km):
    one_way = fibre_delay_us(km) * US
    cfg = QpConfig(pmtu=4096, window=32, adaptive=True, bdp_rate=RATE, max_window=1 << 16)
    qp, _, _ = transfer(cfg, one_way, 4 << 20)
    assert qp.rtt.samples >= 1
    assert 2 * one_way <= qp.rtt.min_rtt_ns < 2 * one_way + 200_000  # propagation + serialisation
    assert qp.window == bdp_window(RATE, qp.rtt.srtt_ns, 4096, floor=32, ceiling=1 << 16)
    assert qp._rto() == qp.rtt.rto_ns and qp.rtt.rto_ns >= qp.rtt.srtt_ns
    if km == FAR_KM:
        assert qp.window > 1000  # a 500 km path needs thousands of packets in flight


def test_adaptive_window_beats_fixed_window_far_away():
    one_way = fibre_delay_us(FAR_KM) * US
    fixed = transfer(QpConfig(pmtu=4096, window=32), one_way, 8 << 20)[1]
    adaptive = transfer(QpConfig(pmtu=4096, window=32, adaptive=True, bdp_rate=RATE,
                                 max_window=1 << 16), one_way, 8 << 20)[1]
    assert fixed > 5 * adaptive  # 64 round trips vs a couple


def test_responder_accepts_up_to_the_agreed_max_window():
    cfg = QpConfig(window=4, ack_every=1, max_window=64)
    assert cfg.accept_window == 64
    with pytest.raises(FabricError):
        QpConfig(window=64, max_window=8)
    with pytest.raises(FabricError):
        QpConfig(bdp_rate=0)


def test_far_path_longer_than_the_first_rto_still_gets_a_sample():
    """Karn: the first RTO (1 ms) is shorter than a 500 km RTT (5 ms). The backed-off RTO must
    hold until a packet sent once is timed; resetting it on any ACK times out forever."""
    cfg = QpConfig(pmtu=4096, window=32, rto_ns=1_000_000, adaptive=True, bdp_rate=RATE, max_window=1 << 16)
    qp, _, _ = transfer(cfg, fibre_delay_us(FAR_KM) * US, 8 << 20)
    assert qp.rtt.samples >= 1 and qp.rtt.min_rtt_ns >= rtt_of(FAR_KM)
    assert qp.counters.timeouts <= 3  # 1, 2 and 4 ms back-offs, then the sample
    assert qp._rto() == qp.rtt.rto_ns >= rtt_of(FAR_KM)


def test_rto_never_below_the_configured_one():
    cfg = QpConfig(pmtu=4096, window=32, rto_ns=2_000_000, adaptive=True)
    qp, _, _ = transfer(cfg, fibre_delay_us(NEAR_KM) * US, 1 << 20)
    assert qp.rtt.srtt_ns < 1_000_000 and qp._rto() == 2_000_000


def test_hpcc_takes_t_from_the_far_path_and_keeps_its_rate():
    """A far path's T is its RTT (W_init is its BDP); W and W_c scale so the rate holds, and
    W_AI grows with the square of the stretch so the rate gained per second is the same."""
    base = HpccParams(RATE, base_rtt_ns=10_000)
    rp = HpccReactionPoint(base)
    rp.window = rp.reference = base.w_init / 2
    rate = rp.rate
    rp.adapt(5_000)  # shorter than the tuning: unchanged
    assert rp.p is base
    rp.adapt(rtt_of(FAR_KM))
    s = rtt_of(FAR_KM) / base.base_rtt_ns
    assert rp.p.base_rtt_ns == rtt_of(FAR_KM) and rp.p.w_init == pytest.approx(base.w_init * s)
    assert rp.rate == pytest.approx(rate)
    assert rp.p.additive_increase / rp.p.base_rtt_ns ** 2 == pytest.approx(base.additive_increase / base.base_rtt_ns ** 2)
    rp.adapt(rtt_of(NEAR_KM))  # a shorter least RTT later (a better path): T follows it down
    assert rp.p.base_rtt_ns == rtt_of(NEAR_KM) and rp.rate == pytest.approx(rate)


def nic_transfer(adaptive_cc: bool, one_way_ns: int, nbytes: int = 256 << 10):
    """Two HPCC NICs over a wire of `one_way_ns` each way (no switch, so no INT): the sender's
    reaction point after `nbytes` have been written and acknowledged."""
    from fabriclab.roce.nic import NicConfig, RoceNic

    rate = 10e9
    qp = QpConfig(pmtu=4096, window=32, rto_ns=50_000_000, adaptive=True, bdp_rate=rate, max_window=4096)
    hpcc = HpccParams(rate, base_rtt_ns=10_000)
    a, b = (RoceNic(NicConfig(ip, line_rate=rate, qp=qp, hpcc=hpcc, cc="hpcc", adaptive_cc=adaptive_cc))
            for ip in ("10.0.0.1", "10.0.0.2"))
    b.register(9, nbytes)
    a.connect(1, "10.0.0.2", 2).post_write(1, bytes(nbytes), 0, 9)
    b.connect(2, "10.0.0.1", 1)
    events, seq, now = [], 0, 0
    peer = {id(a): (b, "10.0.0.1"), id(b): (a, "10.0.0.2")}
    while now < 1_000_000_000 and not any(c.kind == "write" for _, c in a.completions):
        for nic in (a, b):
            dst, src_ip = peer[id(nic)]
            for d in nic.poll(now):
                heapq.heappush(events, (now + one_way_ns, seq := seq + 1, dst, src_ip, d))
        wake = [w for w in (a.next_wakeup(), b.next_wakeup()) if w is not None and w > now]
        now = min([e[0] for e in events[:1]] + wake)
        while events and events[0][0] <= now:
            _, _, dst, src_ip, d = heapq.heappop(events)
            dst.receive(d.payload, src_ip, d.sport, False, now, d.dst_port)
    return a.reaction_point(1)


def test_nic_gives_hpcc_the_paths_rtt_when_adaptive():
    far = nic_transfer(True, fibre_delay_us(FAR_KM) * US)
    assert rtt_of(FAR_KM) <= far.p.base_rtt_ns < rtt_of(FAR_KM) + 100_000  # the least RTT sample
    assert far.p.w_init == pytest.approx(10e9 / 8 * far.p.base_rtt_ns / 1e9)
    fixed = nic_transfer(False, fibre_delay_us(FAR_KM) * US)
    assert fixed.p.base_rtt_ns == 10_000  # without adaptive_cc: the configured T
