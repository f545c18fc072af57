"""PFC frames (pfc.py): the bytes on the wire, pause timing, bad frames, and the receive side
a host NIC shares with the traffic manager (LinkPause)."""

from __future__ import annotations

import pytest

from fabriclab.switch import pfc

MAC = bytes.fromhex("02fab1000007")


def test_encode_lays_out_an_802_1qbb_frame():
    frame = pfc.encode(MAC, {3: 0xFFFF, 5: 0})
    assert len(frame) == 60
    assert frame[:12] == pfc.DST_MAC + MAC
    assert frame[12:18] == bytes.fromhex("8808" "0101" "0028")  # ethertype, opcode, C3 + C5
    assert frame[18:34] == bytes(6) + b"\xff\xff" + bytes(8)  # 8 pause times, C3 = 65535
    assert frame[34:] == bytes(26)
    decoded = pfc.decode(frame)
    assert decoded.src_mac == MAC and decoded.classes() == {3: 0xFFFF, 5: 0}


def test_quanta_are_512_bit_times_at_the_link_rate():
    assert pfc.pause_ns(0xFFFF, 100e9) == 335_540  # 65535 x 5.12 ns, rounded up
    assert pfc.pause_ns(10, 8e6) == 640_000


@pytest.mark.parametrize("classes, message", [({8: 1}, "priority 8"), ({0: 0x10000}, "pause time")])
def test_encode_rejects_what_no_frame_can_carry(classes, message):
    with pytest.raises(pfc.PfcError, match=message):
        pfc.encode(MAC, classes)


def test_decode_tells_truncated_frames_from_other_mac_control():
    with pytest.raises(pfc.PfcError, match="truncated"):
        pfc.decode(pfc.encode(MAC, {1: 1})[:30])
    with pytest.raises(pfc.PfcError, match="truncated"):
        pfc.decode(pfc.DST_MAC + MAC + b"\x88\x08")
    assert pfc.decode(pfc.DST_MAC + MAC + b"\x88\x08\x00\x01" + bytes(44)) is None  # 802.3x
    with pytest.raises(pfc.PfcError, match="not a MAC control"):
        pfc.decode(bytes(60))


def test_link_pause_holds_honoured_priorities_only():
    link = pfc.LinkPause({3: pfc.Hold()})
    assert not link.receive(bytes(60), 0, 100e9)  # data: not for the MAC
    assert link.receive(pfc.encode(MAC, {3: 100, 4: 100}), 1_000, 100e9)
    hold = link.holds[3]
    assert hold.until_ns == 1_000 + 512 and link.ignored == 1  # priority 4 is lossy here
    assert link.receive(pfc.encode(MAC, {3: 0}), 1_200, 100e9)  # XON
    assert (hold.until_ns, hold.pauses, hold.xons, hold.total_ns(5_000)) == (1_200, 1, 1, 200)
    link.receive(pfc.encode(MAC, {3: 1}), 2_000, None)  # no rate to time it: until XON
    assert hold.until_ns == pfc.FOREVER_NS and hold.total_ns(3_000) == 1_200
