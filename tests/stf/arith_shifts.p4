#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<8> n = hdr.data.b2;
        int<8> s = (int<8>)hdr.data.b1;
        hdr.data.f1 = hdr.data.f1 << n;
        hdr.data.f2 = hdr.data.f2 >> n;
        hdr.data.h1 = (hdr.data.b1 << 8) ++ (bit<8>)(s >> n);
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
