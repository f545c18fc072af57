// A table keyed on an `error` value (p4c accepts it: issue1062-1-bmv2; it gives no P4Info
// for the key, so only program entries can match it).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action port(bit<9> p) { sm.egress_spec = p; }
    table by_error {
        key = { sm.parser_error: exact; }
        actions = { port; }
        const entries = { error.NoError : port(1); error.PacketTooShort : port(2); }
        default_action = port(3);
    }
    apply { by_error.apply(); }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
