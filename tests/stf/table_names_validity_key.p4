#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<8> b1; bit<8> b2; }
header extra_t { bit<8> x; }
struct headers { data_t data; extra_t extra; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        transition select(hdr.data.b1) { 1: more; default: accept; }
    }
    state more { pkt.extract(hdr.extra); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    @name("set_out") action set(bit<9> port) { sm.egress_spec = port; }
    @name(".global_table") table t {
        key = { hdr.extra.isValid(): exact @name("has_extra"); hdr.data.b2: exact; }
        actions = { set; NoAction; }
        default_action = NoAction();
    }
    apply { t.apply(); }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.extra); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
