"""The receive ring's reader over a buffer laid out as the kernel lays out a TPACKET_V2 ring
(no root, no socket): frames in order and as they were on the wire, and a slot the kernel
never hands over (seen under overload: the switch then spun at 100% CPU and forwarded
nothing more on that port) is skipped once it has stayed the kernel's for HOLE_NS, never
earlier."""

from __future__ import annotations

import struct

import pytest

from fabriclab.switch import ring as ring_module
from fabriclab.switch.ring import (HDR_LEN, TP_STATUS_CSUMNOTREADY, TP_STATUS_USER,
                                   TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID, PacketRing)

FRAME, SLOTS = 256, 8
MAC = HDR_LEN + 32  # where the frame starts in its slot (tp_mac)


def write(buffer: bytearray, slot: int, payload: bytes, status: int = TP_STATUS_USER,
          tci: int = 0, tpid: int = 0, length: int | None = None, pkttype: int = 0) -> None:
    """Play the kernel: a frame in ``slot``, its header, its status last."""
    offset = slot * FRAME
    buffer[offset + MAC:offset + MAC + len(payload)] = payload
    struct.pack_into("=IIIHHIIHH", buffer, offset, 0, length or len(payload), len(payload), MAC,
                     MAC, 0, 0, tci, tpid)
    buffer[offset + HDR_LEN + 10] = pkttype  # sll_pkttype (0: PACKET_HOST)
    struct.pack_into("=I", buffer, offset, status)


def frames(reader: PacketRing) -> list[bytes]:
    return reader.receive(64)


@pytest.fixture
def buffer() -> bytearray:
    return bytearray(FRAME * SLOTS)


def test_frames_come_in_ring_order_across_the_wrap(buffer):
    reader = PacketRing.on_buffer(buffer, FRAME, SLOTS)
    for lap in range(3):
        for slot in range(SLOTS):
            write(buffer, slot, b"lap%d-%d" % (lap, slot))
        assert frames(reader) == [b"lap%d-%d" % (lap, slot) for slot in range(SLOTS)]
        assert frames(reader) == []
    assert reader.holes == 0


def test_a_slot_still_being_written_is_waited_for(buffer):
    reader = PacketRing.on_buffer(buffer, FRAME, SLOTS)
    write(buffer, 1, b"second")  # slot 0 not handed over yet: a write in progress
    assert frames(reader) == []
    assert frames(reader) == []
    write(buffer, 0, b"first")
    assert frames(reader) == [b"first", b"second"]
    assert reader.holes == 0


def test_a_slot_never_handed_over_is_skipped_after_hole_ns(buffer, monkeypatch):
    now = [0]
    monkeypatch.setattr(ring_module.time, "monotonic_ns", lambda: now[0])
    reader = PacketRing.on_buffer(buffer, FRAME, SLOTS)
    write(buffer, 1, b"after")
    write(buffer, 2, b"later")
    assert frames(reader) == []
    now[0] = ring_module.HOLE_NS - 1
    assert frames(reader) == []  # not yet: it may still be written
    now[0] = ring_module.HOLE_NS
    assert frames(reader) == [b"after", b"later"]
    assert reader.holes == 1 and reader.rx == 3


def test_an_empty_ring_is_no_hole(buffer, monkeypatch):
    now = [0]
    monkeypatch.setattr(ring_module.time, "monotonic_ns", lambda: now[0])
    reader = PacketRing.on_buffer(buffer, FRAME, SLOTS)
    assert frames(reader) == []
    now[0] = 10 * ring_module.HOLE_NS
    assert frames(reader) == []
    assert reader.holes == 0 and reader.rx == 0


def test_frames_come_as_they_were_on_the_wire(buffer):
    """The VLAN tag the kernel stripped is put back (802.1Q unless the header names another
    TPID); partial checksums are counted, frames cut to the slot and our own sends dropped."""
    reader = PacketRing.on_buffer(buffer, FRAME, SLOTS)
    untagged = bytes(range(12)) + b"\x08\x00" + b"ip"
    write(buffer, 0, untagged, TP_STATUS_USER | TP_STATUS_VLAN_VALID, tci=0xA064)
    write(buffer, 1, untagged, TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
          tci=5, tpid=0x88A8)
    write(buffer, 2, untagged, TP_STATUS_USER | TP_STATUS_CSUMNOTREADY)
    write(buffer, 3, untagged, length=9000)  # longer than the slot: the kernel cut it
    write(buffer, 4, untagged, pkttype=4)  # PACKET_OUTGOING
    write(buffer, 5, b"last")
    assert frames(reader) == [untagged[:12] + b"\x81\x00\xa0\x64" + untagged[12:],
                              untagged[:12] + b"\x88\xa8\x00\x05" + untagged[12:],
                              untagged, b"last"]
    assert (reader.partial, reader.truncated, reader.rx) == (1, 1, 6)
