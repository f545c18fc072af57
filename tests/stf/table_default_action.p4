#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action set(bit<8> v) { hdr.data.b2 = v; sm.egress_spec = 1; }
    action other(bit<8> v) { hdr.data.b1 = v; sm.egress_spec = 2; }
    table t {
        key = { hdr.data.f1: exact; }
        actions = { set; other; }
        default_action = set(0x33);
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
