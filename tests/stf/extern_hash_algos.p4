// max 2^16 keeps every 16-bit hash whole (max 0 would give the base: p4c's v1model.p4, BMv2)
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<16> id;
        bit<16> cs;
        bit<16> x;
        hash(id, HashAlgorithm.identity, 16w0, { hdr.data.b1, hdr.data.b2 }, 32w0x10000);
        hash(cs, HashAlgorithm.csum16, 16w0, { hdr.data.f1 }, 32w0x10000);
        hash(x, HashAlgorithm.xor16, 16w0, { hdr.data.f1 }, 32w0x10000);
        hdr.data.h1 = id;
        hdr.data.f2 = cs ++ x;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
