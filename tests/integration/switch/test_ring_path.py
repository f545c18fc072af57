"""The PACKET_MMAP ring path against the plain-socket path (issue 24): the same burst into a
slow port gives the same frames, in the same order, with the same queue depths and drops.

Two veth pairs in the root namespace (IPv6 off, so nothing but the burst crosses them):
flvr<tok>a = port 1 [switch] port 2 = flvr<tok>c; the test sends on flvr<tok>b and counts on
flvr<tok>d. forward.p4 writes the queue depth each packet saw at enqueue into its IPv4
identification. Port 2 runs at 10 packets/s with an 8-packet queue, so a 16-frame burst
(sent in well under the 100 ms gap) queues and drops the same way whatever the I/O path.
Then two switches on one event loop (run_switches) pass a stream through both, in order.
"""

from __future__ import annotations

import secrets
import socket
import struct
import threading
import time

import pytest

from conftest import PROGRAM, sh
from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.process import SwitchProcess, run_switches
from fabriclab.switch.tm import TrafficManager

pytestmark = pytest.mark.root

BURST, DEPTH, RATE_PPS = 16, 8, 10
MARK = b"fabriclab-ring-test"


def frame(seq: int) -> bytes:
    payload = MARK + struct.pack("!I", seq)
    total = 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 253, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2]))
    return bytes.fromhex("020000000002" "020000000001" "0800") + ip + payload


@pytest.fixture
def veths():
    token = secrets.token_hex(3)
    names = {k: f"flvr{token}{k}" for k in "abcd"}
    try:
        for x, y in (("a", "b"), ("c", "d")):
            sh("ip", "link", "add", names[x], "type", "veth", "peer", "name", names[y])
            for k in (x, y):
                sh("sysctl", "-qw", f"net.ipv6.conf.{names[k]}.disable_ipv6=1")
                sh("ip", "link", "set", names[k], "up")
        yield names
    finally:
        for k in "ac":
            sh("ip", "link", "del", names[k], check=False)


def run_burst(names: dict[str, str], rings: bool) -> tuple[list[tuple[int, int]], dict, bool]:
    """(seq, queue depth) of every burst frame received, in order; port 2's TM counters;
    whether the switch ran on rings."""
    tm = TrafficManager(queue_depth=DEPTH)
    tm.set_port_rate(2, pps=RATE_PPS)
    switch = SwitchProcess(SwitchCore(compile_file(PROGRAM)), {1: names["a"], 2: names["c"]}, tm,
                           rings=rings)
    on_rings = bool(switch._rings)
    receiver = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    thread = threading.Thread(target=switch.run, daemon=True)
    try:
        receiver.bind((names["d"], 0x0800))
        receiver.settimeout(0.2)
        sender.bind((names["b"], 0))
        thread.start()
        frames = [frame(i) for i in range(BURST)]
        for data in frames:
            sender.send(data)
        got, end = [], time.monotonic() + (DEPTH + 2) / RATE_PPS + 5
        while time.monotonic() < end and len(got) < DEPTH + 1:
            try:
                data = receiver.recv(2048)
            except socket.timeout:
                continue
            if MARK in data:
                ident = struct.unpack_from("!H", data, 14 + 4)[0]
                got.append((struct.unpack_from("!I", data, data.index(MARK) + len(MARK))[0], ident))
        time.sleep(2 / RATE_PPS)  # anything extra would show up in the counters
        switch.stop()
        thread.join(10)
        stats = tm.stats()[2]
        return got, {"drops": stats["drops"], "tx_packets": stats["tx_packets"],
                     "rx": switch.counters.rx, "tx": switch.counters.tx}, on_rings
    finally:
        switch.stop()
        if thread.is_alive():
            thread.join(10)
        switch.close()
        sender.close()
        receiver.close()


def test_a_burst_queues_and_drops_the_same_on_the_ring_and_the_plain_socket(veths):
    plain, plain_counts, plain_rings = run_burst(veths, rings=False)
    ring, ring_counts, on_rings = run_burst(veths, rings=True)
    assert not plain_rings and on_rings
    # One departs at once, DEPTH wait, the rest find the queue full: in order, depths 0..DEPTH-1.
    expected = [(0, 0)] + [(i, i - 1) for i in range(1, DEPTH + 1)]
    assert plain == expected
    assert ring == expected
    assert ring_counts == plain_counts == {"drops": BURST - DEPTH - 1, "tx_packets": DEPTH + 1,
                                           "rx": BURST, "tx": DEPTH + 1}



@pytest.fixture
def chain():
    """Three veth pairs flvc<tok>{0,1,2}{a,b}: the sender on 0a, s1 between 0b and 1a, s2
    between 1b and 2a, the receiver on 2b."""
    token = secrets.token_hex(3)
    pairs = [(f"flvc{token}{i}a", f"flvc{token}{i}b") for i in range(3)]
    try:
        for a, b in pairs:
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for name in (a, b):
                sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
                sh("ip", "link", "set", name, "up")
        yield pairs
    finally:
        for a, _ in pairs:
            sh("ip", "link", "del", a, check=False)


def test_two_switches_on_one_loop_forward_every_frame_in_order(chain):
    """run_switches (the one-process layout that bench/pps.py --layout measures): frames
    cross both switches in order, and stopping one switch ends the loop."""
    program = compile_file(PROGRAM)
    switches = [SwitchProcess(SwitchCore(program), {1: chain[i][1], 2: chain[i + 1][0]},
                              TrafficManager()) for i in range(2)]
    receiver = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    thread = threading.Thread(target=run_switches, args=(switches,), daemon=True)
    try:
        receiver.bind((chain[2][1], 0x0800))
        receiver.settimeout(0.2)
        sender.bind((chain[0][0], 0))
        thread.start()
        for i in range(50):
            sender.send(frame(i))
        got, end = [], time.monotonic() + 10
        while time.monotonic() < end and len(got) < 50:
            try:
                data = receiver.recv(2048)
            except socket.timeout:
                continue
            if MARK in data:
                got.append(struct.unpack_from("!I", data, data.index(MARK) + len(MARK))[0])
        assert got == list(range(50))
        switches[1].stop()
        thread.join(10)
        assert not thread.is_alive()
        assert [s.counters.tx for s in switches] == [50, 50]  # counted after each send
    finally:
        for switch in switches:
            switch.stop()
        if thread.is_alive():
            thread.join(10)
        for switch in switches:
            switch.close()
        sender.close()
        receiver.close()


def test_a_frame_longer_than_the_ring_slots_is_counted_and_the_port_goes_on(veths):
    """Slots are sized from the MTU at start: a jumbo frame after the MTU was raised is
    dropped and counted (the plain path would have forwarded it); the next frame passes."""
    switch = SwitchProcess(SwitchCore(compile_file(PROGRAM)), {1: veths["a"], 2: veths["c"]},
                           TrafficManager())
    receiver = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    thread = threading.Thread(target=switch.run, daemon=True)
    try:
        for name in "ab":
            sh("ip", "link", "set", veths[name], "mtu", "9000")
        receiver.bind((veths["d"], 0x0800))
        receiver.settimeout(0.2)
        sender.bind((veths["b"], 0))
        thread.start()
        sender.send(frame(0) + bytes(5000))
        sender.send(frame(1))
        got, end = [], time.monotonic() + 10
        while time.monotonic() < end and not got:
            try:
                data = receiver.recv(9100)
            except socket.timeout:
                continue
            if MARK in data:
                got.append(struct.unpack_from("!I", data, data.index(MARK) + len(MARK))[0])
        switch.stop()
        thread.join(10)
        assert got == [1]
        assert switch.counters.truncated == 1 and switch.counters.rx == 1
    finally:
        switch.stop()
        if thread.is_alive():
            thread.join(10)
        switch.close()
        sender.close()
        receiver.close()
