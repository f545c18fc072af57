"""RoCEv2 on the wire as REFERENCE_FACTS.md states it (tshark 4.0, scapy 2.8): the ICRC rule
computed here independently of fabriclab and scapy, NIC-style source ports, and tshark's
InfiniBand decoding of our frames (and why a low source port would break it)."""

import shutil
import struct
import subprocess
import zlib

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from fabriclab.roce import framing as f
from fabriclab.roce.nic import source_port

SRC, DST = "10.0.0.1", "10.0.0.2"


def ip_udp(payload: bytes, sport: int, tos: int = f.ECT0, ttl: int = 64) -> bytes:
    return bytes(IP(src=SRC, dst=DST, flags="DF", id=0, tos=tos, ttl=ttl)
                 / UDP(sport=sport, dport=4791) / Raw(payload))


def reference_icrc(packet: bytes) -> bytes:
    """CRC-32 over 8 x 0xFF + IP/UDP/BTH/payload with TOS, TTL, IP checksum, UDP checksum and
    BTH byte 4 set to all ones; the result is sent least significant byte first."""
    masked = bytearray(packet[:-4])
    masked[1] = 0xFF                    # TOS (DSCP + ECN)
    masked[8] = 0xFF                    # TTL
    masked[10:12] = b"\xff\xff"         # IP header checksum
    masked[26:28] = b"\xff\xff"         # UDP checksum
    masked[28 + 4] = 0xFF               # BTH byte 4 (FECN, BECN, reserved)
    return struct.pack("<I", zlib.crc32(b"\xff" * 8 + bytes(masked)))


@pytest.mark.parametrize("pkt", [
    f.RocePacket(f.WRITE_ONLY, dqpn=0x34, psn=77, payload=b"hello", va=64, rkey=0x55, dma_len=5),
    f.RocePacket(f.ACKNOWLEDGE, dqpn=0x12, psn=0x123456, syndrome=f.AETH_ACK, msn=42),
    f.RocePacket(f.CNP, dqpn=0x77, psn=0, becn=True),
], ids=lambda p: f"op{p.opcode:#x}")
def test_icrc_is_the_reference_crc_and_survives_ecn_and_ttl_rewrites(pkt):
    sport = source_port(pkt.dqpn)
    payload = f.frame(pkt, SRC, DST, sport)
    assert payload[-4:] == reference_icrc(ip_udp(payload, sport))
    # a switch marking CE and decrementing TTL (with a fresh IP checksum) leaves it valid
    assert payload[-4:] == reference_icrc(ip_udp(payload, sport, tos=f.CE, ttl=17))


def test_source_ports_are_in_the_dynamic_range_as_real_nics_use():
    ports = {source_port(qpn, salt) for qpn in range(1, 2000) for salt in range(3)}
    assert min(ports) >= 49152 and max(ports) <= 65535
    assert len(ports) > 1000  # spread over the range, so ECMP sees distinct flows


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_decodes_our_frames_as_infiniband_but_a_low_source_port_is_stolen(tmp_path):
    write = f.RocePacket(f.WRITE_ONLY, dqpn=0x34, psn=77, payload=b"hello", va=64, rkey=0x55, dma_len=5)
    ack = f.RocePacket(f.ACKNOWLEDGE, dqpn=0x12, psn=0x123456, syndrome=f.AETH_ACK, msn=42)
    frames = []
    for pkt, sport in ((write, source_port(0x34)), (ack, source_port(0x12)), (write, 53)):
        frames.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                      / IP(ip_udp(f.frame(pkt, SRC, DST, sport), sport)))
    path = tmp_path / "roce.pcap"
    wrpcap(str(path), frames)
    fields = ["frame.protocols", "infiniband.bth.opcode", "infiniband.bth.destqp", "infiniband.bth.psn",
              "infiniband.reth.dmalen", "infiniband.aeth.msn"]
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields"] + [a for x in fields for a in ("-e", x)],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == 3
    assert "infiniband" in rows[0][0] and rows[0][1:5] == [str(f.WRITE_ONLY), "0x000034", "77", "5"]
    assert "infiniband" in rows[1][0] and rows[1][1:4] == [str(f.ACKNOWLEDGE), "0x000012", str(0x123456)]
    assert rows[1][5] == "42"
    # source port 53: tshark tries the lower port first and decodes DNS, not RoCE
    assert "dns" in rows[2][0] and "infiniband" not in rows[2][0]
