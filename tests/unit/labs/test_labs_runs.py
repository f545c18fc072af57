"""The pure parts of the labs' Mininet checks: frame parsing for pcaps (UDP with its ECN
bits, INT reports, the bounce mark, DSCP), the Mininet CLI lines the checks send, and the
bounds the checks derive."""

import struct
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from fabriclab.labs import runs
from fabriclab.labs.registry import find


def test_udp_fields_and_lab_flows():
    frame = bytes(Ether() / IP(src="10.0.1.1", dst="10.0.2.1", tos=3) / UDP(sport=49153, dport=5000)
                  / (b"x" * 10))
    ecn, sport, dport, ip_len, ip = runs.udp(frame)
    assert (ecn, sport, dport, ip_len, len(ip)) == (3, 49153, 5000, 38, 38)
    other = bytes(Ether() / IP() / UDP(sport=1, dport=53))
    tcp = bytes(Ether() / IP(proto=6) / (b"\0" * 20))
    assert runs.lab_flows([frame, other, tcp]) == [(49153, 3)]
    assert runs.udp(b"\0" * 20) is None


def _report(hops: int, ids: list[int], grow_lengths: bool = True) -> bytes:
    """An INT report as fabric.p4 builds it: outer UDP to 32766, 16 B report header, then
    the inner packet with shim, md and `hops` records of 24 B (without grow_lengths, the
    shim length does not count the records)."""
    payload = b"p" * 8
    records = b"".join(struct.pack("!I", i) + b"\0" * 20 for i in ids)
    shim = bytes([0x14, 4 + 6 * hops if grow_lengths else 4]) + struct.pack("!H", 5000)
    md = b"\0" * 12
    inner = Ether() / IP(src="10.0.1.1", dst="10.0.2.1") / UDP(sport=49152, dport=9099,
                                                               chksum=0)
    inner = bytes(inner / (shim + md + records + payload))
    report = bytes([0x10 | hops, 0]) + struct.pack("!HIII", len(inner), 4, 0, 0)
    return bytes(Ether() / IP(src="10.0.2.254", dst="10.0.2.2") / UDP(sport=32766, dport=32766)
                 / (report + inner))


def test_int_report_parsing():
    assert runs.int_report(_report(3, [3, 1, 4])) == (3, [3, 1, 4], True)
    hops, ids, consistent = runs.int_report(_report(3, [3, 1, 4], grow_lengths=False))
    assert (hops, ids, consistent) == (3, [3, 1, 4], False)
    plain = bytes(Ether() / IP() / UDP(sport=1, dport=5000) / b"x")
    assert runs.int_report(plain) is None


def test_cli_lines_run_our_python_in_the_hosts():
    lab = find(3)
    assert runs.traffic("h1", "10.0.2.1", flows=2, packets=5) == (
        f"h1 {sys.executable} -m fabriclab.labs.traffic --dst 10.0.2.1 --flows=2 --packets=5")
    assert runs.ctl(lab, "mode", "adaptive") == (
        f"sh {sys.executable} -m fabriclab ctl --run lab3 mode adaptive")
    assert runs.net_command(lab, lab.program(), "bmv2", "--cli")[3:] == [
        "net", "leaf-spine", "--leaves", "2", "--spines", "2", "--hosts-per-leaf", "2",
        "--program", str(lab.program()), "--target", "bmv2", "--run", "lab3", "--cli"]


def test_bounce_mark_dscp_and_lab_frames():
    plain = Ether() / IP(src="10.0.2.1", dst="10.0.1.1", tos=0x20) / UDP(sport=49152, dport=5000)
    marked = Ether() / IP(src="10.0.2.1", dst="10.0.1.1", flags="evil") / UDP(dport=5000)
    assert not runs.bounce_marked(bytes(plain)) and runs.bounce_marked(bytes(marked))
    assert not runs.bounce_marked(bytes(Ether(type=0x86DD) / (b"\x80" * 40)))
    assert runs.dscp(bytes(plain)) == 8
    assert runs.is_lab_frame(bytes(plain))
    assert not runs.is_lab_frame(bytes(Ether() / IP() / UDP(dport=53)))


def test_tenant_meter_bounds_separate_the_tenants():
    """The physics the tenant_meters check rests on: the quiet tenant's whole stream fits in
    the committed burst its guarantee gives (so it is GREEN however the switch bunches it),
    and the cap's bound, slack included, is well below what the noisy tenant sends."""
    cbs = runs.QUIET_GBPS * 1e9 / 8 * 100e-6   # controller/tenants.py: bursts of 100 us
    assert runs.QUIET_PACKETS * runs.FRAME_BYTES < cbs
    span = runs.NOISY_PACKETS * runs.NOISY_FLOWS / runs.NOISY_PPS
    most = (runs.NOISY_CAP_GBPS * 1e9 / 8 * (span + runs.METER_SLACK_S)
            + runs.METER_BURST_BYTES) / runs.FRAME_BYTES
    assert most < 0.6 * runs.NOISY_PACKETS * runs.NOISY_FLOWS


def test_reroute_budget_is_far_below_what_a_dead_link_costs():
    """At most DETECT_BUDGET_S of traffic may be lost each way; a program that never
    reroutes loses half the traffic (s1's flows) from the cut (at the latest 9 s in) to the
    end of the 16 s stream."""
    budget = runs.REROUTE_PPS * runs.DETECT_BUDGET_S
    stream_s = runs.REROUTE_FLOWS * runs.REROUTE_PACKETS / runs.REROUTE_PPS
    assert budget * 4 < runs.REROUTE_PPS / 2 * (stream_s - 9)
