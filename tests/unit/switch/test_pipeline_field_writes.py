"""Consecutive writes to one header's fields are merged into one store: same result as one
by one, including values that read the header (directly or beside an inout copy)."""

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header d_t { bit<8> a; bit<8> b; bit<16> c; bit<1> f; bit<7> g; }
struct metadata { }
struct headers { d_t d; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.d); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action through_alias(inout d_t h) { h.a = 7; h.b = hdr.d.a + 1; h.c = (bit<16>)h.b; }
    apply {
        sm.egress_spec = 1;
        if (hdr.d.g == 1) {
            hdr.d.a = 0x11; hdr.d.c = 0xBEEF; hdr.d.f = 1; hdr.d.b = 0x22;
        } else {
            through_alias(hdr.d);
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.d); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_merged_writes_keep_sequential_semantics():
    core = SwitchCore(compile_source(PROGRAM, "field_writes.p4"))
    ((_, out),) = core.process(0, bytes([1, 2, 0, 3, 0x01]), 0)
    assert out == bytes([0x11, 0x22, 0xBE, 0xEF, 0x81])  # f is the top bit of the last byte
    ((_, out),) = core.process(0, bytes([1, 2, 0, 3, 0x00]), 0)
    # inout is copy-in/copy-out (P4-16; p4c's gauntlet_indirect_hdr_assign_1 STF): hdr.d.a
    # still reads 1 while the action writes its copy h; c reads h.b just written
    assert out == bytes([7, 2, 0, 2, 0x00])
