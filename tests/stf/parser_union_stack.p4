// A stack of header unions: extract into s[i].member and into s.next.member (which moves
// `next`, as BMv2 does for a union stack: behaviour seen in p4c's issue561 STF expectations,
// not confirmed in BMv2's source), validity per member, emit in member order, pop_front.
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header tag_t { bit<8> kind; }
header one_t { bit<8> a; }
header two_t { bit<16> b; }
header_union u_t { one_t one; two_t two; }
struct headers { tag_t tag; u_t[2] u; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.tag);
        transition select(hdr.tag.kind) { 0: indexed; 1: next_one_two; default: accept; }
    }
    state indexed { pkt.extract(hdr.u[0].two); pkt.extract(hdr.u[1].one); transition accept; }
    state next_one_two { pkt.extract(hdr.u.next.one); pkt.extract(hdr.u.next.two); transition accept; }
}

control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.u[0].one.isValid()) { hdr.u[0].one.a = 0xAA; }
        if (hdr.u[1].two.isValid()) { hdr.u[1].two.b = 0xBBBB; }
        if (hdr.u[1].isValid() && hdr.tag.kind == 1) { sm.egress_spec = 2; }
        if (hdr.u[0].two.isValid()) { hdr.u.pop_front(1); }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
