// Compound assignments (lowered to plain assignments by the front end), incl. saturating and >>=.
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; hdr.h.a += 3; hdr.h.b >>= 1; hdr.h.c |+|= 250; hdr.h.d <<= 2; hdr.h.d ^= 1; }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
