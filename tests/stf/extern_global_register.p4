#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

// a top-level instance shared by ingress and egress
register<bit<32>>(4) last_seen;

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<32> prev;
        last_seen.read(prev, 0);
        hdr.data.f2 = prev;
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { last_seen.write(0, hdr.data.f1); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
