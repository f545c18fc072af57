#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        hdr.data.b2 = hdr.data.f1[15:8];
        hdr.data.f2 = hdr.data.h1 ++ hdr.data.b1 ++ hdr.data.f1[31:24];
        hdr.data.f1[3:0] = 4w0xF;
        hdr.data.h1[15:15] = 1w1;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
