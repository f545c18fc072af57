#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<8> kind; bit<8> v; }
header extra_t { bit<16> x; }
struct headers { data_t data; extra_t extra; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        transition select(hdr.data.kind) {
            1: more;
            2 &&& 0xFE: accept;
            8..15: accept;
        }
    }
    state more { pkt.extract(hdr.extra); transition accept; }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (sm.parser_error == error.NoMatch) { hdr.data.v = 0xEE; }
        if (hdr.extra.isValid()) { hdr.data.v = 0x11; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.extra); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
