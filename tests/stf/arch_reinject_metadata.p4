#include <core.p4>
#include <v1model.p4>
struct metadata {
    @field_list(1) bit<8> seen;
}
#include "data_common.p4"

/* The parser adds 0x10 to a preserved field: simple_switch copies the field list in before
   it parses a resubmitted or recirculated packet again, so the parser sees it. */
parser SeenParser(packet_in pkt, out headers hdr, inout metadata meta,
                  inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        meta.seen = meta.seen + 0x10;
        transition accept;
    }
}

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 0) {
            if (hdr.data.b1 == 0) {
                meta.seen = meta.seen + 1;
                resubmit_preserving_field_list(1);
            }
            sm.egress_spec = 3;
        } else {
            /* simple_switch resets all metadata of a resubmitted or recirculated packet,
               standard metadata too: ingress_port reads 0 (behavioral-model #795) */
            hdr.data.b1 = meta.seen;
            hdr.data.b2 = (bit<8>)sm.ingress_port;
            hdr.data.h1 = (bit<16>)sm.packet_length;
            sm.egress_spec = 2;
        }
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (hdr.data.b1 == 1) {
            meta.seen = meta.seen + 2;
            recirculate_preserving_field_list(1);
        }
    }
}

V1Switch(SeenParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
