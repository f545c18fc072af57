#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    meter(32w4, MeterType.packets) m;
    apply {
        bit<8> colour;
        m.execute_meter((bit<32>)hdr.data.b1, colour);
        hdr.data.b2 = colour;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
