#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    meter(32w1, MeterType.packets) m;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t {
        key = { hdr.data.b1: ternary; }
        actions = { fwd; NoAction; }
        default_action = NoAction();
    }
    apply {
        t.apply();
        m.execute_meter(32w0, hdr.data.b2);
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
