// A function call in a parser's or control's local variable initializer (p4c accepts it:
// issue1538, issue2488-bmv2): it runs when the block starts, in declaration order, and
// later initializers see its result.
#include <core.p4>
#include <v1model.p4>
struct metadata { bit<8> seen; }
header d_t { bit<8> a; bit<8> b; bit<8> c; }
struct headers { d_t d; }

bit<8> twice(in bit<8> v) { return v + v; }
// core.p4's static_assert as a constant and as a statement (p4c: issue3531)
const bool checked = static_assert(V1MODEL_VERSION >= 20180101, "v1model too old");
bit<8> take(inout bit<8> v) { bit<8> old = v; v = 0; return old; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    bit<8> start_port = twice((bit<8>)sm.ingress_port);
    state start {
        pkt.extract(hdr.d);
        meta.seen = start_port;
        transition accept;
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    bit<8> old_a = take(hdr.d.a);
    bit<8> sum = old_a + 1;
    apply {
        static_assert(checked);
        sm.egress_spec = 1;
        hdr.d.b = sum;
        hdr.d.c = meta.seen;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
