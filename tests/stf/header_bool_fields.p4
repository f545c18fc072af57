// bool header fields take one bit each (P4-16 spec: a bool in a header is 1 bit; p4c's
// header-bool-bmv2 STF expects 7 bit<1>/bool fields + 1 more bit to make a byte), and
// lookahead<T>() of a struct of bit fields (p4c issue1768-bmv2 peeks a struct).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header flags_t { bool x; bit<3> n; bool y; bit<3> m; }
header tail_t { bit<8> t; }
struct peek_t { bit<4> hi; bit<4> lo; }
struct headers { flags_t f; tail_t tail; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        peek_t p = pkt.lookahead<peek_t>();
        pkt.extract(hdr.f);
        transition select(p.lo) { 0xF: accept; default: more; }
    }
    state more { pkt.extract(hdr.tail); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.f.x) { hdr.f.y = true; } else { hdr.f.y = false; }
        if (hdr.tail.isValid()) { hdr.tail.t = (bit<8>)hdr.f.n; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
