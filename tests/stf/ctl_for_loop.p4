// Three-clause for loops (P4-16 v1.2.4; p4c accepts them in controls and actions:
// forloop-bmv2, issue4739, loop-3-clause-tricky2): init declarations scoped to the loop,
// break, continue (which still runs the update clause), nested loops, a loop variable that
// wraps; a loop that never ends is cut off and the packet dropped (BMv2 would hang).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header d_t { bit<8> n; bit<8> sum; bit<8> odd; bit<8> prod; bit<8> wrap; }
struct headers { d_t d; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.d); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action products() {
        hdr.d.prod = 0;
        for (bit<8> i = 0; i < hdr.d.n; i = i + 1) {
            for (bit<8> j = 0; j < hdr.d.n; j = j + 1) {
                hdr.d.prod = hdr.d.prod + 1;
            }
        }
    }
    apply {
        sm.egress_spec = 1;
        hdr.d.sum = 0;
        for (bit<8> i = 1; i <= hdr.d.n; i = i + 1) {
            if (i == 6) { break; }           // sums 1..min(n, 5)
            hdr.d.sum = hdr.d.sum + i;
        }
        hdr.d.odd = 0;
        for (bit<8> i = 0; i < 10; i = i + 1) {
            if (i & 1 == 0) { continue; }    // the update still runs
            hdr.d.odd = hdr.d.odd + 1;
        }
        products();
        bit<3> k;
        for (k = 0; k < 7; k = k + 3) { }    // 0, 3, 6, then 9 wraps to 1, 4, 7
        hdr.d.wrap = (bit<8>)k;
        if (hdr.d.n == 0xFF) {
            for (bit<8> i = 0; i >= 0; i = i + 1) { }  // always true for bit<8>
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
