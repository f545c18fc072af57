#include <core.p4>
#include <v1model.p4>
error { BadVersion }
struct metadata { }
header v_t { bit<4> version; bit<4> x; bit<8> y; }
header w_t { bit<8> z; }
struct headers { v_t v; w_t w; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.v);
        verify(hdr.v.version == 4, error.BadVersion);
        pkt.extract(hdr.w);
        transition accept;
    }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (sm.parser_error == error.BadVersion) { sm.egress_spec = 2; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.v); pkt.emit(hdr.w); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
