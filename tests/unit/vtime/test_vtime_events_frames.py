"""The clock's ordering rule and the host framing, alone."""

from __future__ import annotations

from fabriclab.roce.framing import CE, ECT0
from fabriclab.vtime.events import EventLoop
from fabriclab.vtime.frames import ip_bytes, mac_bytes, parse_udp, udp_frame


def test_same_instant_runs_in_scheduling_order_and_time_never_goes_back():
    loop, seen = EventLoop(), []
    for name, when in (("a", 20), ("b", 10), ("c", 20), ("d", 10)):
        loop.at(when, seen.append, name)
    loop.at(15, lambda: loop.at(5, seen.append, "late"))  # "in the past": runs now, at 15
    assert loop.run() == 20
    assert seen == ["b", "d", "late", "a", "c"]
    assert loop.events == 6 and loop.pending() == 0


def test_run_stops_at_until_and_resumes():
    loop, seen = EventLoop(), []
    for t in (1, 2, 3):
        loop.at(t, seen.append, t)
    assert loop.run(until=2) == 2 and seen == [1, 2]
    assert loop.run() == 3 and seen == [1, 2, 3]


def test_frame_roundtrip_ect0_out_ce_back():
    frame = udp_frame(mac_bytes("02:00:0a:00:01:01"), mac_bytes("02:01:00:00:00:01"),
                      ip_bytes("10.0.1.1"), ip_bytes("10.0.2.1"), 50000, 4791, b"payload!")
    assert frame[15] & 3 == ECT0 and len(frame) == 14 + 20 + 8 + 8
    src, dst, sport, dport, ce, payload = parse_udp(frame)
    assert (src, dst, sport, dport, ce, payload) == (ip_bytes("10.0.1.1"), ip_bytes("10.0.2.1"),
                                                     50000, 4791, False, b"payload!")
    marked = bytearray(frame)
    marked[15] |= CE  # what a switch's ECN marking does to the TOS byte
    assert parse_udp(bytes(marked))[4] is True
    assert parse_udp(frame[:30]) is None
    assert parse_udp(frame[:12] + b"\x86\xdd" + frame[14:]) is None  # not IPv4
