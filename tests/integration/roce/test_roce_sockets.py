"""The socket driver on 127.0.0.1 (no root): rank processes, CE in -> CNP out, clean errors."""

import socket
import subprocess
import sys

import pytest

from fabriclab.roce import framing as f
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.launch.udp import UdpDriver
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.launch.collective import launch
from fabriclab.roce.runs import RunOptions, summarize

LO = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LO, 0))
        return s.getsockname()[1]


def local(argv):
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_three_rank_processes_allreduce_on_loopback():
    spec = CollectiveSpec("allreduce", 3, 96 * 1024, "int", "sum")
    addrs = [(LO, free_port()) for _ in range(3)]
    results = launch([local] * 3, addrs, spec, RunOptions(iters=2, line_rate=50e6), timeout=60)
    assert [r["rank"] for r in results] == [0, 1, 2]
    assert all(r["done"] and r["wrong"] == 0 and r["nic"]["icrc_errors"] == 0 for r in results)
    assert summarize(spec, results).wrong == 0
    assert all(49152 <= p <= 65535 for r in results for p in r["sports"].values())


def test_ce_marked_datagram_is_seen_and_answered_with_one_cnp():
    port = free_port()
    nic = RoceNic(NicConfig(LO, port, dcqcn=DcqcnParams.scaled(100e6, 1_000_000)))  # RTT 1 ms in ns
    nic.register(5, 4096)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, UdpDriver(nic) as driver:
        peer.bind((LO, 0))
        peer.settimeout(5)
        peer_port = peer.getsockname()[1]
        nic.connect(0x11, LO, 0x22, peer_port, sport=free_port())
        peer.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, f.CE)  # as if a switch had marked it
        for psn in range(3):
            pkt = f.RocePacket(f.WRITE_ONLY, 0x11, psn, b"data", va=0, rkey=5, dma_len=4, ackreq=True)
            peer.sendto(f.frame(pkt, LO, LO, peer_port, port), (LO, port))
        driver.run(lambda: nic.counters.rx_packets == 3 and nic.next_wakeup() is None, timeout=5)
        got = [f.unframe(peer.recv(2048), LO, LO, nic.sports[0x11], peer_port) for _ in range(4)]
    assert nic.counters.ce_marked == 3 and nic.counters.cnps_sent == 1  # one CNP per interval
    assert sorted(p.opcode for p in got) == [f.ACKNOWLEDGE] * 3 + [f.CNP]
    assert all(p.dqpn == 0x22 for p in got)
