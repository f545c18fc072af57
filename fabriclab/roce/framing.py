"""RoCEv2 wire format: BTH, RETH, AETH, ImmDt, CNP and the ICRC, packed with `struct`;
and the INT-MD stack fabric.p4 puts in front of the BTH in INT-to-the-receiver mode.

This is the hot path of every host, so it is hand-rolled; `scapy.contrib.roce` is the
reference it is tested against. A RoCEv2 packet is the UDP payload to port 4791:
BTH (12 bytes), the extension headers the opcode implies, the payload padded to a multiple
of 4 (BTH pad count), and the 4-byte ICRC. The ICRC is a CRC-32 over 8 bytes of 0xFF and
the IPv4/UDP/BTH/payload with the fields a router may change (TOS, TTL, IP checksum, UDP
checksum, BTH byte 4 with FECN/BECN) masked to ones, sent least significant byte first.
Masking TOS is what lets a switch set ECN CE without breaking the ICRC.
"""

from __future__ import annotations

import socket
import struct
import zlib
from dataclasses import dataclass

from fabriclab.errors import FabricError

ROCE_PORT = 4791
ECT0 = 0b10
CE = 0b11

# RC opcodes (transport 0x00) and the CNP.
SEND_FIRST, SEND_MIDDLE, SEND_LAST, SEND_LAST_IMM, SEND_ONLY, SEND_ONLY_IMM = range(6)
WRITE_FIRST, WRITE_MIDDLE, WRITE_LAST, WRITE_LAST_IMM, WRITE_ONLY, WRITE_ONLY_IMM = range(6, 12)
ACKNOWLEDGE = 0x11
CNP = 0x81

WITH_RETH = frozenset({WRITE_FIRST, WRITE_ONLY, WRITE_ONLY_IMM})
WITH_IMM = frozenset({SEND_LAST_IMM, SEND_ONLY_IMM, WRITE_LAST_IMM, WRITE_ONLY_IMM})
FIRST_OR_ONLY = frozenset({SEND_FIRST, SEND_ONLY, SEND_ONLY_IMM, WRITE_FIRST, WRITE_ONLY, WRITE_ONLY_IMM})
LAST_OR_ONLY = frozenset(
    {SEND_LAST, SEND_LAST_IMM, SEND_ONLY, SEND_ONLY_IMM, WRITE_LAST, WRITE_LAST_IMM, WRITE_ONLY, WRITE_ONLY_IMM}
)
SENDS = frozenset(range(0, 6))
REQUESTS = frozenset(range(0, 12))
KNOWN = REQUESTS | {ACKNOWLEDGE, CNP}
PLAIN = KNOWN - WITH_RETH - WITH_IMM - {ACKNOWLEDGE}  # a BTH and the payload: most packets

# AETH syndromes: ACK with "invalid credit count" (no end-to-end credits), NAK codes.
AETH_ACK = 0x1F
AETH_NAK_PSN_SEQ = 0x60
AETH_NAK_REMOTE_ACCESS = 0x62
DEFAULT_PKEY = 0xFFFF

# INT-MD over UDP (p4src/fabric/headers.p4): UDP dport INT_UDP_PORT | int_shim_t | int_md_t |
# records, newest first. The field lists are the one Python declaration of these headers
# (name, bits), in the order and widths of headers.p4; the collector's scapy layers are
# built from them.
INT_UDP_PORT = 9099
INT_SHIM_FIELDS = (("intType", 4), ("npt", 2), ("rsvd", 2), ("len", 8), ("origPort", 16))
INT_MD_FIELDS = (("ver", 4), ("d", 1), ("e", 1), ("m", 1), ("rsvd", 12), ("hopMl", 5),
                 ("remainingHops", 8), ("instructions", 16), ("domainId", 16),
                 ("dsInstructions", 16), ("dsFlags", 16))
INT_CC_HOP_FIELDS = (("switchId", 32), ("egressPort", 16), ("rsvd", 16), ("rateMbps", 32),
                     ("qlenBytes", 32), ("egressTs", 32), ("txBytes", 32))
INT_CC_INSTRUCTIONS = 0xA701  # the md's bitmap in INT-to-the-receiver mode (int_cc_hop_t)


def _bytes_of(fields_: tuple[tuple[str, int], ...]) -> int:
    return sum(bits for _, bits in fields_) // 8


INT_SHIM_LEN, INT_MD_LEN, INT_CC_HOP_LEN = map(_bytes_of, (INT_SHIM_FIELDS, INT_MD_FIELDS,
                                                           INT_CC_HOP_FIELDS))


def unpack_bits(fields_: tuple[tuple[str, int], ...], data: bytes, offset: int = 0) -> dict[str, int]:
    """The named fields of one header at `offset` (big-endian bit fields)."""
    n = _bytes_of(fields_)
    word = int.from_bytes(data[offset:offset + n], "big")
    out, shift = {}, n * 8
    for name, bits in fields_:
        shift -= bits
        out[name] = (word >> shift) & ((1 << bits) - 1)
    return out


@dataclass(frozen=True)
class IntStack:
    """An INT-MD stack: the records in path order (first switch first), how many the shim
    declares, and the raw bytes (shim to the last record present) for a receiver to echo."""

    orig_port: int
    instructions: int
    records: tuple[dict[str, int], ...]
    declared: int
    raw: bytes


def split_int(data: bytes) -> tuple[IntStack, bytes]:
    """Split an INT-over-UDP payload into its stack and what follows (the original L4
    payload). Raise FabricError when it is not a CC stack or shorter than the shim says."""
    stack = parse_int(data)
    end = len(stack.raw)
    if stack.declared != len(stack.records):
        raise FabricError(f"INT: {len(stack.records)} of {stack.declared} records present")
    return stack, data[end:]


def parse_int(data: bytes) -> IntStack:
    """Parse a stack as far as its bytes go (an echo may be truncated: `declared` keeps the
    count the shim claims). Raise FabricError on a stack that is not INT-MD with CC records."""
    if len(data) < INT_SHIM_LEN + INT_MD_LEN:
        raise FabricError(f"INT: {len(data)} bytes is shorter than shim + md")
    shim = unpack_bits(INT_SHIM_FIELDS, data)
    md = unpack_bits(INT_MD_FIELDS, data, INT_SHIM_LEN)
    if shim["intType"] != 1 or md["instructions"] != INT_CC_INSTRUCTIONS:
        raise FabricError("INT: not an INT-MD stack with INT-to-the-receiver records")
    if md["hopMl"] * 4 != INT_CC_HOP_LEN or shim["len"] * 4 < INT_SHIM_LEN + INT_MD_LEN:
        raise FabricError(f"INT: {md['hopMl']} words per record / shim length {shim['len']}")
    base = INT_SHIM_LEN + INT_MD_LEN
    declared = (shim["len"] * 4 - base) // INT_CC_HOP_LEN
    present = min(declared, (len(data) - base) // INT_CC_HOP_LEN)
    records = [unpack_bits(INT_CC_HOP_FIELDS, data, base + i * INT_CC_HOP_LEN) for i in range(present)]
    records.reverse()
    end = base + present * INT_CC_HOP_LEN
    return IntStack(shim["origPort"], md["instructions"], tuple(records), declared, data[:end])


_BTH = struct.Struct("!BBHII")  # opcode, SE|M|pad|tver, pkey, fecn|becn|resv6|dqpn, ackreq|resv7|psn
_RETH = struct.Struct("!QII")  # virtual address, rkey, DMA length
_U32 = struct.Struct("!I")
_ICRC = struct.Struct("<I")
_PSEUDO = struct.Struct("!8sBBHHHBBH4s4sHHHH")  # 0xFF*8, IPv4 header, UDP header
_CNP_PAD = bytes(16)
_PADS = (b"", bytes(1), bytes(2), bytes(3))
_MASKED = 0xFF000000  # BTH word 2 with byte 4 (FECN, BECN, resv6) masked to ones for the ICRC
_crc32 = zlib.crc32

BTH_LEN, RETH_LEN, AETH_LEN, IMM_LEN, ICRC_LEN = 12, 16, 4, 4, 4
IP_UDP_LEN = 28


@dataclass(slots=True)
class RocePacket:
    """One decoded RoCEv2 packet (BTH fields plus whichever extension headers it carries)."""

    opcode: int
    dqpn: int
    psn: int
    payload: bytes = b""
    ackreq: bool = False
    solicited: bool = False
    becn: bool = False
    pkey: int = DEFAULT_PKEY
    va: int = 0  # RETH
    rkey: int = 0
    dma_len: int = 0
    syndrome: int = 0  # AETH
    msn: int = 0
    imm: int | None = None  # ImmDt


def _extensions(pkt: RocePacket, op: int) -> bytes:
    """RETH, AETH and ImmDt as the opcode implies, in wire order."""
    ext = _RETH.pack(pkt.va, pkt.rkey, pkt.dma_len) if op in WITH_RETH else b""
    if op == ACKNOWLEDGE:
        ext += _U32.pack((pkt.syndrome << 24) | (pkt.msn & 0xFFFFFF))
    if op in WITH_IMM:
        ext += _U32.pack(pkt.imm or 0)
    return ext


def encode(pkt: RocePacket) -> bytes:
    """BTH + extension headers + padded payload, without the ICRC."""
    op = pkt.opcode
    if op not in KNOWN:
        raise FabricError(f"RoCE: unsupported opcode {op:#x}")
    payload = _CNP_PAD if op == CNP else pkt.payload
    pad = -len(payload) % 4
    bth = _BTH.pack(op, (pkt.solicited << 7) | (pad << 4), pkt.pkey, (pkt.becn << 30) | (pkt.dqpn & 0xFFFFFF),
                    (pkt.ackreq << 31) | (pkt.psn & 0xFFFFFF))
    return b"".join((bth, _extensions(pkt, op), payload, _PADS[pad]))


def decode(data: bytes) -> RocePacket:
    """Parse BTH..payload (the ICRC already stripped); raise FabricError on a malformed packet."""
    if len(data) < BTH_LEN:
        raise FabricError(f"RoCE: packet of {len(data)} bytes is shorter than a BTH")
    return _decode(data, len(data))


def _decode(data: bytes, end: int) -> RocePacket:
    """Parse data[:end] (BTH..padded payload) without copying it first."""
    op, flags, pkey, w2, w3 = _BTH.unpack_from(data)
    if op in PLAIN:  # no extension headers (end >= BTH_LEN: the callers checked)
        payload = b""
        if op != CNP:
            stop = end - ((flags >> 4) & 3)
            if stop < BTH_LEN:
                raise FabricError("RoCE: pad count larger than the payload")
            payload = data[BTH_LEN:stop]
        return RocePacket(op, w2 & 0xFFFFFF, w3 & 0xFFFFFF, payload, w3 >= 0x80000000, flags >= 0x80,
                          (w2 & 0x40000000) != 0, pkey)
    if op not in KNOWN:
        raise FabricError(f"RoCE: unsupported opcode {op:#x}")
    off = BTH_LEN
    va = rkey = dma_len = syndrome = msn = 0
    imm = None
    try:
        if op in WITH_RETH:
            va, rkey, dma_len = _RETH.unpack_from(data, off)
            off += RETH_LEN
        if op == ACKNOWLEDGE:
            (w,) = _U32.unpack_from(data, off)
            syndrome, msn = w >> 24, w & 0xFFFFFF
            off += AETH_LEN
        if op in WITH_IMM:
            (imm,) = _U32.unpack_from(data, off)
            off += IMM_LEN
    except struct.error:
        raise FabricError(f"RoCE: opcode {op:#x} packet truncated in its extension headers") from None
    if off > end:  # unpack_from read into the ICRC behind `end`
        raise FabricError(f"RoCE: opcode {op:#x} packet truncated in its extension headers")
    payload = b""
    if op != CNP:
        stop = end - ((flags >> 4) & 3)
        if stop < off:
            raise FabricError("RoCE: pad count larger than the payload")
        payload = data[off:stop]
    return RocePacket(op, w2 & 0xFFFFFF, w3 & 0xFFFFFF, payload, w3 >= 0x80000000, flags >= 0x80,
                      (w2 & 0x40000000) != 0, pkey, va, rkey, dma_len, syndrome, msn, imm)


def icrc(src: bytes, dst: bytes, sport: int, dport: int, body: bytes) -> int:
    """ICRC of `body` (BTH..padded payload) carried in IPv4 src->dst, UDP sport->dport.

    The IPv4 header is the one Linux builds for an unconnected UDP socket with DF set:
    IHL 5, identification 0, flags DF; everything a router may change is masked to ones.
    """
    crc = _pseudo_crc(src, dst, sport, dport, 8 + len(body) + ICRC_LEN)
    view = memoryview(body)
    return _crc32(view[5:], _crc32(b"\xff", _crc32(view[:4], crc)))


def _pseudo_crc(src: bytes, dst: bytes, sport: int, dport: int, udp_len: int) -> int:
    """CRC-32 of the 0xFF prefix and the masked IPv4/UDP headers (what the ICRC starts with)."""
    return _crc32(_PSEUDO.pack(b"\xff" * 8, 0x45, 0xFF, 20 + udp_len, 0, 0x4000, 0xFF, 17, 0xFFFF, src, dst,
                               sport, dport, udp_len, 0xFFFF))


# The ICRC's start per (src, dst, sport, dport, UDP length): a flow sends few lengths (full
# MTU, its last packet, ACKs), so nearly every packet finds it here. Bounded: cleared when full.
_PSEUDO_CACHE: dict[tuple[str, str, int, int, int], int] = {}
_PSEUDO_CACHE_MAX = 1 << 16


def _pseudo_crc_cached(src_ip: str, dst_ip: str, sport: int, dport: int, udp_len: int) -> int:
    key = (src_ip, dst_ip, sport, dport, udp_len)
    crc = _PSEUDO_CACHE.get(key)
    if crc is None:
        crc = _pseudo_crc(socket.inet_aton(src_ip), socket.inet_aton(dst_ip), sport, dport, udp_len)
        if len(_PSEUDO_CACHE) >= _PSEUDO_CACHE_MAX:
            _PSEUDO_CACHE.clear()
        _PSEUDO_CACHE[key] = crc
    return crc


def frame(pkt: RocePacket, src_ip: str, dst_ip: str, sport: int, dport: int = ROCE_PORT) -> bytes:
    """The UDP payload for `pkt`: encoded headers and payload followed by the ICRC.

    The ICRC runs over the pieces as they are built (the BTH packed a second time with its
    byte 4 masked), so the frame is joined once and never copied for the CRC."""
    op = pkt.opcode
    if op not in KNOWN:
        raise FabricError(f"RoCE: unsupported opcode {op:#x}")
    payload = _CNP_PAD if op == CNP else pkt.payload
    pad = -len(payload) % 4
    flags, pkey, dqpn = (pkt.solicited << 7) | (pad << 4), pkt.pkey, pkt.dqpn & 0xFFFFFF
    w3 = (pkt.ackreq << 31) | (pkt.psn & 0xFFFFFF)
    ext = b"" if op in PLAIN else _extensions(pkt, op)
    tail = _PADS[pad]
    key = (src_ip, dst_ip, sport, dport, 8 + BTH_LEN + len(ext) + len(payload) + pad + ICRC_LEN)
    crc = _PSEUDO_CACHE.get(key)
    if crc is None:
        crc = _pseudo_crc_cached(*key)
    crc = _crc32(_BTH.pack(op, flags, pkey, _MASKED | dqpn, w3), crc)
    if ext:
        crc = _crc32(ext, crc)
    crc = _crc32(payload, crc)
    if pad:
        crc = _crc32(tail, crc)
    bth = _BTH.pack(op, flags, pkey, (pkt.becn << 30) | dqpn, w3)
    return b"".join((bth, ext, payload, tail, _ICRC.pack(crc)))


def unframe(
    data: bytes, src_ip: str, dst_ip: str, sport: int, dport: int = ROCE_PORT, verify: bool = True
) -> RocePacket:
    """Decode a UDP payload; with `verify`, raise FabricError when the ICRC does not match."""
    n = len(data)
    if n < BTH_LEN + ICRC_LEN:
        raise FabricError(f"RoCE: datagram of {n} bytes is too short")
    end = n - ICRC_LEN
    if verify:
        (got,) = _ICRC.unpack_from(data, end)
        key = (src_ip, dst_ip, sport, dport, 8 + n)
        crc = _PSEUDO_CACHE.get(key)
        if crc is None:
            crc = _pseudo_crc_cached(*key)
        view = memoryview(data)
        want = _crc32(view[5:end], _crc32(b"\xff", _crc32(view[:4], crc)))
        if got != want:
            raise FabricError(f"RoCE: bad ICRC {got:#010x} (expected {want:#010x})")
    return _decode(data, end)


BTH_FROM_SWITCH = 1  # BTH resv6 of a CNP a switch generated (fabric.p4): it has no valid ICRC


def is_switch_cnp(data: bytes) -> bool:
    """A CNP fabric.p4 built from a data packet: addressed to the QP the data went to, from
    the data's destination, with BTH resv6 = BTH_FROM_SWITCH (the switch computes no ICRC)."""
    return len(data) >= BTH_LEN and data[0] == CNP and data[4] & 0x3F == BTH_FROM_SWITCH
