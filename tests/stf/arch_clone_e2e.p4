#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 0) {
            hdr.data.f1 = 32w0xAAAAAAAA;   // egress changes are in the E2E clone
            clone(CloneType.E2E, 32w3);
        }
        hdr.data.b1 = (bit<8>)sm.instance_type;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
