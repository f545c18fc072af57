#include <core.p4>
#include <v1model.p4>
/* standard_metadata.priority picks the egress queue; simple_switch drops a packet whose
   priority has no queue ("Priority out of range, dropping packet") */
struct metadata { }
#include "data_common.p4"
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; sm.priority = (bit<3>)hdr.data.b1; }
}
V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
