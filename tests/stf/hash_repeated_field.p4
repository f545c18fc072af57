/* A data list naming one field twice hashes both copies (crc32 of x ++ x). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<16> x; bit<16> y; bit<32> r1; bit<32> r2; }
struct headers { data_t data; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control NoVerify(inout headers hdr, inout metadata meta) { apply { } }
control NoCompute(inout headers hdr, inout metadata meta) { apply { } }
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        // same field twice: data = x ++ x
        hash(hdr.data.r1, HashAlgorithm.crc32, 32w0, { hdr.data.x, hdr.data.x }, 33w0x100000000);
        // reference: the same bytes from two different sources
        bit<16> t = hdr.data.x;
        hash(hdr.data.r2, HashAlgorithm.crc32, 32w0, { hdr.data.x, t }, 33w0x100000000);
    }
}
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); } }
V1Switch(P(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), D()) main;
