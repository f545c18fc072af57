"""Ethernet/IPv4/UDP around a host's RoCE datagrams, as Linux would put them on the wire.

The header is what the real-time driver's kernel sends for an unconnected UDP socket with
DF set: IHL 5, identification 0, DF, TTL 64, TOS = ECT(0) (so switches may mark CE), UDP
checksum 0 (allowed over IPv4; RoCEv2 protects its payload with the ICRC). Frames written
to a pcap in virtual time therefore decode in tshark like captures of emulated runs.
The per-address-pair part of the IPv4 checksum is computed once and cached: this is on
every packet's path.
"""

from __future__ import annotations

import socket
import struct
from functools import lru_cache

from fabriclab.errors import FabricError
from fabriclab.roce.framing import CE, ECT0

ETH_IPV4 = 0x0800
UDP = 17
TTL = 64
HEADERS = 14 + 20 + 8

_HEAD = struct.Struct("!6s6sHBBHHHBBH4s4sHHHH")
_PARSE = struct.Struct("!12xHB B2x4x B B 2x 4s4s HH")


@lru_cache(maxsize=None)
def mac_bytes(mac: str) -> bytes:
    try:
        out = bytes.fromhex(mac.replace(":", ""))
    except ValueError:
        out = b""
    if len(out) != 6:
        raise FabricError(f"bad MAC address {mac!r}")
    return out


@lru_cache(maxsize=None)
def ip_bytes(ip: str) -> bytes:
    try:
        return socket.inet_aton(ip)
    except OSError:
        raise FabricError(f"bad IPv4 address {ip!r}") from None


@lru_cache(maxsize=None)
def ip_text(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


@lru_cache(maxsize=None)
def _partial_sum(src: bytes, dst: bytes, tos: int) -> int:
    """One's-complement sum of the IPv4 header words that do not depend on the length."""
    words = struct.unpack("!HHHHHHHH", bytes([0x45, tos, 0, 0, 0x40, 0, TTL, UDP]) + src + dst)
    return sum(words)


def udp_frame(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, sport: int,
              dport: int, payload: bytes, tos: int = ECT0) -> bytes:
    """One Ethernet frame carrying `payload` in IPv4/UDP."""
    total = 28 + len(payload)
    s = _partial_sum(src_ip, dst_ip, tos) + total
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return _HEAD.pack(dst_mac, src_mac, ETH_IPV4, 0x45, tos, total, 0, 0x4000, TTL, UDP,
                      ~s & 0xFFFF, src_ip, dst_ip, sport, dport, total - 20, 0) + payload


def parse_udp(frame: bytes) -> tuple[bytes, bytes, int, int, bool, bytes] | None:
    """(src ip, dst ip, sport, dport, CE?, payload) of an IPv4/UDP frame without options;
    None for anything else (a host ignores what it does not speak)."""
    if len(frame) < HEADERS:
        return None
    ethertype, vihl, tos, _, proto, src, dst, sport, dport = _PARSE.unpack_from(frame)
    if ethertype != ETH_IPV4 or vihl != 0x45 or proto != UDP:
        return None
    return src, dst, sport, dport, (tos & 3) == CE, frame[HEADERS:]
