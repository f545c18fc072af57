"""Hash algorithms against published check values ("123456789")."""

import zlib

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch import hashing

CHECK = b"123456789"


def test_crc16_is_crc16_arc():
    assert hashing.crc16(CHECK) == 0xBB3D


def test_crc32_matches_zlib_check_value():
    assert hashing.crc32(CHECK) == 0xCBF43926 == zlib.crc32(CHECK)


def test_csum16_is_internet_checksum():
    # RFC 1071 example header: checksum of an IPv4 header with checksum 0
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert hashing.csum16(hdr) == 0xB861
    assert hashing.csum16(b"\x01") == 0xFEFF  # odd byte padded low


@pytest.mark.parametrize("data", [b"", b"\x01", b"\xff\xff", bytes(20), bytes(range(1, 20)),
                                  bytes.fromhex("450000730000400040110000c0a80001c0a800c7")])
def test_csum16_on_an_int_is_csum16_on_its_bytes(data):
    # the generated code checksums header fields as one int, without building bytes
    assert hashing.csum16_int(int.from_bytes(data, "big"), len(data)) == hashing.csum16(data)
    assert hashing.csum16(data) == _ones_complement_sum(data)


def _ones_complement_sum(data: bytes) -> int:
    """RFC 1071 word by word, as a reference."""
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for i in range(0, len(data), 2):
        total += data[i] << 8 | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_byte_loop_hashes_are_memoised_per_flow_and_exact():
    data = bytes(range(13))
    assert hashing.crc16(data) == hashing.crc16(bytes(data)) == hashing.crc16(bytearray(data))
    long = bytes(range(256)) * 4  # longer than a flow key: computed every time
    assert hashing.crc16(long) == hashing.crc16.__wrapped__(long)


def test_xor16_and_identity():
    assert hashing.xor16(bytes.fromhex("12345678")) == 0x1234 ^ 0x5678
    assert hashing.xor16(b"\xab") == 0xAB00
    assert hashing.identity(bytes.fromhex("0102")) == 0x0102
    assert hashing.identity(bytes(range(1, 11))) == 0x0102030405060708


def test_pack_fields_is_big_endian_and_pads_at_the_end():
    assert hashing.pack_fields([0xA, 0xB], [4, 4]) == b"\xab"
    assert hashing.pack_fields([1, 0x1FF], [1, 9]) == bytes([0b11111111, 0b11000000])
    assert hashing.pack_fields([0x1234], [16]) == b"\x12\x34"


def test_unknown_algorithm_is_a_clear_error():
    with pytest.raises(FabricError, match="hash algorithm 'md5'; use one of crc16, "):
        hashing.algorithm("md5")
    with pytest.raises(FabricError, match="'random' .simple_switch refuses it too"):
        hashing.algorithm("random")


CSUM_PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header d_t { bit<8> a; bit<16> b; bit<16> sum_odd; bit<16> sum_even; }
struct metadata { }
struct headers { d_t d; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.d); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) {
    apply {
        update_checksum(true, { hdr.d.a, hdr.d.b }, hdr.d.sum_odd, HashAlgorithm.csum16);
        update_checksum(true, { hdr.d.b }, hdr.d.sum_even, HashAlgorithm.csum16);
    }
}
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.d); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("a, b", [(0x12, 0x3456), (0, 0), (0xFF, 0xFFFF), (0xFF, 0xFF00)])
def test_generated_csum16_of_header_fields(a, b):
    from fabriclab.p4 import compile_source
    from fabriclab.switch.core import SwitchCore

    core = SwitchCore(compile_source(CSUM_PROGRAM, "csum.p4"))
    ((_, out),) = core.process(0, bytes([a]) + b.to_bytes(2, "big") + bytes(4), 0)
    assert int.from_bytes(out[3:5], "big") == _ones_complement_sum(bytes([a]) + b.to_bytes(2, "big"))
    assert int.from_bytes(out[5:7], "big") == _ones_complement_sum(b.to_bytes(2, "big"))
