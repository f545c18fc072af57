"""RC queue pairs over an impaired virtual-time fabric (two hosts on one fabric.p4 switch whose
ports lose, duplicate and reorder): exactly-once, intact delivery; gbn vs ooo."""

import random

import pytest

from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig, psn_add, psn_diff
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import star

MS = 1_000_000  # ns


class Pair:
    """h1 (NIC a) and h2 (NIC b) on a star; `port(host)` is the switch port's wire toward it."""

    def __init__(self, mode: str, faults: Impairments = Impairments(), seed: int = 1, delay_us: int = 50,
                 start_psn: int = 0xFFFF00) -> None:
        self.fabric = Fabric(star(2, bw_mbps=100, delay_us=delay_us), FabricOptions(impairments=faults), seed)
        A, B = (self.fabric.endpoint(h).ip for h in ("h1", "h2"))
        qcfg = QpConfig(pmtu=256, window=32, ack_every=4, rto_ns=4 * MS, mode=mode, start_psn=start_psn)
        self.a = RoceNic(NicConfig(A, line_rate=100e6, qp=qcfg))
        self.b = RoceNic(NicConfig(B, line_rate=100e6, qp=qcfg))
        self.a.connect(1, B, 2)
        self.b.connect(2, A, 1)
        for host, nic in (("h1", self.a), ("h2", self.b)):
            self.fabric.endpoint(host).attach(nic)

    def port(self, host: str):
        return self.fabric.wires[("sw1", int(host[1:]))].stats

    def run(self, until_ns: int, stop=None) -> None:
        """Kick both NICs (work was posted from outside) and run."""
        for host in ("h1", "h2"):
            self.fabric.endpoint(host).kick()
        self.fabric.run(until_ns=until_ns, stop=stop)


def pair(mode: str, faults: Impairments = Impairments(), seed: int = 1, delay_us: int = 50):
    p = Pair(mode, faults, seed, delay_us)
    return p, p.a, p.b


def run_messages(sim, a, b, n=60):
    rng = random.Random(7)
    mem = b.register(0x42, 64 * 1024)
    expected = bytearray(len(mem))
    sends, offset = [], 0
    for i in range(n):
        data = rng.randbytes(rng.randint(1, 1500))
        if i % 3 == 2:
            a.qp(1).post_send(i, data, imm=i)
            sends.append(data)
        else:
            a.qp(1).post_write(i, data, va=offset, rkey=0x42, imm=i if i % 2 else None)
            expected[offset:offset + len(data)] = data
            offset += len(data)
    sim.run(30_000 * MS, stop=lambda: len(a.completions) == n)
    return mem, expected, sends


@pytest.mark.parametrize("mode", ["gbn", "ooo"])
def test_exactly_once_and_intact_over_loss_reorder_duplication(mode):
    port = Impairments(loss=0.01, duplicate=0.01, reorder=0.05, reorder_ns=300_000)
    sim, a, b = pair(mode, port)
    mem, expected, sends = run_messages(sim, a, b)
    done = [c for _, c in a.completions]
    assert sorted(c.wr_id for c in done) == list(range(60))  # each WR completes exactly once
    assert all(c.error is None for c in done)
    assert mem == expected
    arrivals = [c for _, c in b.completions]
    assert [c.data for c in arrivals if c.kind == "recv"] == sends
    assert [c.imm for c in arrivals] == [i for i in range(60) if i % 3 == 2 or i % 2]
    c = a.qp_counters() | {"rx_" + k: v for k, v in b.qp_counters().items()}
    stats = sim.port("h2")
    assert stats.lost + sim.port("h1").lost > 0 and stats.duplicated > 0 and stats.reordered > 0
    assert c["retransmissions"] > 0 and c["rx_duplicates"] > 0 and c["rx_out_of_order"] > 0


def test_reordering_costs_gbn_naks_and_retransmissions_but_not_ooo():
    port = Impairments(reorder=0.1, reorder_ns=300_000)
    results = {}
    for mode in ("gbn", "ooo"):
        sim, a, b = pair(mode, port)
        mem, expected, _ = run_messages(sim, a, b)
        assert mem == expected
        results[mode] = (b.qp(2).counters, a.qp(1).counters)
    (g_rx, g_tx), (o_rx, o_tx) = results["gbn"], results["ooo"]
    assert g_rx.out_of_order > 0 and g_rx.naks_sent > 0 and g_tx.naks_received > 0 and g_tx.retransmissions > 0
    assert o_rx.out_of_order > 0 and o_rx.naks_sent == 0 and o_tx.retransmissions == 0 and o_tx.timeouts == 0


def test_psn_arithmetic_wraps_at_24_bits():
    assert psn_add(0xFFFFFF, 1) == 0
    assert psn_add(0, -1) == 0xFFFFFF
    assert psn_diff(2, 0xFFFFFE) == 4
    assert psn_diff(0xFFFFFE, 2) == -4


def test_window_bounds_outstanding_packets():
    sim, a, b = pair("gbn", delay_us=10_000)  # long RTT: the window, not the link, limits
    b.register(0x42, 64 * 1024)
    a.qp(1).post_write(1, bytes(32 * 1024), va=0, rkey=0x42)
    peak = 0

    def watch():
        nonlocal peak
        peak = max(peak, a.qp(1).outstanding)
        return bool(a.completions)

    sim.run(5_000 * MS, stop=watch)
    assert a.completions and peak == 32


def test_write_outside_region_is_nak_and_error_not_crash():
    sim, a, b = pair("gbn")
    b.register(0x42, 100)
    a.qp(1).post_write(5, bytes(300), va=0, rkey=0x42)
    sim.run(1_000 * MS, stop=lambda: bool(a.completions))
    (_, c), = a.completions
    assert c.wr_id == 5 and "remote access" in c.error
    assert b.qp(2).counters.access_errors == 1


def test_timer_runs_only_while_an_ackreq_packet_is_unacknowledged():
    from fabriclab.roce.qp import QueuePair

    qp = QueuePair(1, 2, QpConfig(pmtu=256, window=64, ack_every=16, rto_ns=10_000_000, start_psn=1))
    qp.post_write(1, bytes(256 * 40), va=0, rkey=1)
    now = 0
    for _ in range(15):  # PSNs 1..15: a slowly paced sender, no AckReq yet
        pkt = qp.next_packet(now)
        assert not pkt.ackreq
        now += 50_000_000
        qp.on_timer(now)
    assert qp.counters.timeouts == 0 and qp.deadline() is None
    pkt = qp.next_packet(now)  # PSN 16 asks for an ACK, which never comes
    assert pkt.psn == 16 and pkt.ackreq
    qp.on_timer(now + 11_000_000)
    assert qp.counters.timeouts == 1
    again = qp.next_packet(now + 11_000_000)
    assert again.psn == 1 and again.ackreq  # go-back-N from the oldest unacknowledged


def test_ooo_repairs_a_loss_by_resending_only_the_hole():
    port = Impairments(loss=0.02)
    counters = {}
    for mode in ("gbn", "ooo"):
        sim, a, b = pair(mode, port, seed=4)
        mem, expected, _ = run_messages(sim, a, b)
        assert mem == expected
        counters[mode] = (a.qp(1).counters, b.qp(2).counters, sim.port("h2").lost)
    (g_tx, _, _), (o_tx, o_rx, o_lost) = counters["gbn"], counters["ooo"]
    assert o_lost > 0 and o_rx.naks_sent > 0
    # each NAKed hole costs one packet; a timeout (lost tail, ACK or NAK) still goes back N
    assert o_tx.retransmissions <= o_tx.naks_received + o_tx.timeouts * 32
    assert o_tx.retransmissions < g_tx.retransmissions
