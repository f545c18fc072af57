// A directionless `int` parameter of a control's apply: its argument is a compile-time
// constant, so comparing it with or assigning it to a bit<W> converts it (p4c accepts this:
// issue3394, where p4c substitutes the constant); casting a bit<W> to int.
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control Step(int k, inout bit<8> b) {
    apply {
        if (b == k) { b = k + 8w100; } else { b = 1 + k; }
    }
}
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        Step.apply(3, hdr.data.b1);
        Step.apply(7, hdr.data.b2);
        // a cast to int (p4c accepts it: parser-unroll-test1) computes without overflow
        hdr.data.h1 = (bit<16>)((int)hdr.data.b1 + 1000);
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
