// A table applied in an operand that && || ?: evaluate only sometimes is applied only when
// that operand is evaluated (P4-16 short-circuit evaluation; p4c's
// gauntlet_exit_combination_19/22-bmv2 STF expect it from BMv2).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action mark(bit<8> v) { hdr.data.b2 = hdr.data.b2 + v; }
    table t {
        key = { hdr.data.b1: exact; }
        actions = { mark; NoAction; }
        const entries = { 1 : mark(1); 2 : mark(2); }
        default_action = mark(0x10);
    }
    table u {
        key = { hdr.data.b1: exact; }
        actions = { mark; NoAction; }
        const entries = { 3 : mark(0x40); }
        default_action = mark(0x20);
    }
    apply {
        sm.egress_spec = 1;
        // t runs only when h1 != 0; u only when t did not hit; the ?: picks the port
        bool ok = hdr.data.h1 != 0 && (t.apply().hit || u.apply().hit);
        sm.egress_spec = ok ? 9w2 : (hdr.data.h1 == 7 ? 9w3 : 9w1);
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
