"""Constructor parameters and extern arguments on the switch: a parser's or control's
constructor parameter is the value (a compile-time constant) or the extern instance its
instantiation gives, as p4c folds and binds them; an extern passed as a directionless apply
argument is that instance (p4c: parser-unroll-t1-cond, issue1958)."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; }
struct hs_t { h_t h; }
struct m_t { }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm)(bool mark) {
    state start { pkt.extract(hdr.h); transition select(mark) { true: marked; false: accept; } }
    state marked { hdr.h.b = 0xEE; transition accept; }
}
control Sub(inout hs_t hdr)(bit<8> k, register<bit<8>> r) {
    apply { bit<8> v; r.read(v, 0); hdr.h.a = hdr.h.a + k + v; r.write(0, v + 1); }
}
control Outer(inout hs_t hdr)(bit<8> k2, register<bit<8>> r2) {
    Sub(k2 + 1, r2) inner;
    apply { inner.apply(hdr); }
}
control Bump(inout hs_t hdr, register<bit<8>> by) {
    apply { bit<8> v; by.read(v, 0); hdr.h.b = hdr.h.b + v; }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    register<bit<8>>(1) reg;
    Outer(8w5, reg) outer;
    Bump() bump;
    apply { outer.apply(hdr); bump.apply(hdr, reg); sm.egress_spec = 1; }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
@@MAIN
"""


@pytest.mark.parametrize("main, b", [
    ("V1Switch(P(false), V(), I(), E(), C(), D()) main;", 2),
    ("V1Switch(P(true), V(), I(), E(), C(), D()) main;", 0xEE),
])
def test_constructor_arguments_and_an_extern_argument_reach_the_code(main, b):
    core = SwitchCore(compile_source(PROGRAM.replace("@@MAIN", main), "t.p4"))
    # a: 1 + (5 + 1) + the register's cell, which Sub increments after reading; b: Bump adds
    # the cell as it is then (the one register, reached through three names)
    assert core.process(1, bytes([1, b if b != 0xEE else 2]), 0) == [(1, bytes([7, b + 1]))]
    assert core.process(1, bytes([1, b if b != 0xEE else 2]), 0) == [(1, bytes([8, b + 2]))]
    assert core.registers["I.reg"].read(0) == 2
