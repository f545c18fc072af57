// @priority on const entries as p4c's BMv2 back end and BMv2 treat them: an entry without
// the annotation has its 1-based position as priority, and the smallest value wins
// (p4c backends/bmv2/common/control.h convertTableEntries; p4c's bmv2stf.py inverts STF
// priorities because BMv2's smaller value wins). Entries of equal value: program order
// (not confirmed in BMv2's source).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action set(bit<8> v) { hdr.data.b2 = v; sm.egress_spec = 1; }
    table t {
        key = { hdr.data.b1: ternary; }
        actions = { set; NoAction; }
        const entries = {
            0x01 &&& 0x0F : set(1) @priority(5);   // position 1, but priority 5
            0x11 : set(2);                         // priority 2 (its position)
            0x10 &&& 0xF0 : set(3) @priority(1);   // wins over both where they overlap
            _ : set(4) @priority(3);               // beats entry 1 (5), loses to entry 2 (2)
        }
    }
    apply { t.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
