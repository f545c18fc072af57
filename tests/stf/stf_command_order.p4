#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action fwd(bit<9> port, bit<8> tag) { sm.egress_spec = port; hdr.data.b2 = tag; }
    table t {
        key = { hdr.data.f1: exact; }
        actions = { fwd; NoAction; }
        default_action = NoAction();
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
