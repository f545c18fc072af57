// Direct type invocation: Inner.apply() in a control (p4c makes an instance Inner_inst with
// @name("Inner"), so its table is C.Inner.t), Sub.apply() in a parser when SUBPARSER is defined.
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser Sub(packet_in pkt, out h_t h) { state start { pkt.extract(h); transition accept; } }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
#ifdef SUBPARSER
    state start { Sub.apply(pkt, hdr.h); transition accept; }
#else
    state start { pkt.extract(hdr.h); transition accept; }
#endif
}
control Inner(inout bit<8> v) {
    action inc() { v = v + 1; }
    table t { actions = { inc; } default_action = inc(); }
    apply { t.apply(); }
}
control Inner2(inout bit<8> v) { apply { Inner.apply(v); } }
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; Inner.apply(hdr.h.a); Inner2.apply(hdr.h.b); }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
