#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<16> h16;
        bit<32> h32;
        bit<8> small;
        hash(h16, HashAlgorithm.crc16, 16w0, { hdr.data.f1 }, 17w65536);
        hash(h32, HashAlgorithm.crc32, 32w0, { hdr.data.f1 }, 33w0x100000000);
        hash(small, HashAlgorithm.crc16, 8w10, { hdr.data.f1 }, 16w7);
        hdr.data.h1 = h16;
        hdr.data.f2 = h32;
        hdr.data.b2 = small;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
