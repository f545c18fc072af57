// Functions (inlined by the front end): early returns, out/inout parameters, calls nested in
// expressions and conditions, in actions, in parser states, and a function calling a function.
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }

bit<8> max(in bit<8> l, in bit<8> r) {
    if (l > r) {
        return l;
    }
    return r;
}
bit<8> twice(bit<8> v) { return v + v; }
void split(in bit<8> v, out bit<8> hi, out bit<8> lo) { hi = v >> 4; lo = v & 0xf; }
void bump(inout bit<8> v) { v = v + 1; }
bit<8> max3(bit<8> p, bit<8> q, bit<8> s) { bit<8> m = max(p, q); return max(m, s); }

parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); meta.x = twice(hdr.h.d); transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    action set_c() { hdr.h.c = max(hdr.h.a, hdr.h.b); }
    apply {
        sm.egress_spec = 1;
        set_c();
        if (max3(hdr.h.a, hdr.h.b, 8w5) == 8w5) {
            split(hdr.h.a, hdr.h.a, hdr.h.b);
        }
        bump(hdr.h.c);
        hdr.h.d = meta.x;
    }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
