"""fabric.p4 counts each ingress drop by reason, per ingress port (`drop_reasons`, cell
port * 8 + DROP_*), which `fabriclab ctl stats` shows: one frame per reason through
`fabriclab stf`, and each lands in its own cell and nowhere else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether

from controller.cli import DROP_REASONS

FABRIC = Path(__file__).resolve().parents[3] / "p4src" / "fabric.p4"
PORT = 3
ENTRIES = """\
member ecmp_selector 1 set_port(port:1)
group ecmp_selector 11 1
add ipv4_routes hdr.ipv4.dstAddr:0x0a000101 set_group(group:11)
add ecmp_groups meta.group:11 group(11)
add ipv4_routes hdr.ipv4.dstAddr:0x0a0003** set_group(group:13)
"""


def _udp(dst: str, **ip: object) -> bytes:
    return bytes(Ether(dst="02:01:00:02:00:03", src="02:01:00:00:00:01")
                 / IP(src="10.0.2.1", dst=dst, **ip) / UDP(sport=50000, dport=5000) / b"drop")


FRAMES = [  # (reason, a frame dropped for it)
    ("malformed", _udp("10.0.1.1", chksum=0x1234)),
    ("arp", bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:01:00:00:00:01")
                  / ARP(op=2, psrc="10.0.2.1", pdst="10.0.1.254"))),
    ("not_ipv4", bytes(Ether(dst="33:33:00:00:00:01", src="02:01:00:00:00:01")
                       / IPv6(src="fe80::1", dst="ff02::1") / UDP(sport=1, dport=2))),
    ("ttl", _udp("10.0.1.1", ttl=1)),
    ("no_route", _udp("192.168.0.1")),
    ("no_path", _udp("10.0.3.5")),  # its group has no ECMP member
]


def test_each_drop_is_counted_under_its_reason(tmp_path):
    counts = {reason: sum(r == reason for r, _ in FRAMES) for reason in DROP_REASONS}
    assert set(counts) == set(DROP_REASONS)
    lines = [ENTRIES, *(f"packet {PORT} {frame.hex().upper()}" for _, frame in FRAMES),
             f"check_counter port_drops({PORT}) packets == {len(FRAMES)}"]
    for i, reason in enumerate(DROP_REASONS):
        lines.append(f"check_counter drop_reasons({PORT * len(DROP_REASONS) + i}) packets == "
                     f"{counts[reason]}")
    stf = tmp_path / "drop_reasons.stf"
    stf.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "fabriclab", "stf", str(FABRIC), str(stf)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("PASS"), done.stdout + done.stderr


class _Client:
    def __init__(self, cells: dict[int, tuple[int, int]]):
        self.cells = cells

    def read_counter(self, name: str) -> dict[int, tuple[int, int]]:
        assert name == "FabricIngress.drop_reasons"
        return self.cells


class _Controller:
    """What `ctl stats` reads: port counters and the switch's P4Runtime client."""

    def __init__(self, cells: dict[int, tuple[int, int]]):
        self.clients = {"l1": _Client(cells)}

    def port_stats(self, switch: str) -> dict:
        from controller.fabric import PortStats
        return {1: PortStats(drops=5), 2: PortStats()}


def test_ctl_stats_shows_the_drops_of_each_port_by_reason():
    from controller.cli import port_stats_table

    n = len(DROP_REASONS)
    cells = {1 * n + DROP_REASONS.index("not_ipv4"): (0, 4),
             1 * n + DROP_REASONS.index("ttl"): (0, 1), 2 * n: (0, 0)}
    header, port1, port2 = port_stats_table(_Controller(cells), "l1", None).splitlines()[:3]
    assert header.split()[-1] == "why"
    assert port1.split()[-2:] == ["not_ipv4:4", "ttl:1"] and port2.split()[-1] == "-"
