#include <core.p4>
#include <v1model.p4>
#include "net_headers.p4"
struct metadata { }
struct headers { ipv4_t ipv4; udp_t udp; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.ipv4); pkt.extract(hdr.udp); transition accept; }
}

control V(inout headers hdr, inout metadata meta) {
    apply {
        verify_checksum_with_payload(hdr.udp.isValid(),
            { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, 8w0, hdr.ipv4.protocol, hdr.udp.length,
              hdr.udp.srcPort, hdr.udp.dstPort, hdr.udp.length },
            hdr.udp.checksum, HashAlgorithm.csum16);
    }
}

control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = (sm.checksum_error == 0) ? 9w1 : 9w2;
        hdr.udp.dstPort = 16w5000;
    }
}

control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }

control C(inout headers hdr, inout metadata meta) {
    apply {
        update_checksum_with_payload(hdr.udp.isValid(),
            { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, 8w0, hdr.ipv4.protocol, hdr.udp.length,
              hdr.udp.srcPort, hdr.udp.dstPort, hdr.udp.length },
            hdr.udp.checksum, HashAlgorithm.csum16);
    }
}

control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.ipv4); pkt.emit(hdr.udp); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
