#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action_selector(HashAlgorithm.crc16, 32w64, 32w16) sel;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t {
        key = { hdr.data.b1: exact; hdr.data.f1: selector; hdr.data.f2: selector; }
        actions = { fwd; NoAction; }
        implementation = sel;
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
