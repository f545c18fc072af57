// A tuple type (typedef) as the data of a hash computed in the ingress control (the front end
// accepts it; the switch rejects tuple-typed variables at pipeline build).
#include <v1model.p4>
typedef tuple<bit<8>, bit<16>> pair_t;
header h_t { bit<8> a; bit<16> b; bit<16> c; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        pair_t p = { hdr.h.a, hdr.h.b };
        hash(hdr.h.c, HashAlgorithm.csum16, 16w0, p, 17w65536);
    }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
