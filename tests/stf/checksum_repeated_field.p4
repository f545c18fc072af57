/* A checksum data list naming one field twice sums it twice (csum16). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<16> x; bit<16> y; bit<16> ck; bit<16> ck2; }
struct headers { data_t data; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control NoVerify(inout headers hdr, inout metadata meta) { apply { } }
control C(inout headers hdr, inout metadata meta) {
    apply {
        update_checksum(true, { hdr.data.x, hdr.data.x }, hdr.data.ck, HashAlgorithm.csum16);
        update_checksum(true, { hdr.data.y, hdr.data.x }, hdr.data.ck2, HashAlgorithm.csum16);
    }
}
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { sm.egress_spec = 1; } }
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); } }
V1Switch(P(), NoVerify(), MyIngress(), MyEgress(), C(), D()) main;
