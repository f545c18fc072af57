#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    table t {
        key = { hdr.data.f1: exact; }
        actions = { NoAction; }
        default_action = NoAction();
    }
    table u {
        key = { hdr.data.f2: exact; }
        actions = { NoAction; }
        default_action = NoAction();
    }
    apply {
        sm.egress_spec = 1;
        if (t.apply().hit) {
            hdr.data.b1 = 1;
        } else {
            hdr.data.b1 = 2;
        }
        if (u.apply().miss) {
            hdr.data.b2 = 3;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
