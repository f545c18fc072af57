#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        hdr.data.f1 = sm.packet_length;
        hdr.data.b1 = (bit<8>)sm.ingress_port;
        hdr.data.b2 = (bit<8>)sm.instance_type;
        hdr.data.h1 = (bit<8>)sm.egress_spec ++ 7w0 ++ (bit<1>)(sm.parser_error == error.NoError);
        sm.egress_spec = sm.ingress_port + 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { hdr.data.f2 = (bit<32>)sm.egress_port; }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
