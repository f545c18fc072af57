#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

// A group that lost its members: simple_switch's lookup hits the entry and runs no action
// (its empty_action); the table's only action is not run either.
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action_selector(HashAlgorithm.crc16, 32w64, 32w16) sel;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t {
        key = { hdr.data.b1: exact; hdr.data.f1: selector; }
        actions = { fwd; }
        implementation = sel;
    }
    apply {
        if (t.apply().hit) {
            hdr.data.b2 = 1;
        } else {
            hdr.data.b2 = 2;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
