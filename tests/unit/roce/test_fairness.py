"""RTT fairness in virtual time: a 10 km and a 500 km flow through one ECN-marking bottleneck,
twice: through a modelled FIFO (`shares`, fast enough for two rates) and through fabric.p4
on the virtual-time fabric (`fabric_shares`, the switch's own ECN marking).

In `shares` the NIC engines are the real ones (QPs, DCQCN reaction and notification points, pacers);
the network is the least that shows the physics: each sender's own fibre (5 us per km each
way), one FIFO at the line rate that marks CE with RED's probability between `kmin` and
`kmax` bytes, and the ACK/CNP path back over the same fibre. Both senders have a backlog
for the whole run; the share is each QP's acknowledged bytes over the second half.

What makes a single-site stack unfair is its window: 32 packets in flight cap the 500 km
flow (a 5 ms RTT) below its share. The distance-adaptive QP (BDP window, RTO from the
smoothed RTT, Karn's backed-off RTO until a clean sample) shares within a few per cent:
DCQCN's timers are absolute and every CNP is one cut, so neither flow's rate gain per
second nor its cuts per congestion episode depend on its RTT.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass

import pytest

from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.framing import IP_UDP_LEN
from fabriclab.roce.nic import ETH_HEADER, Datagram, NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig, psn_diff
from topologies.builders import fibre_delay_us

NEAR_KM, FAR_KM = 10, 500
MESSAGE = 1 << 20
RECEIVER = "10.0.0.100"


@dataclass(frozen=True)
class Bottleneck:
    rate: float  # bit/s
    kmin: int = 5_000  # bytes
    kmax: int = 40_000
    pmax: float = 0.1


def shares(qp: QpConfig, link: Bottleneck, duration_ns: int, kms: tuple[float, ...] = (NEAR_KM, FAR_KM),
           seed: int = 1) -> list[float]:
    """Each flow's goodput (bit/s) over the second half of `duration_ns`."""
    rng = random.Random(seed)
    one_way = [fibre_delay_us(km) * 1000 for km in kms]
    dcqcn = DcqcnParams.scaled(link.rate, 2 * one_way[0])  # tuned for the near (intra-site) RTT
    def nic(ip: str) -> RoceNic:
        return RoceNic(NicConfig(ip, line_rate=link.rate, qp=qp, dcqcn=dcqcn, cc="dcqcn"))
    receiver = nic(RECEIVER)
    senders = [nic(f"10.0.0.{i + 1}") for i in range(len(kms))]
    index = {s.cfg.ip: i for i, s in enumerate(senders)}
    events: list = []
    seq = itertools.count()

    def at(t: int, fn, *args) -> None:
        heapq.heappush(events, (t, next(seq), fn, args))

    qps = []
    posts = int(link.rate / 8 * duration_ns / 1e9 / MESSAGE) + 2
    for i, s in enumerate(senders):
        receiver.register(0x10 + i, MESSAGE)
        qps.append(s.connect(0x100 + i, RECEIVER, 0x200 + i))
        receiver.connect(0x200 + i, s.cfg.ip, 0x100 + i)
        for w in range(posts):
            qps[i].post_write(w, bytes(MESSAGE), 0, 0x10 + i)
    fifo: deque[tuple[str, Datagram, bool, int]] = deque()
    queued = [0]

    def enqueue(now: int, src: str, d: Datagram) -> None:
        size = len(d.payload) + IP_UDP_LEN + ETH_HEADER
        q = queued[0]
        ce = q > link.kmax or (q > link.kmin and rng.random() < link.pmax * (q - link.kmin) / (link.kmax - link.kmin))
        fifo.append((src, d, ce, size))
        queued[0] += size
        if len(fifo) == 1:
            at(now + round(size * 8e9 / link.rate), dequeue)

    def dequeue(now: int) -> None:
        src, d, ce, size = fifo.popleft()
        queued[0] -= size
        receiver.receive(d.payload, src, d.sport, ce, now, d.dst_port)
        drive(now, receiver)
        if fifo:
            at(now + round(fifo[0][3] * 8e9 / link.rate), dequeue)

    def back(now: int, d: Datagram) -> None:
        s = senders[index[d.dst_ip]]
        s.receive(d.payload, RECEIVER, d.sport, False, now, d.dst_port)
        drive(now, s)

    wakeups: dict[int, int] = {}

    def drive(now: int, n: RoceNic) -> None:
        for d in n.poll(now):
            if n is receiver:
                at(now + one_way[index[d.dst_ip]], back, d)
            else:
                at(now + one_way[index[n.cfg.ip]], enqueue, n.cfg.ip, d)
        wake = n.next_wakeup()
        if wake is not None and wakeups.get(id(n)) != wake:
            wakeups[id(n)] = wake
            at(max(wake, now), drive, n)

    for s in senders:
        drive(0, s)
    half = duration_ns // 2
    mid: list[int] = []
    while events and events[0][0] <= duration_ns:
        t, _, fn, args = heapq.heappop(events)
        if not mid and t >= half:
            mid = [q.una for q in qps]
        fn(t, *args)
    return [psn_diff(q.una, m) * qp.pmtu * 8 / ((duration_ns - half) / 1e9) for q, m in zip(qps, mid)]


ADAPTIVE = QpConfig(pmtu=1024, window=32, rto_ns=4_000_000, adaptive=True, bdp_rate=None, max_window=4096)
FIXED = QpConfig(pmtu=1024, window=32, rto_ns=4_000_000)


@pytest.mark.parametrize("rate,duration_ns", [(100e6, 2_000_000_000), (1e9, 600_000_000)])
def test_near_and_far_flow_share_a_bottleneck_fairly(rate, duration_ns):
    qp = QpConfig(**{**vars(ADAPTIVE), "bdp_rate": rate})
    near, far = shares(qp, Bottleneck(rate), duration_ns)
    assert abs(near - far) <= 0.2 * max(near, far), (near, far)
    assert near + far >= 0.7 * rate  # a fair share of a busy link, not of an idle one


def test_single_site_window_starves_the_far_flow():
    """The same flows with a fixed 32-packet window: 32 KiB per 5 ms RTT caps the far flow
    near 50 Mb/s, and the queue the near flow keeps stretches its RTT further."""
    near, far = shares(FIXED, Bottleneck(100e6), 2_000_000_000)
    assert far < 0.8 * near, (near, far)


def fabric_shares(qp: QpConfig, rate_mbps: float = 100, duration_ns: int = 2_000_000_000) -> list[float]:
    """The same two flows through fabric.p4 in virtual time: one switch, the near and far
    senders on fibre of 10 and 500 km, the receiver's port the bottleneck, ECN by fabric.p4's
    egress (Kmin 4, Kmax 32 packets, Pmax 0.1) as the controller installs it."""
    from controller.fabric_plan import Ecn, FabricConfig
    from fabriclab.vtime.fabric import Fabric, FabricOptions
    from topologies.graph import LinkParams, NodeKind, Topology

    topo = Topology(name="fairness")
    topo.add_node("sw1", NodeKind.LEAF)
    for name, km in (("near", NEAR_KM), ("far", FAR_KM), ("rx", 0)):
        topo.add_node(name, NodeKind.HOST)
        link = LinkParams(rate_mbps, fibre_delay_us(km), 4096)
        topo.add_link(name, "sw1", link, link)
    fabric = Fabric(topo, FabricOptions(config=FabricConfig(ecn=Ecn(4, 32, 0.1))))
    rate = rate_mbps * 1e6
    dcqcn = DcqcnParams.scaled(rate, 2 * fibre_delay_us(NEAR_KM) * 1000)
    nics = {n: RoceNic(NicConfig(fabric.endpoint(n).ip, line_rate=rate, qp=qp, dcqcn=dcqcn, cc="dcqcn"))
            for n in ("near", "far", "rx")}
    qps = []
    for i, src in enumerate(("near", "far")):
        nics["rx"].register(0x10 + i, MESSAGE)
        qps.append(nics[src].connect(0x100 + i, fabric.endpoint("rx").ip, 0x200 + i))
        nics["rx"].connect(0x200 + i, fabric.endpoint(src).ip, 0x100 + i)
        for w in range(int(rate / 8 * duration_ns / 1e9 / MESSAGE) + 2):
            qps[-1].post_write(w, bytes(MESSAGE), 0, 0x10 + i)
    for name, nic in nics.items():
        fabric.endpoint(name).attach(nic)
        fabric.endpoint(name).kick()
    mid: list[int] = []
    fabric.at(duration_ns // 2, lambda: mid.extend(q.una for q in qps))
    fabric.run(until_ns=duration_ns)
    return [psn_diff(q.una, m) * qp.pmtu * 8 / (duration_ns / 2 / 1e9) for q, m in zip(qps, mid)]


def test_fair_share_through_fabric_p4():
    """The same result with fabric.p4 marking (measured 47.5 / 44.0 Mb/s adaptive, 46.1 /
    24.3 Mb/s with the fixed window)."""
    near, far = fabric_shares(QpConfig(**{**vars(ADAPTIVE), "bdp_rate": 100e6}))
    assert abs(near - far) <= 0.2 * max(near, far), (near, far)
    assert near + far >= 0.7 * 100e6
    near, far = fabric_shares(FIXED)
    assert far < 0.8 * near, (near, far)


def test_a_marking_band_scaled_to_the_far_bdp_keeps_1000_km_fair():
    """1 km against 1,000 km at 100 Mb/s: with a site's band (5-40 KB, a third of the far
    path's 125 KB BDP) the far flow gets half the near one's share (measured 52.9 / 25.0
    Mb/s); with the band scaled to the far BDP (10-125 KB, what the border does for its DCI
    port) they share (41.8 / 39.3)."""
    qp = QpConfig(**{**vars(ADAPTIVE), "bdp_rate": 100e6})
    near, far = shares(qp, Bottleneck(100e6, 10_000, 125_000), 2_000_000_000, kms=(1, 1000))
    assert abs(near - far) <= 0.2 * max(near, far), (near, far)
    near, far = shares(qp, Bottleneck(100e6), 2_000_000_000, kms=(1, 1000))
    assert far < 0.8 * near, (near, far)
