#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<8> a = hdr.data.b1;
        bit<8> b = hdr.data.b2;
        int<8> sa = (int<8>)a;
        int<8> sb = (int<8>)b;
        hdr.data.f1 = (a |+| b) ++ 24w0;
        hdr.data.f1[7:0] = a |-| b;
        hdr.data.f2 = 16w0 ++ (bit<8>)(sa |+| sb) ++ (bit<8>)(sa |-| sb);
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
