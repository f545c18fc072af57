#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets) dc;
    direct_meter<bit<8>>(MeterType.packets) dm;
    action fwd(bit<9> port) {
        sm.egress_spec = port;
        dc.count();
        dm.read(hdr.data.b2);
    }
    table t {
        key = { hdr.data.b1: exact; }
        actions = { fwd; NoAction; }
        counters = dc;
        meters = dm;
        default_action = NoAction();
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
