#include <core.p4>
#include <v1model.p4>
struct metadata { }
header h_t { bit<8> v; }
header op_t { bit<8> op; }
struct headers { op_t op; h_t[3] s; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.op);
        pkt.extract(hdr.s[0]);
        pkt.extract(hdr.s[1]);
        transition accept;
    }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.op.op == 1) {
            hdr.s.push_front(1);
            hdr.s[0].setValid();
            hdr.s[0].v = 0xAA;
        } else if (hdr.op.op == 2) {
            hdr.s.pop_front(1);
        } else {
            hdr.s[1].setInvalid();
            hdr.s[2].setValid();
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.op); pkt.emit(hdr.s); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
