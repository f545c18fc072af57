#include <core.p4>
#include <v1model.p4>
struct metadata {
    @field_list(2) bit<8> tag;
    bit<8> lost;
}
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        meta.tag = hdr.data.b1 + 1;
        meta.lost = 0x55;
        clone_preserving_field_list(CloneType.I2E, 32w4, 2);
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 1) {
            hdr.data.b1 = meta.tag;
            hdr.data.b2 = meta.lost;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
