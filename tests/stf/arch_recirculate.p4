#include <core.p4>
#include <v1model.p4>
struct metadata {
    @field_list(3) bit<8> passes;
}
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        hdr.data.b2 = hdr.data.b2 + 1;
        if (sm.instance_type == 4) {
            hdr.data.b1 = meta.passes;
            sm.egress_spec = 3;
        }
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (meta.passes == 0) {
            hdr.data.f1 = 32w0x0000BEEF;   // kept: recirculation takes the deparsed packet
            meta.passes = 77;
            recirculate_preserving_field_list(3);
        } else {
            // simple_switch resets instance_type to NORMAL when it enqueues a unicast packet
            hdr.data.h1 = (bit<16>)sm.instance_type;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
