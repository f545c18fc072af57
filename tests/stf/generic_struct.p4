// Generic structs and headers (P4-16 v1.2.2; p4c accepts them: issue4835-generic-struct):
// each use `pair_t<bit<8>>` is one concrete type, extracted, read and emitted like any.
#include <core.p4>
#include <v1model.p4>
header pair_t<T> { T first; T second; }
struct headers_t<T> { pair_t<T> p; }
struct metadata { }

parser P(packet_in pkt, out headers_t<bit<8>> hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.p); transition accept; }
}
control V(inout headers_t<bit<8>> hdr, inout metadata meta) { apply { } }
control I(inout headers_t<bit<8>> hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        pair_t<bit<8>> swapped = { hdr.p.second, hdr.p.first };
        hdr.p = swapped;
    }
}
control E(inout headers_t<bit<8>> hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers_t<bit<8>> hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers_t<bit<8>> hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
