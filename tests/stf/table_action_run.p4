#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action a() { hdr.data.b1 = 0xaa; }
    action b() { hdr.data.b1 = 0xbb; }
    action c() { hdr.data.b1 = 0xcc; }
    table t {
        key = { hdr.data.f1: exact; }
        actions = { a; b; c; }
        default_action = c();
    }
    apply {
        sm.egress_spec = 1;
        switch (t.apply().action_run) {
            a: { hdr.data.b2 = 1; }
            b:
            c: { hdr.data.b2 = 2; }
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
