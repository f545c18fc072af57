// Arrays of bits in headers (`bit<8>[4] a;` and C-style `bit<8> a[4];`, P4-16 v1.2.4; p4c
// accepts both: array1, array2) and `e[lo +: w]` slices: the elements are bits of the
// header, element 0 first on the wire (assumed: no p4c STF shows the order), indexed by
// constants (a runtime index is refused in one line).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header d_t { bit<16> w; bit<8>[4] a; bit<4> b[2]; }
struct headers { d_t d; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.d); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        hdr.d.a[3] = hdr.d.w[0 +: 8];
        hdr.d.a[2] = hdr.d.w[8 +: 8];
        hdr.d.b[1] = hdr.d.a[0][3:0] + hdr.d.b[0];
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
