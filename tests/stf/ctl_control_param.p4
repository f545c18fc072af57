// A constructor parameter of control type (p4c accepts it: issue1566-bmv2, issue496,
// issue2844-enum): `Twice(c1) t` makes `c.apply()` in Twice apply the instance c1; both
// users share c1's counter, named where c1 is declared (p4c's P4Info: cIngress.E.c1.stats).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control step_t(inout bit<8> x);
control AddOne(inout bit<8> x) {
    counter(4, CounterType.packets) hits;
    apply { x = x + 1; hits.count(0); }
}
control Twice(inout bit<8> x)(step_t c) {
    apply { c.apply(x); c.apply(x); }
}
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    AddOne() one;
    Twice(one) twice;
    apply {
        sm.egress_spec = 1;
        twice.apply(hdr.data.b1);
        one.apply(hdr.data.b2);
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
