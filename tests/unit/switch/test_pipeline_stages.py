"""Stages joined in one generated function (parser + verifyChecksum + ingress; egress +
computeChecksum + deparser): a `return` in one control ends that control only, and the next
stage runs. (p4c-bm2-ss allows no `return` in the checksum controls, which hold checksum
calls only, nor an `if` in the deparser: the returns are where a V1Switch program has them.)"""

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<8> x; bit<8> y; bit<8> z; }
struct metadata { bit<8> seen; }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        hdr.a.x = 1;
        if (hdr.a.op == 2) { return; }
        hdr.a.y = 7;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { if (hdr.a.op == 3) { return; } hdr.a.z = 9; }
}
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.a); return; }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_a_return_ends_its_own_control_only():
    core = SwitchCore(compile_source(PROGRAM, "stage_returns.p4"))
    for op, out in [(0, [0, 1, 7, 9]), (1, [1, 1, 7, 9]), (2, [2, 1, 0, 9]), (3, [3, 1, 7, 0])]:
        assert core.process(1, bytes([op, 0, 0, 0]) + b"p", 0) == [(2, bytes(out) + b"p")], op
