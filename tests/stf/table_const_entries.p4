#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action set(bit<8> v) { hdr.data.b2 = v; sm.egress_spec = 1; }
    table t {
        key = { hdr.data.b1: ternary; }
        actions = { set; NoAction; }
        const entries = {
            0x01 &&& 0x0F : set(1);
            0x11 : set(2);
            _ : set(3);
        }
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
