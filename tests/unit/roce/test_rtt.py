"""Distance-adaptive transport, sans-I/O: RTT estimation, the BDP window, RTO from the smoothed
RTT and DCQCN scaled to a measured RTT, for a near (10 km) and a far (500 km) path."""

import heapq

import pytest

from fabriclab.errors import FabricError
from fabriclab.roce.dcqcn import DcqcnParams, ReactionPoint
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


def test_dcqcn_adapts_to_the_measured_rtt_near_and_far():
    """A far flow's CNPs of one congestion episode keep arriving for an RTT: adapted, it cuts
    at most once per its RTT; increase timer and R_AI stay, so the rate gained per second
    is the near flow's. A path no longer than the tuning keeps the parameters."""
    base_rtt = 10_000
    base = DcqcnParams.scaled(RATE, base_rtt)
    assert base.for_rtt(5_000, base_rtt) == base and base.min_cut_interval_ns == 0
    near, far = base.for_rtt(rtt_of(NEAR_KM), base_rtt), base.for_rtt(rtt_of(FAR_KM), base_rtt)
    assert (near.min_cut_interval_ns, far.min_cut_interval_ns) == (rtt_of(NEAR_KM), rtt_of(FAR_KM))
    for p in (near, far):
        assert (p.increase_timer_ns, p.rate_ai, p.byte_counter, p.g) == \
            (base.increase_timer_ns, base.rate_ai, base.byte_counter, base.g)
    rates, cnps = {}, {}
    for name, km in (("fixed", None), ("near", NEAR_KM), ("far", FAR_KM)):
        rp = ReactionPoint(base)
        if km is not None:
            rp.adapt(base, rtt_of(km), base_rtt)
        for t in range(0, rtt_of(FAR_KM), 50_000):  # one CNP per N over one far RTT
            rp.on_cnp(t)
        rates[name], cnps[name] = rp.rate, rp.cnps
    assert cnps == {"fixed": 100, "near": 100, "far": 100}  # all heard, not all acted on
    assert rates["far"] == RATE * (1 - 1 / 2)  # one cut with alpha = 1
    assert rates["fixed"] <= rates["near"] < rates["far"]  # fixed: a cut per CNP
