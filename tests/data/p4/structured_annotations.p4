// Structured annotations `@x[...]` print in P4Info as p4c prints them (its
// structured_annotations sample): an expression list or key=value pairs, constant
// expressions folded (5+6 -> 11, 1==2 -> false), on a table and on its action references.
// A free-form body may hold characters P4 has no token for (p4c's free-form-annotation).
#include <core.p4>
#include <v1model.p4>
#define LIMIT 6
@note(That's free-form: `quoted` $text)
header h_t { bit<8> a; }
struct headers { h_t h; }
struct metadata { }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action set(bit<9> p) { sm.egress_spec = p; }
    @Limits[1, "two", true, 1 == 2, 5 + LIMIT, -3]
    @Owner[team="fabric", oncall=false, weight=2*3]
    table t {
        key = { hdr.h.a: exact; }
        actions = { @Kind["forward"] set; NoAction; }
    }
    apply { t.apply(); }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
