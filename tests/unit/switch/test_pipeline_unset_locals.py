"""A local declared without a value gets no zero store when a later statement always stores
into it before anything reads it (only other such declarations and stores in between); any
other statement first, or a read of it, keeps the zero. Behaviour: every local reads as P4
defines (an unassigned local is 0), and none is read unbound."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<8> o1; bit<8> o2; bit<8> o3; bit<8> o4; }
struct metadata { }
struct headers { a_t a; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<8>>(4) r;
    apply {
        sm.egress_spec = 1;
        r.write(0, hdr.a.op + 10);
        r.write(1, hdr.a.op + 20);
        bit<8> a;                   // stored by the first read: no zero
        bit<8> b;                   // stored by the second read, after a's: no zero
        r.read(a, 0);
        r.read(b, 1);
        bit<8> c;                   // read before its store: keeps its zero
        bit<8> d;
        d = c + 1;
        c = 5;
        bit<8> e;                   // stored only on one branch: keeps its zero
        if (hdr.a.op == 1) { e = 3; }
        hdr.a.o1 = a;
        hdr.a.o2 = b;
        hdr.a.o3 = d + c;
        hdr.a.o4 = e;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "unset_locals.p4")


@pytest.mark.parametrize("op, e", [(1, 3), (2, 0)])
def test_locals_read_as_defined(program, op, e):
    out = SwitchCore(program).process(1, bytes([op, 0, 0, 0, 0]), 0)
    assert out == [(1, bytes([op, op + 10, op + 20, 1 + 5, e]))]


def test_zero_stores_left_out_only_where_a_store_comes_first(program):
    source = generate_pipeline(program).source
    zeroed = {line.strip().split(" = ")[0].split("_")[2] for line in source.splitlines()
              if line.strip().startswith("_v_") and line.strip().endswith(" = 0")}
    assert zeroed == {"c", "e"}
