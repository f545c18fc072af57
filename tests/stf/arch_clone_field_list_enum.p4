#include <core.p4>
#include <v1model.p4>

/* A field list named by a serializable enum's member, as issue1001-1-bmv2 and
   switch_p4_16 in p4c's corpus name theirs; the same list by its number. */
enum bit<8> FieldLists {
    none = 0,
    mirror = 3
}

struct metadata {
    @field_list(FieldLists.mirror) bit<8> tag;
    @field_list(3) bit<8> also;
    @field_list(FieldLists.none) bit<8> lost;
}

#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        meta.tag = hdr.data.b1 + 1;
        meta.also = 0x77;
        meta.lost = 0x55;
        clone_preserving_field_list(CloneType.I2E, 32w4, FieldLists.mirror);
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 1) {
            hdr.data.b1 = meta.tag;
            hdr.data.b2 = meta.also;
            hdr.data.h1 = (bit<16>)meta.lost;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
