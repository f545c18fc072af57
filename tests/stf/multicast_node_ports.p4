#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

/* A multicast node's ports are a bitmap in simple_switch's PRE: a port listed twice gets one
   copy. */
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.mcast_grp = 1; }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { hdr.data.b1 = (bit<8>)sm.egress_rid; }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
