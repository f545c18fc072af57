#include <core.p4>
#include <v1model.p4>
struct metadata { }
header label_t { bit<7> v; bit<1> bos; }
header tail_t { bit<8> t; }
struct headers { label_t[3] labels; tail_t tail; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.labels.next);
        transition select(hdr.labels.last.bos) { 1: tail; default: start; }
    }
    state tail {
        pkt.extract(hdr.tail);
        hdr.tail.t = (bit<8>)hdr.labels.lastIndex;  // lastIndex: in parsers only (p4c)
        transition accept;
    }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (sm.parser_error == error.StackOutOfBounds) {
            sm.egress_spec = 2;
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.labels); pkt.emit(hdr.tail); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
