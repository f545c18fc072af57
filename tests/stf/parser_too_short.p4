#include <core.p4>
#include <v1model.p4>
#include "net_headers.p4"
struct metadata { }
struct headers { ethernet_t ethernet; ipv4_t ipv4; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) { 0x0800: ipv4; default: accept; }
    }
    state ipv4 { pkt.extract(hdr.ipv4); transition accept; }
}

control V(inout headers hdr, inout metadata meta) { apply { } }

control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        // the packet continues into ingress: record the error and ipv4 validity
        sm.egress_spec = 1;
        if (sm.parser_error == error.PacketTooShort) {
            hdr.ethernet.dstAddr = 48w0xEEEEEEEEEEEE;
        }
        if (!hdr.ipv4.isValid()) {
            hdr.ethernet.srcAddr = 48w0x0000000000FF;
        }
    }
}

control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.ethernet); pkt.emit(hdr.ipv4); }
}

V1Switch(P(), V(), I(), E(), C(), D()) main;
