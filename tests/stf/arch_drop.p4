#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (hdr.data.b1 == 1) { mark_to_drop(sm); }
        if (hdr.data.b1 == 2) { sm.egress_spec = 511; }
        if (hdr.data.b1 == 3) { sm.mcast_grp = 1; mark_to_drop(sm); }
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { if (hdr.data.b2 == 1) { mark_to_drop(sm); } }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
