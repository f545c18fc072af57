"""Header-field arithmetic in place and packed hash inputs: `h.f = h.f +/- e` computed on
the header's int (wrapping at the field's width, neighbours untouched), values reading
the header they write, and a hash data list packed as one number when every item is
present (items of an invalid header left out). Results that differ if any were wrong."""

import zlib

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<4> hi; bit<4> lo; bit<16> len; }
header b_t { bit<16> y; }
header h_t { bit<32> h; }
struct metadata { bit<32> k; }
struct headers { a_t a; b_t b; h_t res; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        transition select(hdr.a.op) { 1: parse_b; default: accept; }
    }
    state parse_b { pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        meta.k = 0x10003;
        hdr.a.hi = hdr.a.hi - 1;          // wraps at 4 bits, lo untouched
        hdr.a.lo = 2 + hdr.a.lo;          // the field on the right
        hdr.a.len = hdr.a.len + (bit<16>)meta.k;  // a wider value cast down: + 3
        hdr.a.op = hdr.a.op - hdr.a.op;   // the same field on both sides
        hdr.res.setValid();
        hash(hdr.res.h, HashAlgorithm.crc32, 32w0, { hdr.b.y, hdr.a.lo, hdr.a.len }, 33w0x100000000);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.a); pkt.emit(hdr.b); pkt.emit(hdr.res); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def core():
    return SwitchCore(compile_source(PROGRAM, "field_step.p4"))


def expect(op: int, nibbles: int, length: int, b: bytes | None) -> bytes:
    hi, lo = (((nibbles >> 4) - 1) & 15), ((nibbles & 15) + 2) & 15
    new_len = (length + 3) & 0xFFFF
    a = bytes([0, (hi << 4) | lo]) + new_len.to_bytes(2, "big")
    # the hash's data: b.y (when b is valid), lo (4 bits), len (16 bits), padded to bytes
    bits, n = lo, 4
    if b is not None:
        bits, n = (int.from_bytes(b, "big") << 4) | lo, 20
    bits, n = (bits << 16) | new_len, n + 16
    data = (bits << (-n % 8)).to_bytes((n + 7) // 8, "big")
    return a + (b or b"") + zlib.crc32(data).to_bytes(4, "big")


@pytest.mark.parametrize("nibbles,length", [(0x00, 0xFFFE), (0x1E, 5), (0xFF, 0xFFFF), (0x80, 0)])
def test_fields_wrap_in_place(core, nibbles, length):
    frame = bytes([0, nibbles]) + length.to_bytes(2, "big") + b"pay"
    assert core.process(1, frame, 0) == [(2, expect(0, nibbles, length, None) + b"pay")]


def test_hash_input_with_and_without_the_optional_header(core):
    frame = bytes([1, 0x35]) + (7).to_bytes(2, "big") + b"\xab\xcd" + b"p"
    assert core.process(1, frame, 0) == [(2, expect(1, 0x35, 7, b"\xab\xcd") + b"p")]
    frame = bytes([2, 0x35]) + (7).to_bytes(2, "big") + b"\xab\xcd" + b"p"
    assert core.process(1, frame, 0) == [(2, expect(2, 0x35, 7, None) + b"\xab\xcdp")]


REGISTERS = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<16> wide; bit<8> narrow; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<8>>(2) r;
    register<bit<8>>(1 << 20) big;       // past DENSE_REGISTER_CELLS: a sparse dict
    counter(1 << 20, CounterType.packets_and_bytes) bigc;  // sparse too
    counter(8, CounterType.packets_and_bytes) smallc;      // dense
    apply {
        bigc.count((bit<32>)hdr.a.wide << 4);
        smallc.count((bit<32>)hdr.a.narrow);  // out of range from 8 on: not counted
        sm.egress_spec = 2;
        r.write(0, (bit<8>)hdr.a.wide);   // narrowed by the cast
        r.write(1, hdr.a.narrow);         // in range as it is
        bit<8> old;
        big.read(old, (bit<32>)hdr.a.wide << 4);
        big.write((bit<32>)hdr.a.wide << 4, old + hdr.a.narrow);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_register_writes_keep_the_cell_width():
    core = SwitchCore(compile_source(REGISTERS, "register_widths.p4"))
    core.process(1, bytes([0x12, 0x34, 0xfe]), 0)
    reg = core.registers["I.r"]
    assert reg.dense and (reg.read(0), reg.read(1)) == (0x34, 0xfe)
    big = core.registers["I.big"]
    core.process(1, bytes([0x12, 0x34, 0x01]), 0)  # the same cell again: 0xfe + 1
    assert not big.dense and big.cells == {0x12340: 0xff} and big.read(5) == 0
    bigc, smallc = core.counters["I.bigc"], core.counters["I.smallc"]
    assert not bigc.dense and list(bigc.cells) == [0x12340]
    assert (bigc.read(0x12340).packets, bigc.read(0x12340).bytes) == (2, 6)
    assert smallc.dense and smallc.read(1).packets == 1 and len(smallc.cells) == 8
    smallc.reset()
    assert smallc.read(1).packets == 0
    core.process(1, bytes([0, 0, 1]), 0)
    assert smallc.read(1).packets == 1  # the list reset in place: generated code sees it


SHIFTS = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> x; bit<8> s; bit<16> wide_s; bit<8> r1; bit<8> r2; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        hdr.a.r1 = hdr.a.x << hdr.a.s;                  // a bit<8> amount: no test
        hdr.a.r2 = hdr.a.x << (bit<8>)hdr.a.wide_s;     // narrowed: no test either
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("x,s,expected", [(0x81, 1, 0x02), (0xff, 7, 0x80), (0xff, 8, 0),
                                          (0xff, 200, 0), (0x01, 0, 0x01)])
def test_shifts_past_the_width_give_zero(x, s, expected):
    core = SwitchCore(compile_source(SHIFTS, "shifts.p4"))
    frame = bytes([x, s]) + (0x100 + s).to_bytes(2, "big") + bytes(2)
    assert core.process(1, frame, 0) == [(2, frame[:4] + bytes([expected, expected]))]


HASH_BY_VALUES = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<12> x; bit<4> y; }
header b_t { bit<16> z; }
header r_t { bit<16> h16; bit<32> h32; }
struct metadata { bit<12> k; bit<4> j; }
struct headers { a_t a; b_t b; r_t r; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        transition select(hdr.a.op) { 1: parse_b; default: accept; }
    }
    state parse_b { pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        hdr.r.setValid();
        meta.k = hdr.a.x;
        meta.j = hdr.a.y;
        // one optional header: hashed by the values, per distinct values
        hash(hdr.r.h16, HashAlgorithm.crc16, 16w0, { hdr.b.z, meta.k }, 17w0x10000);
        hash(hdr.r.h32, HashAlgorithm.crc32, 32w5, { meta.j, hdr.b.z }, 32w1000);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); pkt.emit(hdr.b); pkt.emit(hdr.r); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("op", [1, 2])
def test_hash_by_values_matches_the_packed_bytes(op):
    from fabriclab.switch.hashing import crc16, pack_fields
    core = SwitchCore(compile_source(HASH_BY_VALUES, "hash_by_values.p4"))
    for x, y, z in ((0xABC, 5, 0x1234), (0, 0, 0), (0xFFF, 15, 0xFFFF), (0xABC, 5, 0x1234)):
        a = bytes([op]) + ((x << 4) | y).to_bytes(2, "big")
        b = z.to_bytes(2, "big")
        valid = op == 1
        h16 = crc16(pack_fields((z, x) if valid else (x,), (16, 12) if valid else (12,)))
        h32 = 5 + zlib.crc32(pack_fields((y, z) if valid else (y,), (4, 16) if valid else (4,))) % 1000
        out = a + (b if valid else b"") + h16.to_bytes(2, "big") + h32.to_bytes(4, "big")
        assert core.process(1, a + b, 0) == [(2, out + (b"" if valid else b))]
