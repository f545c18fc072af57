#include <core.p4>
#include <v1model.p4>
struct metadata {
    bit<8> parsed;
}
#include "data_common.p4"

parser MarkParser(packet_in pkt, out headers hdr, inout metadata meta,
                  inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        meta.parsed = 0x5A;
        transition accept;
    }
}

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        clone(CloneType.I2E, 32w4);
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        /* a clone's metadata is new: ingress_port 0 and the parser's write gone (an I2E
           clone is parsed again, then simple_switch resets all its metadata) */
        hdr.data.b1 = (bit<8>)sm.ingress_port;
        hdr.data.b2 = meta.parsed;
        hdr.data.h1 = (bit<16>)sm.instance_type;
        if (sm.instance_type == 0) {
            clone(CloneType.E2E, 32w3);
        }
    }
}

V1Switch(MarkParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
