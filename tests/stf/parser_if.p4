// `if` statements inside parser states (allowed since P4-16 v1.2.2; p4c accepts them, e.g.
// its parser-if.p4 sample; BMv2 runs them after p4c splits the state, which we need not).
#include <core.p4>
#include <v1model.p4>
struct metadata { bit<8> kind; }
header a_t { bit<8> flags; bit<8> v; }
header b_t { bit<8> w; }
struct headers { a_t a; b_t b; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        if (hdr.a.flags == 1) {
            meta.kind = 1;
            pkt.extract(hdr.b);
        } else if (hdr.a.flags == 2) {
            meta.kind = 2;
        } else {
            meta.kind = 3;
        }
        transition select(meta.kind) { 2: accept; default: last; }
    }
    state last {
        if (hdr.b.isValid()) { hdr.b.w = hdr.b.w + 1; }
        transition select() { default: accept; }  // no keys (p4c accepts it: issue1291-bmv2)
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = (bit<9>)meta.kind; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
