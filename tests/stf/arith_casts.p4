#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<8> low = (bit<8>)hdr.data.f1;
        bit<32> zext = (bit<32>)hdr.data.b1;
        int<32> sext = (int<32>)(int<8>)hdr.data.b1;
        bool flag = (bool)hdr.data.b2[0:0];
        bit<1> back = (bit<1>)flag;
        hdr.data.f1 = zext;
        hdr.data.f2 = (bit<32>)sext;
        hdr.data.h1 = low ++ 7w0 ++ back;
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
