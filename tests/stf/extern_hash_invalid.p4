#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<32> out1; bit<32> out2; bit<8> b; bit<8> more; }
header opt_t { bit<8> x; }
struct headers { data_t data; opt_t opt; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        transition select(hdr.data.more) { 1: opt; default: accept; }
    }
    state opt { pkt.extract(hdr.opt); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        // fields of an invalid header add no bytes to the hashed data (BMv2's BufBuilder)
        hash(hdr.data.out1, HashAlgorithm.crc32, 32w0, { hdr.opt.x, hdr.data.b }, 33w0x100000000);
        // 4 + 8 bits are packed left-aligned and padded with zero bits: 0xAB 0xC0
        hash(hdr.data.out2, HashAlgorithm.identity, 32w0, { 4w0xA, hdr.data.b }, 33w0x100000000);
        sm.egress_spec = 1;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.opt); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
