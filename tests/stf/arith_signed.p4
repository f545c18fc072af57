#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        int<8> s = (int<8>)hdr.data.b1;
        int<8> t = (int<8>)hdr.data.b2;
        int<16> wide = (int<16>)s;
        hdr.data.h1 = (bit<16>)wide;
        hdr.data.f1 = (s < t) ? 32w1 : 32w0;
        hdr.data.f2 = (bit<32>)((int<32>)s * -3);
        hdr.data.b1 = (bit<8>)(s >> 2);
        hdr.data.b2 = (bit<8>)(s + t);
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
