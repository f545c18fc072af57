"""A header write right after another write (or setValid) of the same header, with nothing
between them at that indent, reuses `_h` instead of binding it again; a setValid followed
by writes of every field (reading the header through nothing else) leaves out its zeroing.
Each mode gives different bytes if a binding were reused across branches or table actions,
or a field kept a value written while the header was invalid."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header o_t { bit<8> mode; }
header a_t { bit<8> x; bit<8> y; }
header b_t { bit<8> p; bit<8> q; }
struct metadata { }
struct headers { o_t o; a_t a; b_t b; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.o); pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action set_x() { hdr.a.x = 0x70; }
    action set_y() { hdr.a.y = 0x71; }
    action set_both() { hdr.a.x = 0x72; hdr.a.y = 0x73; }
    table t {
        key = { hdr.o.mode: exact; }
        actions = { set_x; set_y; set_both; NoAction; }
        const entries = { 6: set_y(); 7: set_x(); 8: set_both(); }
        default_action = NoAction();
    }
    apply {
        sm.egress_spec = 2;
        if (hdr.o.mode == 1) {          // written while invalid, then valid and written whole
            hdr.b.p = 0x11;
            hdr.b.setValid();
            hdr.b.p = hdr.o.mode + 1;
            hdr.b.q = 7;
        } else if (hdr.o.mode == 2) {   // written in part: q is zero after setValid
            hdr.b.q = 0x22;
            hdr.b.setValid();
            hdr.b.p = 5;
        } else if (hdr.o.mode == 3) {   // the second write reads the first's result
            hdr.a.x = 1;
            hdr.a.y = hdr.a.x + 1;
        } else if (hdr.o.mode == 4) {   // setValid of a valid header keeps nothing zeroed
            hdr.a.setValid();
            hdr.a.x = hdr.a.y;
            hdr.a.y = 9;
        } else if (hdr.o.mode == 5) {   // a write in each branch, then one after them
            if (hdr.a.x == 0) { hdr.a.x = 3; } else { hdr.a.y = 4; }
            hdr.a.y = hdr.a.y + 1;
        } else {
            t.apply();                  // actions' bodies written one after the other
            hdr.a.y = hdr.a.y + 0x10;
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.o); pkt.emit(hdr.a); pkt.emit(hdr.b); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def core():
    return SwitchCore(compile_source(PROGRAM, "rebind.p4"))


@pytest.mark.parametrize("mode,x,y,out", [
    (1, 0x40, 0x41, [1, 0x40, 0x41, 2, 7]),
    (2, 0x40, 0x41, [2, 0x40, 0x41, 5, 0]),
    (3, 0x40, 0x41, [3, 1, 2]),
    (4, 0x40, 0x41, [4, 0x41, 9]),
    (5, 0, 0x41, [5, 3, 0x42]),
    (5, 8, 0x41, [5, 8, 5]),
    (6, 0x40, 0x41, [6, 0x40, 0x81]),
    (7, 0x40, 0x41, [7, 0x70, 0x51]),
    (8, 0x40, 0x41, [8, 0x72, 0x83]),
    (9, 0x40, 0x41, [9, 0x40, 0x51]),
])
def test_writes(core, mode, x, y, out):
    assert core.process(1, bytes([mode, x, y]), 0) == [(2, bytes(out))]


def test_bindings_left_out():
    """The cases above exercise the shortcut: fewer bindings than writes, one zeroing."""
    from fabriclab.switch.codegen import generate_pipeline
    src = generate_pipeline(compile_source(PROGRAM, "rebind.p4")).source
    assert src.count("_h.v = 0\n") == 2  # modes 2 and 4 (a value reads a): mode 1 writes b whole
    assert src.count("_h = _p_hdr_") < src.count("_h.v = ")
