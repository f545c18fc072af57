#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<32>>(16) r;
    apply {
        bit<32> old;
        r.read(old, (bit<32>)hdr.data.b1);
        r.write((bit<32>)hdr.data.b1, old + hdr.data.f1);
        hdr.data.f2 = old;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
