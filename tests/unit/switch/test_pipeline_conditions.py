"""Conditions compiled as truth tests: an unsigned `x != 0` tests x, `x == 0` tests
`not x`, a bit<1> `x == 1` tests x, in ifs, ?: and inside && / || / !. Each row of the
table gives a different byte if any of them tested the wrong thing."""

import textwrap

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore


def one_header(fields: str, ingress: str, metadata: str = "") -> str:
    """A v1model program around one header `a` (extracted, then emitted) whose ingress
    sends every packet to port 2 and then runs `ingress`: the programs below differ only
    in the header's fields, the metadata and that ingress."""
    return (_PRE.replace("@FIELDS@", fields).replace("@META@", f"{metadata} " if metadata else "")
            + textwrap.indent(ingress.strip("\n") + "\n", " " * 8) + _POST)


_PRE = """
#include <core.p4>
#include <v1model.p4>
header a_t { @FIELDS@ }
struct metadata { @META@}
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
"""
_POST = """    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


PROGRAM = one_header("bit<8> x; bit<1> f; bit<7> pad; int<8> s; bit<8> res;", """
bit<8> r = 0;
if (hdr.a.x != 0) { r = r | 1; }
if (hdr.a.x == 0) { r = r | 2; }
if (hdr.a.f == 1) { r = r | 4; }
if (hdr.a.f != 1 && !(0 == hdr.a.x)) { r = r | 8; }
if (hdr.a.s == 0 || hdr.a.s != -1) { r = r | 16; }   // signed: compared as before
r = r | (hdr.a.f == 0 ? 8w32 : 8w0);
if ((hdr.a.x & 0x80) != 0) { r = r | 64; }
hdr.a.res = r;
""")


@pytest.fixture(scope="module")
def core():
    return SwitchCore(compile_source(PROGRAM, "conditions.p4"))


@pytest.mark.parametrize("x,f,s,expected", [
    (0, 0, 0, 2 | 16 | 32),
    (5, 0, 0xFF, 1 | 8 | 32),
    (0x80, 1, 3, 1 | 4 | 16 | 64),
    (0, 1, 0xFF, 2 | 4),
])
def test_truth_tests(core, x, f, s, expected):
    frame = bytes([x, f << 7, s, 0])
    assert core.process(1, frame, 0) == [(2, bytes([x, f << 7, s, expected]))]


UPDATES = one_header("bit<8> x; bit<8> y; bit<8> lo; bit<8> hi;", """
meta.m = hdr.a.x;
meta.m = (hdr.a.y < meta.m) ? hdr.a.y : meta.m;       // a running minimum
hdr.a.lo = meta.m;
hdr.a.hi = (hdr.a.x > hdr.a.y) ? hdr.a.hi : hdr.a.x;  // the field kept on true
""", metadata="bit<8> m;")


@pytest.mark.parametrize("x,y,lo,hi", [(5, 3, 3, 9), (3, 5, 3, 3), (4, 4, 4, 4)])
def test_conditional_updates(x, y, lo, hi):
    core = SwitchCore(compile_source(UPDATES, "conditional_updates.p4"))
    assert core.process(1, bytes([x, y, 0, 9]), 0) == [(2, bytes([x, y, lo, hi]))]


ERRORS = """
#include <core.p4>
#include <v1model.p4>
header e_t { bit<8> x; }
struct metadata { }
struct headers { e_t a; e_t b; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (sm.parser_error != error.NoError) { hdr.a.x = 0xee; }
        if (error.NoError == sm.parser_error) { hdr.a.x = hdr.a.x + 1; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); pkt.emit(hdr.b); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_parser_error_against_no_error():
    core = SwitchCore(compile_source(ERRORS, "parser_errors.p4"))
    assert core.process(1, bytes([5, 6]), 0) == [(2, bytes([6, 6]))]
    assert core.process(1, bytes([5]), 0) == [(2, bytes([0xee]))]  # b: PacketTooShort


COMPARE = one_header("bit<4> hi; bit<4> lo; bit<8> res; bit<8> res2;", """
bit<8> r = 0;
if (hdr.a.hi == 5) { r = r | 1; }
if (hdr.a.hi != 5) { r = r | 2; }
if (hdr.a.hi > 5) { r = r | 4; }
if (5 > hdr.a.hi) { r = r | 8; }      // the constant on the left
if (hdr.a.hi <= 5) { r = r | 16; }
if (15 <= hdr.a.hi) { r = r | 32; }
if (hdr.a.hi != 0) { r = r | 64; }    // a truth test at the field's place
if (hdr.a.lo == 0) { r = r | 128; }   // shift 0: as before
hdr.a.res = r;
hdr.a.res2 = (hdr.a.hi < 9) ? 8w1 : 8w0;
""")


@pytest.mark.parametrize("hi,lo,expected", [
    (5, 0, 1 | 16 | 64 | 128), (4, 3, 2 | 8 | 16 | 64), (6, 0, 2 | 4 | 64 | 128),
    (15, 1, 2 | 4 | 32 | 64), (0, 0, 2 | 8 | 16 | 128)])
def test_fields_compared_with_constants_in_place(hi, lo, expected):
    core = SwitchCore(compile_source(COMPARE, "compare_in_place.p4"))
    frame = bytes([hi << 4 | lo, 0, 0])
    assert core.process(1, frame, 0) == [(2, bytes([hi << 4 | lo, expected, int(hi < 9)]))]


SLICES = one_header("bit<8> x; bit<16> y; bit<8> v; bit<8> t;", """
hdr.a.v = hdr.a.y[11:4];
bit<8> t = 0;
if (hdr.a.y[15:15] == 1) { t = t | 1; }
if (hdr.a.y[3:0] != 0) { t = t | 2; }
if (hdr.a.y[7:4] == 0) { t = t | 4; }
if (hdr.a.x[0:0] == 0) { t = t | 8; }
hdr.a.t = t;
""")


@pytest.mark.parametrize("x,y", [(0, 0), (1, 0x8000), (2, 0x000F), (0xFF, 0x7FF0), (0x80, 0xABCD)])
def test_slices_of_header_fields_as_values_and_tests(x, y):
    """A slice of a header field read straight from the header's int, as a value and as an
    if's test: each bit of `t` checks one slice against the same slice computed here."""
    core = SwitchCore(compile_source(SLICES, "slices.p4"))
    t = ((y >> 15) & 1) | (2 if y & 0xF else 0) | (4 if not (y >> 4) & 0xF else 0) | (8 if not x & 1 else 0)
    frame = bytes([x]) + y.to_bytes(2, "big") + bytes(2)
    assert core.process(1, frame, 0) == [(2, frame[:3] + bytes([(y >> 4) & 0xFF, t]))]
