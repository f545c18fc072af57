#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action early(bit<8> v) {
        hdr.data.b2 = v;
        return;
    }
    table t {
        key = { hdr.data.b1: exact; }
        actions = { early; NoAction; }
        default_action = NoAction();
    }
    apply {
        sm.egress_spec = 1;
        t.apply();
        if (hdr.data.b1 == 1) {
            exit;
        }
        if (hdr.data.b1 == 2) {
            hdr.data.h1 = 0x2222;
            return;
        }
        hdr.data.h1 = 0x3333;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
