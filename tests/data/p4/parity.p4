// Constructs whose P4Info follows p4c: a package with named arguments, @name on the ingress
// control type (ignored: tables stay Ing.*), a table without actions, a table applied only in
// another table's key, and one applied only in a local variable's initializer.
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
@name("renamed")
control Ing(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    action set_b(bit<8> v) { hdr.h.b = v; }
    table no_actions { key = { hdr.h.a: exact; } actions = { } }
    table in_key { key = { hdr.h.a: exact; } actions = { set_b; } }
    table outer { key = { in_key.apply().hit: exact @name("k"); } actions = { set_b; } }
    table in_init { key = { hdr.h.b: exact; } actions = { set_b; } }
    apply {
        sm.egress_spec = 1;
        no_actions.apply();
        outer.apply();
        bool hit = in_init.apply().hit;
        if (hit) { hdr.h.a = 1; }
    }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(vr = Nop(), p = P(), ig = Ing(), eg = Eg(), ck = Nop(), dep = D()) main;
