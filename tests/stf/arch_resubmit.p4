#include <core.p4>
#include <v1model.p4>
struct inner_t {
    @field_list(1) bit<16> kept;
    bit<16> dropped;
}
struct metadata {
    @field_list(1) bit<8> rounds;
    bit<8> not_kept;
    inner_t inner;
}
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 0) {
            meta.rounds = 41;
            meta.not_kept = 9;
            meta.inner.kept = 0x0102;
            meta.inner.dropped = 0x0304;
            hdr.data.f1 = 32w0xFFFFFFFF;   // lost: resubmit restarts from the original packet
            resubmit_preserving_field_list(1);
        } else {
            hdr.data.b1 = (bit<8>)sm.instance_type;
            hdr.data.b2 = meta.rounds + 1;
            hdr.data.h1 = (bit<16>)meta.not_kept;
            hdr.data.f2 = meta.inner.kept ++ meta.inner.dropped;
            sm.egress_spec = 2;
        }
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
