#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        hdr.data.f2 = hdr.data.f1 * 3;
        hdr.data.h1 = hdr.data.h1 + 1;
        hdr.data.b2 = hdr.data.b1 - 5;
        hdr.data.b1 = -hdr.data.b1;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
