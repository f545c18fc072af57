"""verify_checksum by residue: a csum16 over aligned slices of the header that holds the
checksum field is tested as (header int mod 0xFFFF), with the exact test kept for a field
of 0 or 0xFFFF. Every packet's checksum_error is compared with csum16 of the bytes, over
random headers and the corners where the residue test alone would be wrong (data summing
to 0 or to a non-zero multiple of 0xFFFF, a field of 0 or 0xFFFF, off by one)."""

import random

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.hashing import csum16

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header ip_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> len; bit<16> id; bit<3> flags;
              bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> src; bit<32> dst; }
header b_t { bit<16> c; bit<16> x; bit<16> skip; bit<16> y; }
header r_t { bit<8> ip_err; }
struct metadata { }
struct headers { ip_t ip; b_t b; r_t r; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.ip); pkt.extract(hdr.b); pkt.extract(hdr.r); transition accept; }
}
control V(inout headers hdr, inout metadata meta) {
    apply {
        verify_checksum(hdr.ip.isValid(), { hdr.ip.version, hdr.ip.ihl, hdr.ip.tos, hdr.ip.len,
            hdr.ip.id, hdr.ip.flags, hdr.ip.frag, hdr.ip.ttl, hdr.ip.proto, hdr.ip.src,
            hdr.ip.dst }, hdr.ip.csum, HashAlgorithm.csum16);
    }
}
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 2; hdr.r.ip_err = (bit<8>)sm.checksum_error; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.ip); pkt.emit(hdr.b); pkt.emit(hdr.r); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""
# b_t's checksum over {x, y}: aligned slices, but not the whole header (skip left out)
SECOND = PROGRAM.replace(
    "hdr.ip.csum, HashAlgorithm.csum16);",
    "hdr.ip.csum, HashAlgorithm.csum16);\n        verify_checksum(true, { hdr.b.x, hdr.b.y }, "
    "hdr.b.c, HashAlgorithm.csum16);")


@pytest.fixture(scope="module")
def cores():
    return (SwitchCore(compile_source(PROGRAM, "verify.p4")),
            SwitchCore(compile_source(SECOND, "verify2.p4")))


def ip_header(rest: bytes, field: int) -> bytes:
    """20 bytes: `rest` (18 bytes) with the checksum `field` at bytes 10-11."""
    return rest[:10] + field.to_bytes(2, "big") + rest[10:]


def expected_error(data: bytes, field: int) -> bool:
    return csum16(data) != field


def cases() -> list[tuple[bytes, int]]:
    rng = random.Random(24)
    out = []
    zero = bytes(18)
    ffff = b"\xff\xff" + bytes(16)          # non-zero, sums to 0xFFFF: checksum 0
    two = b"\x80\x00\x7f\xff" + bytes(14)   # 0x8000 + 0x7FFF = 0xFFFF as well
    for rest in (zero, ffff, two):
        for field in (0, 0xFFFF, 1, 0xFFFE, csum16(rest)):
            out.append((rest, field))
    for _ in range(300):
        rest = rng.randbytes(18)
        good = csum16(rest)
        for field in (good, (good + 1) & 0xFFFF, (good - 1) & 0xFFFF, 0, 0xFFFF,
                      good ^ 0xFFFF, rng.getrandbits(16)):
            out.append((rest, field))
    return out


def test_ip_checksum_error_matches_csum16(cores):
    core = cores[0]
    for rest, field in cases():
        frame = ip_header(rest, field) + bytes(8) + b"\x00"
        (port, out), = core.process(1, frame, 0)
        assert out[-1] == expected_error(rest, field), (rest.hex(), hex(field))


def test_aligned_part_of_a_header(cores):
    core = cores[1]
    rng = random.Random(7)
    ip_rest = rng.randbytes(18)
    ip = ip_header(ip_rest, csum16(ip_rest))  # a good IPv4 checksum: only b's counts
    for x, y in [(0, 0), (0xFFFF, 0), (0x8000, 0x7FFF)] + [(rng.getrandbits(16), rng.getrandbits(16))
                                                          for _ in range(200)]:
        data = x.to_bytes(2, "big") + y.to_bytes(2, "big")
        good = csum16(data)
        for c in (good, 0, 0xFFFF, (good + 1) & 0xFFFF):
            skip = rng.getrandbits(16)
            frame = ip + c.to_bytes(2, "big") + data[:2] + skip.to_bytes(2, "big") + data[2:] + b"\x00"
            (port, out), = core.process(1, frame, 0)
            assert out[-1] == (c != good), (hex(x), hex(y), hex(c))
