// Struct-typed header fields (P4-16: a header field may be a struct of bit fields; p4c's
// bvec-hdr-bmv2 keys a table on one): the struct's fields are bits of the header, read and
// written in place, as a table key, and the struct read whole into a local (its field `n`
// once collided with a name in the generated struct class).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
struct pair_t { bit<4> hi; bit<4> lo; bool flag; bit<7> n; }
header h_t { bit<8> a; pair_t p; bit<8> z; }
struct headers { h_t h; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action port(bit<9> p) { sm.egress_spec = p; }
    table by_hi {
        key = { hdr.h.p.hi: exact; }
        actions = { port; }
        const entries = { 1 : port(2); }
        default_action = port(1);
    }
    apply {
        by_hi.apply();
        pair_t copy = hdr.h.p;
        hdr.h.z = (bit<8>)copy.lo + (bit<8>)copy.n;
        if (hdr.h.p.flag) { hdr.h.p.lo = 0xF; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
