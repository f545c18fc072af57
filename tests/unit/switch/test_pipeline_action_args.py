"""An in argument read once in the action is evaluated at that use (no local), unless the
action writes a variable the argument reads (by its root: any field of hdr counts as
hdr): copy-in semantics either way."""

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> x; bit<8> y; bit<8> z; bit<8> w; }
struct metadata { bit<8> m; }
struct headers { h_t h; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action overwrite_first(bit<8> v) { hdr.h.x = 5; hdr.h.y = v; }   // v: the old x
    action plain(bit<8> v) { hdr.h.z = v; }                         // folded: sm unwritten
    action via_meta(in bit<8> v) { meta.m = 1; hdr.h.w = v; }       // v: the old m
    action set_m() { meta.m = 9; }
    action via_call(in bit<8> v) { set_m(); hdr.h.x = hdr.h.x + v; } // v: m before set_m
    apply {
        sm.egress_spec = 2;
        meta.m = hdr.h.w;
        overwrite_first(hdr.h.x);
        plain((bit<8>)sm.ingress_port + 1);
        via_meta(meta.m + 2);
        via_call(meta.m);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_copy_in_values_with_and_without_a_local():
    program = compile_source(PROGRAM, "action_args.p4")
    source = generate_pipeline(program).source
    assert "_a_v_" in source  # overwrite_first and via_meta keep their copy
    assert source.count("_a_v_") == 6  # each stored and read once; plain's none
    core = SwitchCore(program)
    ((_, out),) = core.process(1, bytes([10, 0, 0, 40]), 0)
    assert out == bytes([6, 10, 2, 42])  # x: 5 + m (1, not set_m's 9)
