#include <core.p4>
#include <v1model.p4>
struct metadata { bit<8> peeked; }
header a_t { bit<8> kind; bit<8> v; }
header b_t { bit<16> w; }
struct headers { a_t a; b_t b; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        meta.peeked = pkt.lookahead<bit<8>>();
        transition select(pkt.lookahead<bit<8>>()) {
            0xAA: skip;
            default: plain;
        }
    }
    state skip {
        pkt.advance(16);
        pkt.extract(hdr.b);
        transition accept;
    }
    state plain {
        pkt.extract(hdr.a);
        transition accept;
    }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = (bit<9>)meta.peeked;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); pkt.emit(hdr.b); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
