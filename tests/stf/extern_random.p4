#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<8> fixed;
        bit<8> r;
        random(fixed, 8w42, 8w42);
        random(r, 8w10, 8w12);
        hdr.data.b1 = fixed;
        hdr.data.b2 = (r >= 10 && r <= 12) ? 8w1 : 8w0;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
