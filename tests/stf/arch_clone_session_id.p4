#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

/* simple_switch keeps the low 15 bits of the session id clone() is given (a 16-bit packet
   register whose top bit says "clone requested"): 0x8005 and 0x10005 both name session 5. */
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        clone(CloneType.I2E, hdr.data.f2);
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { hdr.data.b1 = (bit<8>)sm.instance_type; }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
