"""Our struct framing against scapy.contrib.roce: encode with one, decode with the other."""

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.contrib.roce import AETH, BTH, cnp
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from fabriclab.errors import FabricError
from fabriclab.roce import framing as f

SRC, DST, SPORT = "10.0.0.1", "10.0.0.2", 50001


def scapy_packet(udp_payload: bytes) -> IP:
    """Wrap our UDP payload in the IPv4/UDP header Linux builds (DF, id 0) and parse with scapy."""
    raw = bytes(IP(src=SRC, dst=DST, flags="DF", id=0, tos=f.ECT0) / UDP(sport=SPORT, dport=4791) / Raw(udp_payload))
    return IP(raw)


def scapy_icrc(pkt: IP) -> bytes:
    return pkt[BTH].compute_icrc(None)


CASES = [
    f.RocePacket(f.WRITE_FIRST, dqpn=0x12, psn=0xFFFFFF, payload=bytes(range(256)) * 4, va=0x1000, rkey=7, dma_len=3000),
    f.RocePacket(f.WRITE_MIDDLE, dqpn=0x12, psn=0, payload=b"\xab" * 1024),
    f.RocePacket(f.WRITE_LAST, dqpn=0x12, psn=1, payload=b"xyz", ackreq=True),
    f.RocePacket(f.WRITE_LAST_IMM, dqpn=0x12, psn=2, payload=b"abcd", imm=0xDEADBEEF, ackreq=True),
    f.RocePacket(f.WRITE_ONLY, dqpn=0x34, psn=77, payload=b"hello", va=64, rkey=0x55, dma_len=5),
    f.RocePacket(f.WRITE_ONLY_IMM, dqpn=0x34, psn=78, payload=b"hi", va=8, rkey=1, dma_len=2, imm=9),
    f.RocePacket(f.SEND_ONLY, dqpn=0x99, psn=5, payload=b"send me", solicited=True),
    f.RocePacket(f.SEND_FIRST, dqpn=0x99, psn=6, payload=b"q" * 256),
    f.RocePacket(f.ACKNOWLEDGE, dqpn=0x12, psn=0x123456, syndrome=f.AETH_ACK, msn=42),
    f.RocePacket(f.ACKNOWLEDGE, dqpn=0x12, psn=9, syndrome=f.AETH_NAK_PSN_SEQ, msn=3),
]


@pytest.mark.parametrize("pkt", CASES, ids=lambda p: f"op{p.opcode:#x}")
def test_ours_decoded_by_scapy(pkt):
    data = f.frame(pkt, SRC, DST, SPORT)
    sp = scapy_packet(data)
    bth = sp[BTH]
    assert (bth.opcode, bth.dqpn, bth.psn, bth.ackreq, bth.solicited) == (
        pkt.opcode, pkt.dqpn, pkt.psn, pkt.ackreq, pkt.solicited)
    assert bth.padcount == -len(pkt.payload) % 4
    assert bth.icrc == int.from_bytes(data[-4:], "big")
    assert scapy_icrc(sp) == data[-4:]
    if pkt.opcode == f.ACKNOWLEDGE:
        assert (sp[AETH].syndrome, sp[AETH].msn) == (pkt.syndrome, pkt.msn)
    else:
        rest = bytes(bth.payload)
        # scapy has no RETH/ImmDt layers: check their bytes where the spec puts them.
        off = 0
        if pkt.opcode in f.WITH_RETH:
            assert int.from_bytes(rest[0:8], "big") == pkt.va
            assert int.from_bytes(rest[8:12], "big") == pkt.rkey
            assert int.from_bytes(rest[12:16], "big") == pkt.dma_len
            off = 16
        if pkt.opcode in f.WITH_IMM:
            assert int.from_bytes(rest[off:off + 4], "big") == pkt.imm
            off += 4
        assert rest[off:off + len(pkt.payload)] == pkt.payload


@pytest.mark.parametrize("pkt", CASES, ids=lambda p: f"op{p.opcode:#x}")
def test_scapy_built_decoded_by_us(pkt):
    ours = f.encode(pkt)
    sp = IP(bytes(IP(src=SRC, dst=DST, flags="DF", id=0) / UDP(sport=SPORT, dport=4791)
                  / BTH(opcode=pkt.opcode, dqpn=pkt.dqpn, psn=pkt.psn, ackreq=pkt.ackreq,
                        solicited=pkt.solicited, padcount=-len(pkt.payload) % 4)
                  / Raw(ours[f.BTH_LEN:])))
    data = bytes(sp[UDP].payload)
    back = f.unframe(data, SRC, DST, SPORT)  # verifies scapy's ICRC with ours
    assert back == pkt


def test_cnp_both_ways():
    ours = f.frame(f.RocePacket(f.CNP, dqpn=0x77, psn=0, becn=True), SRC, DST, SPORT)
    sp = scapy_packet(ours)
    assert sp[BTH].opcode == 0x81 and sp[BTH].becn == 1 and sp[BTH].dqpn == 0x77
    assert scapy_icrc(sp) == ours[-4:]
    theirs = bytes(IP(bytes(IP(src=SRC, dst=DST, flags="DF", id=0) / UDP(sport=SPORT, dport=4791) / cnp(0x77)))[UDP].payload)
    assert theirs == ours
    assert f.unframe(theirs, SRC, DST, SPORT).opcode == f.CNP


def test_icrc_ignores_ecn_and_ttl_rewrites():
    data = f.frame(CASES[0], SRC, DST, SPORT)
    sp = scapy_packet(data)
    sp.tos, sp.ttl, sp.chksum = 0x03, 17, None  # a switch marks CE and decrements TTL
    assert scapy_icrc(IP(bytes(sp))) == data[-4:]


def test_bad_icrc_and_garbage_are_errors():
    data = bytearray(f.frame(CASES[2], SRC, DST, SPORT))
    data[13] ^= 1
    with pytest.raises(FabricError, match="ICRC"):
        f.unframe(bytes(data), SRC, DST, SPORT)
    with pytest.raises(FabricError, match="too short"):
        f.unframe(b"\x00" * 10, SRC, DST, SPORT)
    with pytest.raises(FabricError, match="opcode"):
        f.decode(bytes([0x55]) + bytes(11))
    with pytest.raises(FabricError, match="truncated"):
        f.decode(bytes([f.WRITE_FIRST]) + bytes(11) + bytes(4))

OPCODES = sorted(f.REQUESTS | {f.ACKNOWLEDGE})


@given(op=st.sampled_from(OPCODES), dqpn=st.integers(0, 0xFFFFFF), psn=st.integers(0, 0xFFFFFF),
       payload=st.binary(max_size=300), ackreq=st.booleans(), va=st.integers(0, 2**64 - 1),
       rkey=st.integers(0, 2**32 - 1), imm=st.integers(0, 2**32 - 1), msn=st.integers(0, 0xFFFFFF))
def test_any_packet_round_trips_and_matches_scapys_icrc(op, dqpn, psn, payload, ackreq, va, rkey, imm, msn):
    pkt = f.RocePacket(op, dqpn, psn, payload if op != f.ACKNOWLEDGE else b"", ackreq=ackreq)
    if op in f.WITH_RETH:
        pkt.va, pkt.rkey, pkt.dma_len = va, rkey, len(payload)
    if op in f.WITH_IMM:
        pkt.imm = imm
    if op == f.ACKNOWLEDGE:
        pkt.syndrome, pkt.msn = f.AETH_ACK, msn
    data = f.frame(pkt, SRC, DST, SPORT)
    assert f.unframe(data, SRC, DST, SPORT) == pkt
    assert scapy_icrc(scapy_packet(data)) == data[-4:]


@given(op=st.sampled_from(sorted(f.KNOWN)), payload=st.binary(max_size=64), becn=st.booleans(),
       solicited=st.booleans(), sport=st.integers(0, 0xFFFF), dport=st.sampled_from([f.ROCE_PORT, 1234]),
       dst=st.sampled_from(["10.0.0.2", "10.1.2.3"]))
def test_frame_icrc_equals_the_icrc_of_the_encoded_body(op, payload, becn, solicited, sport, dport, dst):
    """`frame` runs the CRC over the pieces as it builds them (BTH packed with byte 4 masked,
    the IPv4/UDP start cached per flow and length): the same bytes and ICRC as encoding first
    and running `icrc` over the body, whatever FECN/BECN, pad and ports."""
    pkt = f.RocePacket(op, 0x1234, 99, payload, becn=becn, solicited=solicited, imm=7)
    data = f.frame(pkt, SRC, dst, sport, dport)
    body = f.encode(pkt)
    assert data[:-4] == body
    want = f.icrc(socket.inet_aton(SRC), socket.inet_aton(dst), sport, dport, body)
    assert data[-4:] == want.to_bytes(4, "little")
    assert f.unframe(data, SRC, dst, sport, dport) == f.decode(body)


def test_extension_headers_running_into_the_icrc_are_truncated():
    """The decoder reads the datagram in place: a RETH that fits only with the ICRC's 4 bytes
    is still a truncated packet, not one with a RETH made of ICRC bytes."""
    data = bytes([f.WRITE_FIRST]) + bytes(11) + bytes(14) + bytes(4)  # RETH needs 16 after the BTH
    with pytest.raises(FabricError, match="truncated"):
        f.unframe(data, SRC, DST, SPORT, verify=False)
