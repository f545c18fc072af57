/* verify_checksum whose checksum field's header is invalid: BMv2 skips it (no checksum_error). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<32> f1; bit<32> f2; bit<16> h1; bit<8> b1; bit<8> b2; }
header opt_t { bit<4> a; bit<12> b; bit<16> ck; }
struct headers { data_t data; opt_t opt; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data);
        transition select(hdr.data.b1) { 1: o; default: accept; } }
    state o { pkt.extract(hdr.opt); transition accept; }
}
control V(inout headers hdr, inout metadata meta) {
    apply { verify_checksum(true, { hdr.opt.a, hdr.opt.b }, hdr.opt.ck, HashAlgorithm.csum16); }
}
control NoCompute(inout headers hdr, inout metadata meta) { apply { } }
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; hdr.data.b2 = (bit<8>)sm.checksum_error; }
}
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.opt); } }
V1Switch(P(), V(), MyIngress(), MyEgress(), NoCompute(), D()) main;
