"""An action called with a constant argument for a parameter its body only reads uses the
constant where the parameter is read (no local; a header write folds it into its constant
bits: INT's instruction bitmap). A body that passes the parameter to a call (hash())
keeps a local; a function's copy-in only reads it (the checker refuses writes to in
and directionless parameters). Each field differs if a constant were misplaced."""

import re

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> x; bit<8> y; bit<8> z; bit<8> w; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
bit<8> twice(in bit<8> n) { return n + n; }
bit<8> add_one(inout bit<8> n) { n = n + 1; return n; }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action put(in bit<8> v) { hdr.a.x = v; hdr.a.y = v + 1; }
    action bump(in bit<8> v) { bit<8> t = v; hdr.a.z = add_one(t) + v; }
    action via_fn(in bit<8> v) { hdr.a.w = twice(v); hash(hdr.a.y, HashAlgorithm.identity, 8w0, { v }, 16w256); }
    action put_twice(in bit<8> v) { hdr.a.x = hdr.a.x + v; }
    apply {
        sm.egress_spec = 2;
        if (hdr.a.x == 0) {
            put(5);
            bump(7);
            via_fn(9);
        } else {
            put_twice(3);
            put_twice(4);
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_constant_arguments():
    core = SwitchCore(compile_source(PROGRAM, "constant_args.p4"))
    assert core.process(1, bytes([0, 0, 0, 0]), 0) == [(2, bytes([5, 9, 15, 18]))]
    assert core.process(1, bytes([1, 0, 0, 0]), 0) == [(2, bytes([8, 0, 0, 0]))]


def test_folded_in_the_code():
    from fabriclab.switch.codegen import generate_pipeline
    src = generate_pipeline(compile_source(PROGRAM, "constant_args.p4")).source
    # via_fn's (passed to hash()) stays a local; put's, bump's and put_twice's (read
    # only, a function's copy-in included) are folded
    assert len(set(re.findall(r"_a_v_[0-9]+ = ", src))) == 1
