"""setValid of a header the packet never had makes a new header (valid, zero) with no
validity test; of a header it had, sets it valid and zero only when invalid. A partial
write after it keeps the other fields zero (or as they were)."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; }
header b_t { bit<8> x; bit<8> y; }
struct metadata { }
struct headers { a_t a; b_t b; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        transition select(hdr.a.op) { 1: with_b; 3: with_b; default: accept; }
    }
    state with_b { pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (hdr.a.op == 3) { hdr.b.setInvalid(); }
        hdr.b.setValid();
        hdr.b.y = 0x77;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); pkt.emit(hdr.b); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("op,b_in,b_out", [
    (0, b"", b"\x00\x77"),          # absent: a new header, x zero
    (1, b"\x12\x34", b"\x12\x77"),  # extracted, valid: x kept
    (3, b"\x12\x34", b"\x00\x77"),  # extracted then invalid: zeroed
])
def test_set_valid_then_a_partial_write(op, b_in, b_out):
    core = SwitchCore(compile_source(PROGRAM, "set_valid.p4"))
    for _ in range(2):  # and again: no state kept between packets
        ((_, out),) = core.process(1, bytes([op]) + b_in + b"\xee", 0)
        assert out == bytes([op]) + b_out + b"\xee"
