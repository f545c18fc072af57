"""A register/counter index held in a local that nothing writes after its initialiser has
the initialiser's range: the generated code leaves out the range check only when it can
never fail. Locals written again (an assignment, an out argument) keep it; so do wider
values. Behaviour: in-range and out-of-range indexes give what P4 defines."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<4> small; bit<4> pad; bit<8> wide; bit<8> add; }
struct metadata { }
struct headers { a_t a; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<8>>(16) small_reg;   // 16 cells: a bit<4> index always fits
    register<bit<8>>(16) wide_reg;
    register<bit<8>>(16) moved_reg;
    register<bit<8>>(16) out_reg;
    register<bit<32>>(1) seed;
    counter(16, CounterType.packets) hits;
    apply {
        sm.egress_spec = 1;
        bit<32> s = (bit<32>)hdr.a.small;  // never written again: 4 bits
        bit<32> w = (bit<32>)hdr.a.wide;   // 8 bits: may be out of range
        bit<32> m = (bit<32>)hdr.a.small;
        m = m + (bit<32>)hdr.a.add;        // written again: may be out of range
        bit<32> o = (bit<32>)hdr.a.small;
        seed.read(o, 0);                   // an out argument writes it
        small_reg.write(s, 1);
        hits.count(s);
        wide_reg.write(w, 2);
        moved_reg.write(m, 3);
        out_reg.write(o, 4);
        bit<8> back;
        small_reg.read(back, s);
        hdr.a.add = back;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "index_bits.p4")


@pytest.mark.parametrize("small, wide, add", [(3, 5, 0), (15, 15, 0), (2, 200, 100), (7, 16, 9)])
def test_indexes_in_and_out_of_range(program, small, wide, add):
    core = SwitchCore(program)
    core.registers["I.seed"].write(0, 20 if add else 6)  # out_reg's index: in range or not
    out = core.process(1, bytes([small << 4, wide, add]), 0)
    assert out == [(1, bytes([small << 4, wide, 1]))]
    expect = {"small_reg": {small: 1}, "wide_reg": {wide: 2} if wide < 16 else {},
              "moved_reg": {small + add: 3} if small + add < 16 else {},
              "out_reg": {} if add else {6: 4}}
    for name, cells in expect.items():  # every non-zero cell: nothing written out of range
        reg = core.registers[f"I.{name}"]
        assert reg.dense and len(reg.cells) == reg.size, name
        assert {i: v for i, v in enumerate(reg.cells) if v} == cells, name
    assert core.counters["I.hits"].read(small).packets == 1


def test_range_check_left_out_only_for_the_unwritten_narrow_local(program):
    source = generate_pipeline(program).source
    checks = [line.strip() for line in source.splitlines() if "< 16" in line]
    assert len(checks) == 3, checks  # wide_reg, moved_reg and out_reg writes: not s's ops
