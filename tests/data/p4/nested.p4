// Nested instances: a sub-parser and a sub-control with a constructor parameter (P4Info names
// its objects by instance path: C.one.t, as p4c does).
#include <v1model.p4>
header h_t { bit<8> a; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser Sub(packet_in pkt, out h_t h) { state start { pkt.extract(h); transition accept; } }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    Sub() sub;
    state start { sub.apply(pkt, hdr.h); transition accept; }
}
control Inner(inout hs_t hdr, inout m_t meta)(bit<8> v) {
    counter(4, CounterType.packets) c;
    action set() { meta.x = v; c.count(0); }
    table t { key = { meta.x: exact; } actions = { set; } }
    apply { t.apply(); }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    Inner(1) one;
    apply { one.apply(hdr, meta); }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
