"""A parser select on fields of one header, with constant, masked and default keysets,
tests one number (the fields' bits of the header's int) per case. Every combination of
the key fields is checked against the select's cases taken in order, so a case packed
with a wrong shift, mask or value, or a wrong group test, picks another state."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header k_t { bit<4> a; bit<4> b; bit<8> c; }
header r_t { bit<8> which; }
struct metadata { bit<8> which; }
struct headers { k_t k; r_t r; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.k);
        pkt.extract(hdr.r);
        transition select(hdr.k.a, hdr.k.c) {
            (1, 0x10): s1;
            (2, 0x20): s1;
            (3, _): s2;
            (4, 0x30 &&& 0xF0): s3;
            (_, 0xFF): s4;
            (0x8 &&& 0x8, 0x01 &&& 0x0F): s3;
            (0, 0): reject;
            default: s5;
        }
    }
    state s1 { meta.which = 1; transition accept; }
    state s2 {
        meta.which = 2;
        transition select(hdr.k.b) { 7: s6; 9: s6; default: accept; }
    }
    state s3 { meta.which = 3; transition accept; }
    state s4 { meta.which = 4; transition accept; }
    state s5 { meta.which = 5; transition accept; }
    state s6 { meta.which = 6; transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (sm.parser_error != error.NoError) { meta.which = 0xEE; }
        hdr.r.which = meta.which;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.k); pkt.emit(hdr.r); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def reference(a: int, b: int, c: int) -> int:
    """The state the select takes, case by case; 0 for reject (v1model runs ingress on,
    with no parser error for an explicit reject)."""
    if (a, c) in ((1, 0x10), (2, 0x20)):
        return 1
    if a == 3:
        return 6 if b in (7, 9) else 2
    if a == 4 and c & 0xF0 == 0x30:
        return 3
    if c == 0xFF:
        return 4
    if a & 8 and c & 0x0F == 1:
        return 3
    if (a, c) == (0, 0):
        return 0
    return 5


@pytest.fixture(scope="module")
def core():
    return SwitchCore(compile_source(PROGRAM, "packed_select.p4"))


@pytest.fixture(scope="module")
def unpacked():
    """The same program with every select's keys extracted one by one (as before)."""
    from fabriclab.switch.codegen_parser import ParserGenerator
    patch = pytest.MonkeyPatch()
    patch.setattr(ParserGenerator, "packed_select", lambda self, t: None)
    try:
        return SwitchCore(compile_source(PROGRAM, "unpacked_select.p4"))
    finally:
        patch.undo()


def test_every_key(core, unpacked):
    for a in range(16):
        for b in (0, 7, 9, 15):
            for c in (0, 1, 0x10, 0x11, 0x20, 0x30, 0x3F, 0x41, 0xF1, 0xFF):
                frame = bytes([a << 4 | b, c, 0])
                out = core.process(1, frame, 0)
                assert out == [(2, frame[:2] + bytes([reference(a, b, c)]))], (a, b, c)
                assert out == unpacked.process(1, frame, 0)


def test_packed_in_the_code():
    """The select above is packed: no key shifted out of the header's int."""
    from fabriclab.switch.codegen import generate_pipeline
    src = generate_pipeline(compile_source(PROGRAM, "packed_select.p4")).source
    assert ".v >> 12)" not in src and ".v >> 8)" not in src
