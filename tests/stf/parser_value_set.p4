#include <core.p4>
#include <v1model.p4>
struct metadata { }
header eth_t { bit<16> type; }
header tag_t { bit<16> tag; }
struct headers { eth_t eth; tag_t tag; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    value_set<bit<16>>(4) tagged_types;
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            tagged_types: tag;
            default: accept;
        }
    }
    state tag { pkt.extract(hdr.tag); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = hdr.tag.isValid() ? 9w2 : 9w1; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.tag); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
