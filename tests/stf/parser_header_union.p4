#include <core.p4>
#include <v1model.p4>
struct metadata { }
header kind_t { bit<8> k; }
header a_t { bit<8> x; }
header b_t { bit<16> y; }
header_union u_t { a_t a; b_t b; }
struct headers { kind_t kind; u_t u; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.kind);
        transition select(hdr.kind.k) { 1: pa; 2: pb; default: accept; }
    }
    state pa { pkt.extract(hdr.u.a); transition accept; }
    state pb { pkt.extract(hdr.u.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = hdr.u.isValid() ? 9w1 : 9w2;
        if (hdr.u.a.isValid() && hdr.u.a.x == 0xFF) {
            hdr.u.b.setValid();          // makes u.a invalid
            hdr.u.b.y = 0xBBBB;
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.kind); pkt.emit(hdr.u); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
