// varbit: a header with a variable-length field, extract(hdr, len), equality and emit.
// The front end accepts it (P4Info as p4c) and the switch runs it.
#include <v1model.p4>
header h_t { bit<8> len; }
header opt_t { varbit<32> data; }
struct hs_t { h_t h; opt_t o; opt_t p; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.h);
        pkt.extract(hdr.o, (bit<32>)hdr.h.len * 8);
        transition accept;
    }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply {
        if (hdr.o.data == hdr.p.data) { sm.egress_spec = 1; }
        hdr.p = hdr.o;
    }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); pkt.emit(hdr.o); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
