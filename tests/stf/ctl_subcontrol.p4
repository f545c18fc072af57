#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control Counter(inout bit<8> value, in bit<8> step) {
    action bump() { value = value + step; }
    table steps {
        key = { step: exact; }
        actions = { bump; NoAction; }
        default_action = NoAction();
    }
    apply { steps.apply(); }
}

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    Counter() first;
    Counter() second;
    action add_out(in bit<8> a, out bit<8> r) { r = a + 1; }
    apply {
        first.apply(hdr.data.b1, 8w1);
        second.apply(hdr.data.b1, 8w2);
        add_out(hdr.data.b1, hdr.data.b2);
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
