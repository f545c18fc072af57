"""A parser select with more than two constant values going to one state tests them as a
frozenset (one hash instead of a compare per value); each value and the others still
take their own transitions."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> j; }
header b_t { bit<8> v; }
struct metadata { }
struct headers { a_t a; b_t b; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        transition select(hdr.a.k) { 1: more; 3: more; 7: more; 200: more; 9: accept; 10: more; default: accept; }
    }
    state more {
        transition select(hdr.a.k, hdr.a.j) { (2, 2): accept; (4, 4): accept; (5, 5): accept; default: tail; }
    }
    state tail { pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 2; if (hdr.b.isValid()) { hdr.b.v = 0xEE; } }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); pkt.emit(hdr.b); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "select_sets.p4")


def test_many_values_are_one_set_test(program):
    source = generate_pipeline(program).source
    source = source[source.index("def run_ingress("):source.index("def egress(")]
    # start's four values to `more`; `more`'s three pairs, inlined after both of its groups
    assert source.count(" in {") == 3


@pytest.mark.parametrize("k", range(256))
def test_every_value_takes_its_transition(program, k):
    core = SwitchCore(program)
    ((_, out),) = core.process(1, bytes([k, k, 0x11]), 0)
    to_tail = k in (1, 3, 7, 200, 10)  # j == k: `more`'s pairs match only 2, 4, 5
    assert out == bytes([k, k, 0xEE if to_tail else 0x11])
