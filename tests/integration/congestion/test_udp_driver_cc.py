"""The real-time host driver's congestion-control inputs: INT-to-the-receiver datagrams
(UDP 9099) reach the NIC and are echoed in its ACKs (loopback, no root), and PFC pauses
that arrive on the host's interface hold its data until XON (a veth pair of our own; root)."""

from __future__ import annotations

import os
import random
import socket
import struct
import subprocess
import time

import pytest

from fabriclab.errors import FabricError
from fabriclab.launch.udp import ETH_P_MAC_CONTROL, UdpDriver, iface_of
from fabriclab.roce import framing as f
from fabriclab.roce.hpcc import HpccParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.switch import pfc


def loopback_ip() -> str:
    """A 127/8 address of our own, so port 4791/9099 do not meet another test's NIC."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def int_stack(hops: int) -> bytes:
    """fabric.p4's INT-to-the-receiver stack: shim | md | `hops` int_cc_hop_t records."""
    shim = struct.pack("!BBH", 1 << 4 | 1 << 2, 4 + 6 * hops, f.ROCE_PORT)
    md = struct.pack("!IHHHH", 2 << 28 | 6 << 8, f.INT_CC_INSTRUCTIONS, 0, 0, 0)
    return shim + md + b"".join(struct.pack("!IHHIIII", i + 1, 3, 0, 100_000, 2000, 17, 9000 * (i + 1))
                                for i in range(hops))


def test_int_datagrams_reach_the_nic_and_the_ack_echoes_them():
    ip = loopback_ip()
    nic = RoceNic(NicConfig(ip, line_rate=100e6, hpcc=HpccParams(100e6, 100_000), cc="hpcc"))
    nic.register(5, 4096)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, UdpDriver(nic) as driver:
        peer.bind((ip, 0))
        peer.settimeout(5)
        peer_port = peer.getsockname()[1]
        nic.connect(0x11, ip, 0x22, peer_port)
        stack = int_stack(3)
        write = f.RocePacket(f.WRITE_ONLY, 0x11, 0, b"data", va=0, rkey=5, dma_len=4, ackreq=True)
        peer.sendto(stack + f.frame(write, ip, ip, peer_port), (ip, f.INT_UDP_PORT))
        peer.sendto(b"\x10\x01", (ip, f.INT_UDP_PORT))  # a truncated stack: counted, ignored
        driver.run(lambda: nic.counters.rx_packets == 2 and nic.next_wakeup() is None, timeout=5)
        ack = f.unframe(peer.recv(2048), ip, ip, nic.sports[0x11], peer_port)
    assert nic.counters.int_received == 1 and nic.counters.int_echoed == 1
    assert nic.counters.int_malformed == 1
    assert ack.opcode == f.ACKNOWLEDGE and ack.payload == stack


def test_a_nic_off_the_roce_port_opens_no_int_socket_and_iface_lookup():
    nic = RoceNic(NicConfig(loopback_ip(), port=40_000 + random.randint(0, 9999)))
    with UdpDriver(nic) as driver:
        assert driver._int is None and driver._mac is None
    assert iface_of("127.0.0.1") == "lo"
    with pytest.raises(FabricError, match="no interface holds 192.0.2.77"):
        iface_of("192.0.2.77")


@pytest.fixture
def veth():
    """A veth pair of our own, up, without addresses: (host end, switch end)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (a veth pair and a packet socket)")
    # flv*: the names `fabriclab clean` removes after a crash
    a, b = f"flvpfc{os.getpid() % 10000}a", f"flvpfc{os.getpid() % 10000}b"
    subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
    try:
        for end in (a, b):
            subprocess.run(["ip", "link", "set", end, "up"], check=True)
        yield a, b
    finally:
        subprocess.run(["ip", "link", "del", a], check=False)


@pytest.mark.root
def test_pfc_pauses_on_the_interface_hold_the_data_until_xon(veth):
    host_end, switch_end = veth
    ip = loopback_ip()
    nic = RoceNic(NicConfig(ip, line_rate=1e6, pfc_priority=0))  # 0xFFFF quanta: 33 s at 1 Mb/s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, \
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_MAC_CONTROL)) as switch, \
            UdpDriver(nic, pfc_iface=host_end) as driver:
        switch.bind((switch_end, ETH_P_MAC_CONTROL))
        peer.bind((ip, 0))
        peer.settimeout(0.3)
        mac = bytes.fromhex("020000000001")
        switch.send(pfc.encode(mac, {0: 0xFFFF}))
        hold = nic.link_pause.holds[0]
        assert driver.run(lambda: hold.pauses == 1, timeout=5)
        nic.connect(0x11, ip, 0x22, peer.getsockname()[1]).post_send(1, bytes(512))
        driver.run(lambda: False, timeout=0.5)
        with pytest.raises(socket.timeout):  # paused: nothing left the NIC
            peer.recv(2048)
        switch.send(pfc.encode(mac, {0: 0}))  # XON
        assert driver.run(lambda: hold.xons == 1, timeout=5)
        driver.run(lambda: False, timeout=0.2)
        got = f.decode(peer.recv(2048))
    assert got.opcode == f.SEND_ONLY and got.dqpn == 0x22
    assert hold.total_ns(time.monotonic_ns()) >= 400_000_000
