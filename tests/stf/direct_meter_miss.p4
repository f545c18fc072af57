/* direct_meter read on a table miss: the destination keeps its value (BMv2 meters a hit only). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "include/data_common.p4"
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    direct_meter<bit<8>>(MeterType.packets) dm;
    action m() { dm.read(hdr.data.b2); }
    table t {
        key = { hdr.data.b1 : exact; }
        actions = { m; }
        default_action = m();
        meters = dm;
    }
    apply { sm.egress_spec = 1; t.apply(); }
}
V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
