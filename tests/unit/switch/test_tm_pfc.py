"""PFC (802.1Qbb) in the traffic manager under a virtual clock: XOFF at the threshold, XON
after the drain, pause refresh and quanta expiry, per-priority independence, a lossless
8:1 incast with no drop (and the same incast lossy, which drops), and pause frames that
tshark decodes as PFC."""

from __future__ import annotations

import shutil
import subprocess
from typing import NamedTuple

import pytest

from fabriclab.switch import pfc
from fabriclab.switch.pcap import PcapWriter
from fabriclab.switch.tm import TrafficManager

US = 1_000
MS = 1_000_000
SLOW = 8_000_000  # 8 Mb/s: a 1000-byte frame takes 1 ms, a quantum 64 us, a pause frame 60 us


class Item(NamedTuple):
    port: int
    qid: int
    length: int
    tag: int = 0
    dst: int = 0  # the destination's number, for the routes of Fabric


def frame_of(item: Item) -> bytes:
    """Data frames carry tag, priority and destination; bytes 12-13 stay 0 (not MAC control)."""
    return item.tag.to_bytes(4, "big") + bytes([item.qid, item.dst]) + bytes(item.length - 6)


def drain(tm: TrafficManager, now: int) -> list[tuple[int, bytes]]:
    """One driver step at ``now``: departures onto their links, then what arrives now."""
    out = []
    while True:
        deps, dels = tm.poll(now)
        for dep in deps:
            tm.transmit(dep.item.port, frame_of(dep.item), dep.time_ns)
        out += dels
        if not deps and not dels:
            return out


def run_until(tm: TrafficManager, until: int, start: int = 0) -> list[tuple[int, int, bytes]]:
    """Jump from deadline to deadline; (time, port, frame) of every delivery."""
    out, now = [], start
    while now <= until:
        out += [(now, port, data) for port, data in drain(tm, now)]
        deadline = tm.next_deadline_ns()
        if deadline is None:
            break
        now = max(deadline, now + 1)
    return out


def pauses(delivered) -> list[tuple[int, int, dict[int, int]]]:
    return [(t, port, pfc.decode(data).classes()) for t, port, data in delivered
            if pfc.is_mac_control(data)]


def lossless_switch(xoff=3000, xon=1000, headroom=3000, quanta=pfc.MAX_QUANTA) -> TrafficManager:
    tm = TrafficManager(priority_queues=8)
    for port in (1, 2):
        tm.set_port_rate(port, SLOW)
    tm.enable_pfc(1, 3, xoff_bytes=xoff, xon_bytes=xon, headroom_bytes=headroom, quanta=quanta,
                  mac=bytes.fromhex("02fab1000001"))
    return tm


def test_xoff_goes_out_of_the_ingress_port_when_the_threshold_is_reached():
    tm = lossless_switch()
    tm.enqueue(Item(2, 3, 1000, 0), 0, ingress_port=1)
    tm.enqueue(Item(2, 3, 1000, 1), 0, ingress_port=1)
    assert not tm.pfc_stats(0)[1][3]["pausing"]  # 2000 bytes < XOFF
    assert tm.enqueue(Item(2, 3, 1000, 2), 0, ingress_port=1)  # 3000: XOFF
    delivered = [(t, p, d) for t, p, d in run_until(tm, 100 * US) if p == 1]
    assert pauses(delivered) == [(60 * US, 1, {3: 0xFFFF})]  # serialised at 8 Mb/s
    frame = delivered[0][2]
    assert frame[:6] == pfc.DST_MAC and frame[6:12] == bytes.fromhex("02fab1000001")
    assert len(frame) == 60 and frame[12:16] == b"\x88\x08\x01\x01"
    stats = tm.pfc_stats(100 * US)[1][3]
    assert stats["pauses_sent"] == 1 and stats["pausing"]
    assert stats["ingress_bytes"] == 2000 and stats["peak_bytes"] == 3000  # one left at 0


def test_xon_after_the_drain_to_the_xon_threshold():
    tm = lossless_switch()
    for i in range(5):
        tm.enqueue(Item(2, 3, 1000, i), 0, ingress_port=1)
    delivered = run_until(tm, 20 * MS)
    # Packets leave port 2 at 0, 1, 2, 3 ms: after the 4th leaves 1000 bytes remain = XON.
    assert pauses(delivered) == [(60 * US, 1, {3: 0xFFFF}), (3 * MS + 60 * US, 1, {3: 0})]
    sent = tm.take_pauses_sent()  # the same frames, at their transmit times
    assert [(p.port, p.time_ns) for p in sent] == [(1, 0), (1, 3 * MS)]
    assert [p.data for p in sent] == [d for _, port, d in delivered if port == 1]
    assert tm.take_pauses_sent() == []
    assert [t for t, p, _ in delivered if p == 2] == [1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS]
    stats = tm.pfc_stats(20 * MS)[1][3]
    assert (stats["pauses_sent"], stats["xons_sent"], stats["pausing"]) == (1, 1, False)
    assert stats["xoff_us"] == 3000 and stats["peak_bytes"] == 5000


def test_a_running_pause_is_refreshed_before_its_quanta_expire():
    tm = lossless_switch(quanta=100)  # 100 quanta at 8 Mb/s = 6.4 ms: repeat every 3.2 ms
    tm.set_port_rate(2, 800_000)  # 1000 bytes = 10 ms: the queue stays above XON for 30 ms
    for i in range(5):
        tm.enqueue(Item(2, 3, 1000, i), 0, ingress_port=1)
    sent = [t - 60 * US for t, _, classes in pauses(run_until(tm, 40 * MS)) if classes[3]]
    assert sent == [i * 3200 * US for i in range(10)]  # until XON at 30 ms


def test_received_pause_holds_the_queue_until_its_quanta_expire():
    tm = lossless_switch()
    assert tm.receive_mac_control(1, pfc.encode(bytes(6), {3: 10}), 0)  # 10 * 64 us
    tm.enqueue(Item(1, 3, 1000, 7), 0)
    assert tm.next_deadline_ns() == 640 * US
    delivered = run_until(tm, 10 * MS)
    assert [(t, p) for t, p, _ in delivered] == [(1640 * US, 1)]  # left at 640 us
    stats = tm.pfc_stats(10 * MS)[1][3]
    assert stats["pauses_received"] == 1 and stats["paused_us"] == 640


def test_received_xon_resumes_before_the_quanta_expire():
    tm = lossless_switch()
    tm.receive_mac_control(1, pfc.encode(bytes(6), {3: 0xFFFF}), 0)
    tm.enqueue(Item(1, 3, 1000, 7), 0)
    assert run_until(tm, 500 * US) == []
    tm.receive_mac_control(1, pfc.encode(bytes(6), {3: 0}), 500 * US)
    assert [(t, p) for t, p, _ in run_until(tm, 10 * MS, 500 * US)] == [(1500 * US, 1)]
    stats = tm.pfc_stats(10 * MS)[1][3]
    assert (stats["pauses_received"], stats["xons_received"], stats["paused_us"]) == (1, 1, 500)


def test_priorities_are_independent():
    tm = lossless_switch(xoff=1000, xon=0, headroom=1000)
    tm.set_queue_depth(1, port=2, priority=1)
    tm.enable_pfc(2, 3, 1000, 0, 1000)
    # A pause for priority 3 leaves priority 1 of the same port served.
    tm.receive_mac_control(2, pfc.encode(bytes(6), {3: 0xFFFF, 1: 0xFFFF}), 0)
    assert tm.port(2).pause.ignored == 1  # priority 1 has no PFC on port 2
    tm.enqueue(Item(2, 3, 1000, 1), 0)
    tm.enqueue(Item(2, 1, 1000, 2), 0, ingress_port=1)  # lossy on ingress port 1
    assert not tm.enqueue(Item(2, 1, 1000, 3), 0, ingress_port=1)  # lossy: drop-tail
    delivered = run_until(tm, 10 * MS)
    assert [int.from_bytes(d[:4], "big") for _, p, d in delivered if p == 2] == [2]
    assert pauses(delivered) == []  # priority 1's bytes never count toward priority 3's XOFF
    assert tm.port(2).queues[1].drops == 1 and len(tm.port(2).queues[3].entries) == 1


def test_malformed_and_foreign_mac_control_frames_are_consumed_and_counted():
    tm = lossless_switch()
    assert not tm.receive_mac_control(1, frame_of(Item(1, 3, 100)), 0)  # data: the pipeline's
    assert tm.receive_mac_control(1, pfc.encode(bytes(6), {3: 5})[:20], 0)
    pause_8023x = pfc.DST_MAC + bytes(6) + b"\x88\x08\x00\x01\xff\xff" + bytes(42)
    assert tm.receive_mac_control(1, pause_8023x, 0)
    port = tm.port(1)
    assert (port.pause.errors, port.pause.ignored) == (1, 1)
    assert port.queues[3].hold.until_ns == 0


class Fabric:
    """TMs joined by links: a delivery on (node, port) reaches the peer's port at once (the
    link's delay and rate are modelled by the sender's TM). MAC control goes to the peer's
    TM; data entering a switch is queued toward ``routes[switch][dst]``; nodes without a TM
    are sinks that record what arrives."""

    def __init__(self, routes: dict[str, dict[int, int]] | None = None):
        self.tms: dict[str, TrafficManager] = {}
        self.routes = routes or {}
        self.peer: dict[tuple[str, int], tuple[str, int]] = {}
        self.received: list[tuple[int, int, str]] = []  # (time, tag, sink)

    def link(self, a: tuple[str, int], b: tuple[str, int], bps: float, delay_ns: int) -> None:
        for (node, port), other in ((a, b), (b, a)):
            self.peer[node, port] = other
            if node in self.tms:
                self.tms[node].set_port_rate(port, bps)
                self.tms[node].set_port_delay(port, delay_ns)

    def run(self, until: int) -> None:
        now = 0
        while now <= until:
            busy = True
            while busy:
                busy = False
                for name, tm in self.tms.items():
                    for port, data in drain(tm, now):
                        busy = True
                        self.arrive(*self.peer[name, port], data, now)
            deadlines = [d for tm in self.tms.values() if (d := tm.next_deadline_ns()) is not None]
            if not deadlines:
                return
            now = max(min(deadlines), now + 1)

    def arrive(self, node: str, port: int, data: bytes, now: int) -> None:
        tm, tag = self.tms.get(node), int.from_bytes(data[:4], "big")
        if tm is None:
            self.received.append((now, tag, node))
        elif not tm.receive_mac_control(port, data, now):
            out = self.routes.get(node, {}).get(data[5], 0)
            tm.enqueue(Item(out, data[4], len(data), tag, data[5]), now, ingress_port=port)

    def lossless(self, node: str, ports, prio: int = 3, xoff=8000, xon=4000, headroom=5000) -> None:
        for port in ports:
            self.tms[node].enable_pfc(port, prio, xoff, xon, headroom)

    def host(self, name: str, at: tuple[str, int], bps: float, delay_ns: int, lossless: bool) -> None:
        """A sender: a TM with one port (1) whose queue holds everything it will send."""
        self.tms[name] = TrafficManager(priority_queues=8, queue_depth=10**6)
        self.link((name, 1), at, bps, delay_ns)
        if lossless:  # it honours pauses (its own ingress accounting never matters)
            self.lossless(name, [1], xoff=1 << 30, xon=0, headroom=0)


@pytest.mark.parametrize("lossless", [True, False])
def test_incast_8_to_1_is_lossless_with_pfc_and_drops_without(lossless):
    rate, delay, senders, count = 10e9, 1 * US, 8, 150
    net = Fabric()
    net.tms["sw"] = TrafficManager(priority_queues=8)  # egress queues: 64 packets
    for h in range(1, senders + 1):
        net.host(f"h{h}", ("sw", h), rate, delay, lossless)
        if lossless:  # headroom: one RTT of bytes (2 x 1250) + a frame finishing on each side
            net.lossless("sw", [h], xoff=8000, xon=4000, headroom=5000)
    net.link(("sw", 0), ("sink", 0), rate, delay)
    for h in range(1, senders + 1):
        for i in range(count):
            net.tms[f"h{h}"].enqueue(Item(1, 3, 1000, h * 1000 + i), 0)
    net.run(10 * MS)

    sw = net.tms["sw"]
    tags = [tag for _, tag, _ in net.received]
    total = senders * count
    if not lossless:
        assert sw.port(0).drops > 0 and len(tags) == total - sw.port(0).drops
        return
    assert sw.port(0).drops == 0 and sorted(tags) == sorted(h * 1000 + i for h in range(1, 9)
                                                            for i in range(count))
    for h in range(1, senders + 1):  # FIFO per sender
        mine = [t for t in tags if t // 1000 == h]
        assert mine == sorted(mine)
    stats = sw.pfc_stats(10 * MS)
    assert all(s[3]["headroom_drops"] == 0 and s[3]["pauses_sent"] > 0 for s in stats.values())
    assert all(s[3]["peak_bytes"] <= 8000 + 5000 for s in stats.values())
    hosts = [net.tms[f"h{h}"].pfc_stats(10 * MS)[1][3] for h in range(1, senders + 1)]
    assert all(s["pauses_received"] > 0 and s["paused_us"] > 0 for s in hosts)
    # The bottleneck stays busy: the last byte arrives within 2% of line-rate time.
    line_time = total * 1000 * 8e9 / rate
    assert net.received[-1][0] <= 1.02 * line_time + 10 * US
    print(f"\n8:1 incast, PFC: {total} packets, 0 drops, peak ingress "
          f"{max(s[3]['peak_bytes'] for s in stats.values())} B, "
          f"{sum(s[3]['pauses_sent'] for s in stats.values())} pauses, "
          f"{net.received[-1][0] / line_time:.3f} x line-rate time")


@pytest.mark.parametrize("lossless", [True, False])
def test_pfc_blocks_a_victim_behind_an_incast_and_spreads_upstream(lossless):
    """Hosts a (incast) and v (victim) share s1's 20 Gb/s uplink to s2; a and b1..b6 send to
    d (7:1 incast), v sends to e, whose link is idle. Lossy, only a loses packets (at d's
    queue) and v runs at line rate; with PFC, s2 pauses the uplink for d's queue, which
    stops v too (head-of-line blocking), and s1, paused, pauses a and v (congestion
    spreading): v gets about a's share of d, 10/7 Gb/s."""
    rate, delay, window = 10e9, 1 * US, 400 * US
    D, E = 1, 2
    net = Fabric(routes={"s1": {D: 0, E: 0}, "s2": {D: 0, E: 7}})
    net.tms["s1"] = TrafficManager(priority_queues=8)
    net.tms["s2"] = TrafficManager(priority_queues=8)
    net.link(("s1", 0), ("s2", 9), 2 * rate, delay)
    net.link(("s2", 0), ("d", 0), rate, delay)
    net.link(("s2", 7), ("e", 0), rate, delay)
    net.host("a", ("s1", 1), rate, delay, lossless)
    net.host("v", ("s1", 2), rate, delay, lossless)
    for b in range(1, 7):
        net.host(f"b{b}", ("s2", b), rate, delay, lossless)
    if lossless:
        net.lossless("s1", [0, 1, 2])
        net.lossless("s2", [1, 2, 3, 4, 5, 6])
        net.lossless("s2", [9], headroom=8000)  # 20 Gb/s: 2 x 2500 B in flight + 2 frames
    count = int(window * rate / 8e9 / 1000) + 10  # more than a line-rate sender sends in the window
    for n, (h, dst) in enumerate([("a", D), ("v", E)] + [(f"b{b}", D) for b in range(1, 7)]):
        for i in range(count):
            net.tms[h].enqueue(Item(1, 3, 1000, n * 100_000 + i, dst), 0)
    net.run(window)

    victim_gbps = sum(1000 for t, _, sink in net.received if sink == "e") * 8 / window
    d_gbps = sum(1000 for t, _, sink in net.received if sink == "d") * 8 / window
    drops = sum(tm.port(n).drops for tm in net.tms.values() for n in tm.ports)
    print(f"\n{'PFC' if lossless else 'lossy'}: victim {victim_gbps:.2f} Gb/s, incast sink "
          f"{d_gbps:.2f} Gb/s, drops {drops}")
    assert d_gbps > 9.0  # the incast's bottleneck is busy either way
    if not lossless:
        assert drops > 0 and victim_gbps > 9.0
        return
    assert drops == 0 and victim_gbps < 2.5  # v gets about what a gets: ~10/7 Gb/s
    s1, s2 = net.tms["s1"].pfc_stats(window), net.tms["s2"].pfc_stats(window)
    assert all(c["headroom_drops"] == 0 for st in (s1, s2) for port in st.values() for c in port.values())
    assert s2[9][3]["pauses_sent"] > 0 and s1[0][3]["pauses_received"] > 0
    assert s1[1][3]["pauses_sent"] > 0 and s1[2][3]["pauses_sent"] > 0  # spread to a and v
    assert net.tms["v"].pfc_stats(window)[1][3]["paused_us"] > 0.5 * window / US


def test_pause_frame_decodes_in_tshark_as_pfc(tmp_path):
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    tm = lossless_switch(xoff=1000)
    tm.enqueue(Item(2, 3, 1000, 0), 0, ingress_port=1)
    [(_, port, frame)] = [d for d in run_until(tm, 100 * US) if d[1] == 1]
    path = tmp_path / "pfc.pcap"
    writer = PcapWriter(str(path))
    writer.write(frame, 1.0)
    writer.close()
    text = subprocess.run([tshark, "-r", str(path), "-V"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert "Type: MAC Control (0x8808)" in text
    assert "(0x0101)" in text and "Class Based Flow Control" in text
    assert "C3: True" in text and "C3: 65535" in text and "Malformed" not in text
