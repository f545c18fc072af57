// Action inout/out arguments are copied in and out (P4-16 calling convention): a write
// through the argument's own path does not show in the parameter and is overwritten by the
// copy-out; `exit` inside the action still copies out (as p4c's issue2225-bmv2 and
// gauntlet_indirect_hdr_assign_1-bmv2 STF expect from BMv2).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action through_copy(inout data_t d) {
        hdr.data.b1 = 0xEE;    // lost: the copy-out of d rewrites hdr.data
        d.b2 = d.b1 + 1;       // d.b1 is the value copied in
    }
    action set_and_exit(out bit<8> v) {
        v = 0x5A;
        exit;
    }
    apply {
        sm.egress_spec = 1;
        if (hdr.data.h1 == 1) {
            through_copy(hdr.data);
        } else {
            set_and_exit(hdr.data.b2);
        }
        hdr.data.b1 = 0x99;    // not reached after exit
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
